"""Injected faults: 5xx, slow answers, dropped connections, malformed JSON and 429 storms, all seeded."""
import time

import pytest
import requests

from tests.bigcommerce.sandbox.support import assert_error_shape, bc, sandbox_post


def _statuses(server, count: int) -> list[int]:
    session = requests.Session()
    session.headers["X-Auth-Token"] = server.token
    return [session.get(f"{server.store_url}/v2/time", timeout=5).status_code for _ in range(count)]


def test_error_rate_answers_500_502_503(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"error_rate": 1.0, "seed": 3})
    statuses = _statuses(server, 40)
    assert set(statuses) == {500, 502, 503}
    response = bc(server, "GET", "/v3/catalog/products")
    assert response.status_code in (500, 502, 503)
    assert_error_shape(response)


def test_an_injected_error_happens_before_the_write(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"error_rate": 1.0})
    product = next(p for p in server.state.products.values() if p.inventory_tracking == "product")
    before = server.state.on_hand(-product.id)
    bc(server, "PUT", "/v3/inventory/adjustments/absolute",
       json={"items": [{"location_id": 1, "product_id": product.id, "quantity": before + 9}]})
    assert server.state.on_hand(-product.id) == before


def test_the_same_seed_fails_the_same_requests(make_sandbox):
    runs = []
    for _ in range(2):
        server = make_sandbox(plan="unlimited", faults={"error_rate": 0.3, "storm_rate": 0.2, "seed": 42})
        runs.append(_statuses(server, 60))
    assert runs[0] == runs[1]
    assert {200, 429} <= set(runs[0]) and set(runs[0]) - {200, 429}
    other = make_sandbox(plan="unlimited", faults={"error_rate": 0.3, "storm_rate": 0.2, "seed": 43})
    assert _statuses(other, 60) != runs[0]


def test_slow_answers_are_delayed(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"delay_ms": 250})
    started = time.monotonic()
    assert bc(server, "GET", "/v2/time").status_code == 200
    assert time.monotonic() - started >= 0.25


def test_a_dropped_connection_gets_no_answer_but_the_write_happened(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"drop_rate": 1.0})
    product = next(p for p in server.state.products.values() if p.inventory_tracking == "product")
    with pytest.raises(requests.ConnectionError):
        requests.put(f"{server.store_url}/v3/inventory/adjustments/absolute", timeout=5,
                     headers={"X-Auth-Token": server.token},
                     json={"items": [{"location_id": 1, "product_id": product.id, "quantity": 4321}]})
    assert server.state.on_hand(-product.id) == 4321  # outcome unknown to the caller, applied in the store


def test_malformed_json_is_cut_short(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"malformed_rate": 1.0})
    response = requests.get(f"{server.store_url}/v3/catalog/products", headers={"X-Auth-Token": server.token},
                            timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()


def test_a_429_storm_answers_with_a_short_reset(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"storm_rate": 1.0, "storm_reset_ms": 150})
    response = bc(server, "GET", "/v3/catalog/products")
    assert response.status_code == 429
    assert response.headers["X-Rate-Limit-Requests-Left"] == "0"
    assert response.headers["X-Rate-Limit-Time-Reset-Ms"] == "150"


def test_faults_change_at_run_time_and_spare_sandbox_actions(make_sandbox):
    server = make_sandbox(plan="unlimited")
    assert _statuses(server, 5) == [200] * 5
    changed = sandbox_post(server, "faults", {"error_rate": 1.0, "error_statuses": [503]})
    assert changed.status_code == 200 and changed.json()["error_rate"] == 1.0
    assert _statuses(server, 5) == [503] * 5
    assert requests.get(f"{server.base_url}/_sandbox/state-summary", timeout=5).json()["faults_injected"]["error"] == 5
    assert sandbox_post(server, "faults", {"error_rate": 2}).status_code == 400
    assert sandbox_post(server, "faults", {"no_such_fault": 1}).status_code == 400
    sandbox_post(server, "faults", {"error_rate": 0})
    assert _statuses(server, 3) == [200] * 3
