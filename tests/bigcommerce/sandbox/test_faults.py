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


# ----- scripted rules -------------------------------------------------------------------------------------

ABSOLUTE = "/v3/inventory/adjustments/absolute"


def _absolute(server, quantity: int) -> requests.Response:
    product = next(p for p in server.state.products.values() if p.inventory_tracking == "product")
    return requests.put(f"{server.store_url}{ABSOLUTE}", headers={"X-Auth-Token": server.token}, timeout=10,
                        json={"items": [{"location_id": 1, "product_id": product.id, "quantity": quantity}]})


def _product_level(server) -> int:
    product = next(p for p in server.state.products.values() if p.inventory_tracking == "product")
    return server.state.on_hand(-product.id)


def test_a_status_rule_answers_the_next_matching_requests_before_handling_them(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"rules": [
        {"method": "PUT", "path": ABSOLUTE, "status": 500, "times": 2}]})
    before = _product_level(server)
    assert _statuses(server, 3) == [200] * 3  # other requests are spared
    first, second = _absolute(server, before + 7), _absolute(server, before + 8)
    assert (first.status_code, second.status_code) == (500, 500)
    assert_error_shape(first)
    assert _product_level(server) == before  # nothing was applied
    assert _absolute(server, before + 9).status_code == 200  # the rule is used up
    assert _product_level(server) == before + 9
    summary = requests.get(f"{server.base_url}/_sandbox/state-summary", timeout=5).json()
    assert summary["fault_rules_used"] == [2] and summary["faults_injected"]["rule"] == 2


def test_a_delay_rule_holds_back_matching_answers_only(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"rules": [
        {"method": "GET", "path": "/v2/orders", "delay_ms": 300, "times": 2}]})
    started = time.monotonic()
    assert bc(server, "GET", "/v2/time").status_code == 200
    assert time.monotonic() - started < 0.25
    for _ in range(2):
        started = time.monotonic()
        assert bc(server, "GET", "/v2/orders/count").status_code == 200  # a prefix of the path matches
        assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert bc(server, "GET", "/v2/orders?limit=1").status_code == 200
    assert time.monotonic() - started < 0.25


def test_a_regex_rule_with_a_429_and_one_that_drops(make_sandbox):
    server = make_sandbox(plan="unlimited", faults={"rules": [
        {"path": r"^/v2/orders/\d+$", "status": 429, "times": None},
        {"method": "PUT", "path": ABSOLUTE, "drop": True}]})
    for _ in range(3):
        limited = bc(server, "GET", "/v2/orders/100")
        assert limited.status_code == 429 and limited.headers["X-Rate-Limit-Requests-Left"] == "0"
    assert bc(server, "GET", "/v2/orders/100/products").status_code == 200  # the regex is anchored
    with pytest.raises(requests.ConnectionError):
        _absolute(server, 4321)
    assert _product_level(server) == 4321  # handled, then the answer was lost
    assert _absolute(server, 4322).status_code == 200


def test_rules_set_at_run_time_over_http_and_in_python(make_sandbox):
    server = make_sandbox(plan="unlimited")
    changed = sandbox_post(server, "faults", {"rules": [{"method": "get", "path": "/v2/time", "status": 503}]})
    assert changed.status_code == 200
    assert changed.json()["rules"] == [{"method": "GET", "path": "/v2/time", "status": 503, "delay_ms": 0,
                                        "drop": False, "times": 1}]
    assert sandbox_post(server, "faults", {"malformed_rate": 0.0}).status_code == 200  # keeps the live rule
    assert _statuses(server, 2) == [503, 200]
    assert sandbox_post(server, "faults", {"malformed_rate": 0.0}).status_code == 200  # a used rule stays used
    assert _statuses(server, 1) == [200]
    server.add_fault_rule(method="GET", path="/v2/time", status=502, times=2)
    assert _statuses(server, 3) == [502, 502, 200]
    assert requests.get(f"{server.base_url}/_sandbox/faults", timeout=5).json()["rules"][-1]["status"] == 502
    server.faults.clear_rules()
    server.add_fault_rule({"path": "/v2/time", "status": 500, "times": None})
    assert _statuses(server, 2) == [500, 500]
    assert sandbox_post(server, "faults", {"rules": []}).status_code == 200
    assert _statuses(server, 1) == [200]


@pytest.mark.parametrize("rule", [
    {"path": "/v2/time"},  # does nothing
    {"path": "v2/time", "status": 500},
    {"path": "/v2/time", "status": 200},
    {"path": "/v2/time", "status": 500, "times": 0},
    {"path": "/v2/time", "status": 500, "drop": True},
    {"path": "^/v2/(", "status": 500},
    {"path": "/v2/time", "status": 500, "method": "PATCH"},
    {"path": "/v2/time", "status": 500, "when": "always"},
])
def test_a_bad_rule_is_refused(make_sandbox, rule):
    server = make_sandbox(plan="unlimited")
    assert sandbox_post(server, "faults", {"rules": [rule]}).status_code == 400
    with pytest.raises(ValueError):
        server.add_fault_rule(rule)
    assert _statuses(server, 1) == [200]


def test_rules_never_shift_the_random_faults(make_sandbox):
    runs = []
    for rules in ([], [{"path": "/v2/time", "delay_ms": 1, "times": None}]):
        server = make_sandbox(plan="unlimited", faults={"error_rate": 0.3, "seed": 42, "rules": rules})
        runs.append(_statuses(server, 30))
    assert runs[0] == runs[1]


def test_rules_in_a_fault_config_object_are_checked_and_filled_in(make_sandbox):
    from plugin.bigcommerce.sandbox.faults import FaultConfig

    server = make_sandbox(plan="unlimited", faults=FaultConfig(rules=({"path": "/v2/time", "status": 502},)))
    assert server.faults.config.rules[0]["times"] == 1
    assert _statuses(server, 2) == [502, 200]
    with pytest.raises(ValueError):
        make_sandbox(plan="unlimited", faults=FaultConfig(rules=({"path": "/v2/time"},)))
