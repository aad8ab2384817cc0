"""Rate limits, retries and their limits, and keeping the access token out of logs and errors."""
import http.client
import logging

import pytest
import requests
import responses
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from plugin.bigcommerce.errors import (
    AuthError,
    ConnectionFailedError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    TransientError,
)

from .helpers import TOKEN, V2, V3, FakeTime, make_client, rate_headers


def refused() -> requests.ConnectionError:
    """What requests raises when the TCP connection is refused: nothing reached the store."""
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.ConnectionError(MaxRetryError(None, "/", reason))


def dropped() -> requests.ConnectionError:
    """What requests raises when the store closes the connection after the request was sent."""
    return requests.ConnectionError(ProtocolError("Connection aborted.", http.client.RemoteDisconnected("closed")))


ITEM = [{"location_id": 1, "variant_id": 3, "quantity": 5}]


# ------------------------------------------------------------------------------------------ rate limits

@responses.activate
def test_429_waits_exactly_the_reset_time_from_the_headers_then_succeeds():
    responses.get(f"{V2}/store", status=429, headers=rate_headers(left=0, reset_ms=7250),
                  json={"status": 429, "title": "Too many requests"})
    responses.get(f"{V2}/store", json={"name": "Shop"}, headers=rate_headers(left=149))
    clock = FakeTime()

    assert make_client(clock).get_store() == {"name": "Shop"}

    assert clock.slept == [7.25]
    assert len(responses.calls) == 2


@responses.activate
def test_429_header_names_are_read_case_insensitively():
    headers = {key.lower(): value for key, value in rate_headers(left=0, reset_ms=1500).items()}
    responses.get(f"{V2}/time", status=429, headers=headers)
    responses.get(f"{V2}/time", json={"time": 1})
    clock = FakeTime()
    make_client(clock).get_time()
    assert clock.slept == [1.5]


@responses.activate
def test_a_post_is_repeated_after_a_429_because_nothing_was_applied():
    responses.post(f"{V3}/inventory/adjustments/relative", status=429, headers=rate_headers(left=0, reset_ms=900))
    responses.post(f"{V3}/inventory/adjustments/relative", json={"transaction_id": "tx"})
    clock = FakeTime()
    assert make_client(clock).adjust_relative(ITEM) == ["tx"]
    assert clock.slept == [0.9]


@responses.activate
def test_429_without_headers_backs_off_progressively():
    responses.get(f"{V2}/store", status=429)
    responses.get(f"{V2}/store", status=429)
    responses.get(f"{V2}/store", status=429)
    responses.get(f"{V2}/store", json={"name": "Shop"})
    clock = FakeTime()
    make_client(clock).get_store()
    assert clock.slept == [1.0, 2.0, 4.0]


@responses.activate
def test_429_that_never_ends_raises_rate_limited_after_the_allowed_waits():
    responses.get(f"{V2}/store", status=429, headers=rate_headers(left=0, reset_ms=1000))
    clock = FakeTime()
    with pytest.raises(RateLimitedError) as raised:
        make_client(clock, max_rate_limit_waits=3).get_store()
    assert raised.value.status == 429
    assert len(responses.calls) == 4
    assert clock.slept == [1.0, 1.0, 1.0]


@responses.activate
def test_no_waiting_while_plenty_of_the_quota_is_left():
    responses.get(f"{V2}/store", json={}, headers=rate_headers(left=120))
    clock = FakeTime()
    client = make_client(clock)
    for _ in range(20):
        client.get_store()
    assert clock.slept == []


@responses.activate
def test_requests_are_spread_over_the_window_when_few_are_left_and_stop_before_the_quota_runs_out():
    # Every answer reports 6 left and 10 s to the reset (another app is using the store as well).
    responses.get(f"{V2}/store", json={}, headers=rate_headers(left=6, reset_ms=10_000))
    clock = FakeTime()
    client = make_client(clock)
    start = clock.now

    client.get_store()  # learns: 6 left, reset in 10 s
    for _ in range(4):
        client.get_store()

    # With a reserve of 2, the four requests after the first share what is left of the window instead of
    # going out at once; none waits past the reset.
    assert len(clock.slept) >= 3
    assert all(0 < s <= 10 for s in clock.slept)
    assert clock.now - start <= 10 + 0.001


@responses.activate
def test_when_the_budget_is_at_the_reserve_the_client_waits_for_the_reset_before_sending():
    responses.get(f"{V2}/store", json={}, headers=rate_headers(left=2, reset_ms=4_000))
    responses.get(f"{V2}/store", json={}, headers=rate_headers(left=149, reset_ms=30_000))
    clock = FakeTime()
    client = make_client(clock)
    client.get_store()
    client.get_store()
    assert clock.slept == [4.0]


# -------------------------------------------------------------------------------------------- retries

@responses.activate
@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_retries_502_503_504_with_growing_waits(status):
    responses.get(f"{V2}/store", status=status)
    responses.get(f"{V2}/store", status=status)
    responses.get(f"{V2}/store", json={"name": "Shop"})
    clock = FakeTime()
    assert make_client(clock).get_store() == {"name": "Shop"}
    assert clock.slept == [0.5, 1.0]


@responses.activate
def test_get_gives_up_after_max_retries_with_a_transient_error():
    responses.get(f"{V2}/store", status=503)
    clock = FakeTime()
    with pytest.raises(TransientError) as raised:
        make_client(clock, max_retries=2).get_store()
    assert raised.value.status == 503
    assert len(responses.calls) == 3


@responses.activate
def test_a_500_on_get_is_retried_like_502_and_transient_once_the_retries_are_spent():
    responses.get(f"{V2}/store", status=500)
    clock = FakeTime()
    with pytest.raises(TransientError) as raised:
        make_client(clock, max_retries=2).get_store()
    assert raised.value.status == 500
    assert len(responses.calls) == 3
    assert clock.slept == [0.5, 1.0]


@responses.activate
def test_two_500s_in_a_row_on_the_absolute_set_are_retried_with_backoff():
    responses.put(f"{V3}/inventory/adjustments/absolute", status=500, json={"status": 500, "title": "Error"})
    responses.put(f"{V3}/inventory/adjustments/absolute", status=500, json={"status": 500, "title": "Error"})
    responses.put(f"{V3}/inventory/adjustments/absolute", json={"transaction_id": "tx-after-500s"})
    clock = FakeTime()
    client = make_client(clock)
    assert client.adjust_absolute(ITEM) == ["tx-after-500s"]
    assert clock.slept == [0.5, 1.0]
    assert client.received("PUT", "/v3/inventory/adjustments/absolute") == 3


@responses.activate
@pytest.mark.parametrize("send", [
    lambda client: client.adjust_relative(ITEM),
    lambda client: client.create_shipment(5, order_address_id=1, items=[{"order_product_id": 2, "quantity": 1}]),
    lambda client: client.create_hook(scope="store/order/created", destination="https://x.test/h"),
])
def test_a_500_on_a_request_that_is_not_idempotent_is_never_repeated(send):
    responses.post(f"{V3}/inventory/adjustments/relative", status=500)
    responses.post(f"{V2}/orders/5/shipments", status=500)
    responses.post(f"{V3}/hooks", status=500)
    clock = FakeTime()
    with pytest.raises(OutcomeUnknownError) as raised:
        send(make_client(clock))
    assert raised.value.status == 500
    assert len(responses.calls) == 1 and clock.slept == []


# ------------------------------------------------------------------------------- requests received

@responses.activate
def test_the_client_counts_every_attempt_the_store_received():
    absolute = f"{V3}/inventory/adjustments/absolute"
    responses.put(absolute, status=429, headers=rate_headers(left=0, reset_ms=100))
    responses.put(absolute, status=503)
    responses.put(absolute, body=dropped())  # sent, answer lost: counted (it may have been applied)
    responses.put(absolute, json={"transaction_id": "tx"})
    responses.get(f"{V2}/orders/100/products", json=[])
    responses.get(f"{V2}/store", body=refused())  # never reached the store: not counted
    responses.get(f"{V2}/store", json={"name": "Shop"})
    client = make_client(FakeTime())
    before = client.requests_received.copy()
    client.adjust_absolute(ITEM)
    client.list_order_products(100)
    client.get_store()
    assert client.requests_received - before == {"PUT /v3/inventory/adjustments/absolute": 4,
                                                  "GET /v2/orders/100/products": 1, "GET /v2/store": 1}
    assert client.requests_unanswered == {"PUT /v3/inventory/adjustments/absolute": 1}
    assert client.received("put", "/v3/inventory/adjustments/absolute") == 4
    assert client.received("GET", "/v2/time") == 0


@responses.activate
def test_a_refused_request_is_counted_once_and_the_counts_grow_across_calls():
    responses.put(f"{V3}/inventory/adjustments/absolute", status=422,
                  json={"status": 422, "title": "Invalid", "errors": {"items.0": "bad"}})
    client = make_client(FakeTime())
    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017 - the count is the subject here
            client.adjust_absolute(ITEM)
    assert client.received("PUT", "/v3/inventory/adjustments/absolute") == 2


@responses.activate
def test_absolute_adjustment_is_retried_after_503_and_after_a_dropped_connection():
    responses.put(f"{V3}/inventory/adjustments/absolute", status=503)
    responses.put(f"{V3}/inventory/adjustments/absolute", body=dropped())
    responses.put(f"{V3}/inventory/adjustments/absolute", json={"transaction_id": "tx-a"})
    assert make_client().adjust_absolute(ITEM) == ["tx-a"]
    assert len(responses.calls) == 3


@responses.activate
@pytest.mark.parametrize("failure", [{"status": 502}, {"status": 500}, {"body": dropped()},
                                     {"body": requests.exceptions.ReadTimeout("read timed out")}])
def test_relative_adjustment_is_never_repeated_when_its_outcome_is_unknown(failure):
    responses.put(f"{V3}/inventory/adjustments/absolute", json={"transaction_id": "unused"})
    responses.post(f"{V3}/inventory/adjustments/relative", json={"transaction_id": "tx-1"})
    responses.post(f"{V3}/inventory/adjustments/relative", **failure)
    items = [{"location_id": 1, "sku": f"S{n}", "quantity": 1} for n in range(2500)]
    with pytest.raises(OutcomeUnknownError) as raised:
        make_client().adjust_relative(items)
    assert len(responses.calls) == 2  # the first chunk, and the second sent exactly once
    assert raised.value.completed == ["tx-1"]
    assert raised.value.chunk_index == 1


@responses.activate
def test_relative_adjustment_is_retried_when_the_connection_was_refused_before_sending():
    responses.post(f"{V3}/inventory/adjustments/relative", body=refused())
    responses.post(f"{V3}/inventory/adjustments/relative", body=requests.exceptions.ConnectTimeout("connect timeout"))
    responses.post(f"{V3}/inventory/adjustments/relative", json={"transaction_id": "tx-r"})
    assert make_client().adjust_relative(ITEM) == ["tx-r"]
    assert len(responses.calls) == 3


@responses.activate
def test_shipment_post_is_not_repeated_after_a_503():
    responses.post(f"{V2}/orders/5/shipments", status=503)
    with pytest.raises(OutcomeUnknownError):
        make_client().create_shipment(5, order_address_id=1, items=[{"order_product_id": 2, "quantity": 1}])
    assert len(responses.calls) == 1


@responses.activate
def test_hook_creation_is_not_repeated_after_a_read_timeout():
    responses.post(f"{V3}/hooks", body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(OutcomeUnknownError):
        make_client().create_hook(scope="store/order/created", destination="https://x.test/h")
    assert len(responses.calls) == 1


@responses.activate
def test_an_unreachable_store_raises_connection_failed_after_the_retries():
    responses.get(f"{V2}/store", body=refused())
    clock = FakeTime()
    with pytest.raises(ConnectionFailedError) as raised:
        make_client(clock, max_retries=3).get_store()
    assert isinstance(raised.value, TransientError)
    assert "Could not connect" in raised.value.message
    assert len(responses.calls) == 4
    assert clock.slept == [0.5, 1.0, 2.0]


@responses.activate
def test_get_read_timeouts_are_retried_then_transient():
    responses.get(f"{V2}/store", body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(TransientError) as raised:
        make_client(max_retries=1).get_store()
    assert not isinstance(raised.value, ConnectionFailedError)
    assert len(responses.calls) == 2


@responses.activate
def test_malformed_json_is_retried_on_get_and_unknown_on_post():
    responses.get(f"{V2}/store", body="{not json", content_type="application/json")
    responses.get(f"{V2}/store", json={"name": "Shop"})
    responses.post(f"{V3}/inventory/adjustments/relative", body="{not json", content_type="application/json")
    client = make_client()
    assert client.get_store() == {"name": "Shop"}
    with pytest.raises(OutcomeUnknownError):
        client.adjust_relative(ITEM)
    assert len(responses.calls) == 3


# -------------------------------------------------------------------------------------- token safety

@responses.activate
def test_the_token_never_reaches_logs_errors_or_reprs(caplog):
    responses.get(f"{V2}/store", status=503)
    responses.get(f"{V2}/store", json={"name": "Shop"})
    responses.get(f"{V3}/settings/inventory", status=401,
                  json={"status": 401, "title": f"Token {TOKEN} is not valid", "type": "x"})
    responses.post(f"{V3}/inventory/adjustments/relative", body=dropped())
    client = make_client()
    caught = []
    with caplog.at_level(logging.DEBUG, logger="plugin.bigcommerce"):
        client.get_store()
        for call in (client.get_inventory_settings, lambda: client.adjust_relative(ITEM)):
            try:
                call()
            except Exception as exc:  # noqa: BLE001 - collecting every error to inspect its text
                caught.append(exc)

    assert [type(exc) for exc in caught] == [AuthError, OutcomeUnknownError]
    assert "GET /stores/abc123/v2/store 503" in caplog.text  # the log does say what happened
    assert TOKEN not in caplog.text
    for exc in caught:
        assert TOKEN not in str(exc) and TOKEN not in repr(exc) and TOKEN not in str(exc.args)
        assert TOKEN not in str(exc.body) and TOKEN not in str(vars(exc))
    assert "********" in str(caught[0])
    assert TOKEN not in repr(client)


@responses.activate
@pytest.mark.parametrize("first", [502, "dropped"])
def test_a_repeated_delete_that_finds_nothing_counts_as_done(first):
    """The first DELETE may have removed the hook before its answer was lost; the retry's 404 then
    means the work is done, not that the hook never existed."""
    if first == "dropped":
        responses.delete(f"{V3}/hooks/4", body=dropped())
    else:
        responses.delete(f"{V3}/hooks/4", status=first)
    responses.delete(f"{V3}/hooks/4", status=404, json={"title": "Not found"})
    assert make_client().delete_hook(4) == {}
    assert len(responses.calls) == 2


@responses.activate
def test_a_first_delete_that_finds_nothing_is_not_found():
    responses.delete(f"{V3}/hooks/4", status=404, json={"title": "Not found"})
    with pytest.raises(NotFoundError):
        make_client().delete_hook(4)
