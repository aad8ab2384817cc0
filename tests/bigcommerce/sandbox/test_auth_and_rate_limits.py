"""Only the store's token opens it; every answer carries the quota headers; the quota is enforced per plan."""
import time

import pytest
import requests

from tests.bigcommerce.sandbox.support import assert_error_shape, bc

RATE_HEADERS = ("X-Rate-Limit-Time-Window-Ms", "X-Rate-Limit-Time-Reset-Ms", "X-Rate-Limit-Requests-Quota",
                "X-Rate-Limit-Requests-Left")


@pytest.mark.parametrize("token", ["", "not-the-token"])
def test_v2_without_the_token_is_401_with_an_array_body(sandbox, token):
    response = bc(sandbox, "GET", "/v2/orders", token=token, check_request=bool(token))
    assert response.status_code == 401
    body = response.json()
    assert isinstance(body, list) and body[0]["status"] == 401


@pytest.mark.parametrize("token", ["", "not-the-token"])
def test_v3_without_the_token_is_401_with_a_problem_body(sandbox, token):
    response = bc(sandbox, "GET", "/v3/catalog/products", token=token, check_request=bool(token))
    assert response.status_code == 401
    assert response.json()["status"] == 401 and response.json()["title"]


def test_a_missing_header_is_refused_like_a_wrong_one(sandbox):
    response = requests.get(f"{sandbox.store_url}/v3/inventory/items", timeout=5)
    assert response.status_code == 401
    assert_error_shape(response)


def test_a_wrong_store_hash_is_404(sandbox):
    for path in ("/v2/store", "/v3/catalog/products"):
        response = requests.get(f"{sandbox.base_url}/stores/otherstore{path}",
                                headers={"X-Auth-Token": sandbox.token}, timeout=5)
        assert response.status_code == 404
        assert_error_shape(response)


def test_every_answer_carries_the_rate_limit_headers(sandbox):
    for response in (bc(sandbox, "GET", "/v2/time"), bc(sandbox, "GET", "/v2/time", token="bad"),
                     bc(sandbox, "GET", "/v3/catalog/products/999999")):
        for name in RATE_HEADERS:
            assert int(response.headers[name]) >= 0, name


def test_standard_plan_allows_150_requests_per_30_seconds_then_429(make_sandbox):
    server = make_sandbox(plan="standard")
    session = requests.Session()
    session.headers["X-Auth-Token"] = server.token
    lefts = []
    for _ in range(150):
        response = session.get(f"{server.store_url}/v2/time", timeout=5)
        assert response.status_code == 200
        lefts.append(int(response.headers["X-Rate-Limit-Requests-Left"]))
        assert response.headers["X-Rate-Limit-Requests-Quota"] == "150"
        assert response.headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
    assert lefts[0] == 149 and lefts[-1] == 0
    assert lefts == sorted(lefts, reverse=True)
    refused = bc(server, "GET", "/v3/catalog/products")
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Requests-Left"] == "0"
    assert 0 < int(refused.headers["X-Rate-Limit-Time-Reset-Ms"]) <= 30000
    assert int(refused.headers["X-Retry-After"]) >= 1
    assert server.limiter.refused == 1


def test_pro_plan_reports_450_and_unlimited_never_refuses(make_sandbox):
    pro = make_sandbox(plan="pro")
    assert bc(pro, "GET", "/v2/time").headers["X-Rate-Limit-Requests-Quota"] == "450"
    unlimited = make_sandbox(plan="unlimited")
    session = requests.Session()
    session.headers["X-Auth-Token"] = unlimited.token
    statuses = {session.get(f"{unlimited.store_url}/v2/time", timeout=5).status_code for _ in range(200)}
    assert statuses == {200}


def test_the_quota_refills_when_the_window_ends(make_sandbox):
    server = make_sandbox(plan="standard", quota=3, window_ms=400)
    statuses = [bc(server, "GET", "/v2/time").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    time.sleep(0.45)
    again = bc(server, "GET", "/v2/time")
    assert again.status_code == 200
    assert again.headers["X-Rate-Limit-Requests-Left"] == "2"


def test_sandbox_actions_do_not_use_the_quota(make_sandbox):
    server = make_sandbox(plan="standard", quota=2, window_ms=60_000)
    for _ in range(5):
        assert requests.get(f"{server.base_url}/_sandbox/state-summary", timeout=5).status_code == 200
    assert bc(server, "GET", "/v2/time").headers["X-Rate-Limit-Requests-Left"] == "1"
