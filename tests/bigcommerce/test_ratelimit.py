"""The store's request budget, in process and in Redis, and its sharing between clients."""
import threading
import uuid

import pytest
import redis
import responses
from django.conf import settings
from django.test import override_settings

from plugin.bigcommerce.ratelimit import Grant, RateBudget, RedisRateBudget, rate_budget_for

from .helpers import V2, FakeTime, make_client, rate_headers

NOW = 1_800_000_000_000


@pytest.fixture
def redis_budget_factory():
    connection = redis.Redis.from_url(settings.REDIS_URL)
    made = []

    def make(store_hash=None, **kwargs):
        budget = RedisRateBudget(connection, store_hash or f"test-{uuid.uuid4().hex[:10]}", **kwargs)
        made.append(budget)
        return budget

    yield make
    for budget in made:
        budget.clear()


@pytest.fixture(params=["process", pytest.param("redis", marks=pytest.mark.redis)])
def budget_factory(request):
    if request.param == "process":
        return lambda store_hash="s", **kwargs: RateBudget(store_hash, **kwargs)
    return request.getfixturevalue("redis_budget_factory")


def test_an_unknown_budget_lets_requests_through(budget_factory):
    budget = budget_factory()
    assert [budget.acquire(NOW).granted for _ in range(5)] == [True] * 5


def test_requests_are_counted_down_and_held_back_at_the_reserve(budget_factory):
    budget = budget_factory(reserve=2)
    budget.record(NOW, left=5, reset_ms=20_000, quota=150, window_ms=30_000)
    grants = [budget.acquire(NOW) for _ in range(4)]
    assert [g.granted for g in grants] == [True, True, True, False]
    assert grants[-1].wait_ms == 20_000  # wait for the reset, then ask again
    # Once the window has reset, the full quota is assumed until an answer says otherwise.
    assert budget.acquire(NOW + 20_000).granted
    assert budget.snapshot()["left"] == 149


def test_answers_from_the_same_window_can_only_lower_what_is_left(budget_factory):
    budget = budget_factory()
    budget.record(NOW, left=100, reset_ms=20_000, quota=150, window_ms=30_000)
    budget.record(NOW + 50, left=120, reset_ms=19_960)  # an older answer arriving late
    assert budget.snapshot()["left"] == 100
    budget.record(NOW + 100, left=90, reset_ms=19_900)
    assert budget.snapshot()["left"] == 90
    # A new window replaces the count.
    budget.record(NOW + 21_000, left=149, reset_ms=29_000)
    assert budget.snapshot()["left"] == 149
    # An answer from the finished window is ignored.
    budget.record(NOW + 21_100, left=3, reset_ms=10)
    assert budget.snapshot()["left"] == 149


def test_a_429_empties_the_budget_until_its_reset(budget_factory):
    budget = budget_factory()
    budget.record(NOW, left=80, reset_ms=20_000, quota=150, window_ms=30_000)
    budget.record(NOW, left=0, reset_ms=5_000, limited=True)
    grant = budget.acquire(NOW + 1_000)
    assert not grant.granted and grant.wait_ms == 4_000


def test_pacing_spreads_the_last_requests_over_the_rest_of_the_window(budget_factory):
    budget = budget_factory(reserve=2, pace_below=0.2)
    budget.record(NOW, left=12, reset_ms=10_000, quota=150, window_ms=30_000)
    waits = [budget.acquire(NOW).wait_ms for _ in range(10)]
    assert waits[0] == 0
    assert waits == sorted(waits) and waits[-1] <= 10_000
    assert len(set(waits)) == 10  # one at a time, not a burst


def test_two_threads_never_take_more_than_what_is_left(budget_factory):
    budget = budget_factory(reserve=0, pace_below=0)
    budget.record(NOW, left=50, reset_ms=20_000, quota=150, window_ms=30_000)
    granted = []
    lock = threading.Lock()

    def worker():
        for _ in range(40):
            grant = budget.acquire(NOW)
            with lock:
                granted.append(grant.granted)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 50


def _two_clients(budget_a, budget_b):
    clock = FakeTime()
    return clock, make_client(clock, budget=budget_a), make_client(clock, budget=budget_b)


@responses.activate
def _run_two_workers(budget_a, budget_b):
    # Worker A learns that only 3 requests are left; B takes one, so A must wait for the reset.
    responses.get(f"{V2}/store", json={}, headers=rate_headers(left=3, reset_ms=6_000))
    responses.get(f"{V2}/time", json={"time": 1}, headers=rate_headers(left=2, reset_ms=5_900))
    responses.get(f"{V2}/store", json={}, headers=rate_headers(left=149, reset_ms=30_000))
    clock, worker_a, worker_b = _two_clients(budget_a, budget_b)
    worker_a.get_store()
    worker_b.get_time()
    slept_before = list(clock.slept)
    worker_a.get_store()
    return slept_before, clock.slept[len(slept_before):]


def test_two_clients_on_one_store_share_the_in_process_budget():
    shared = RateBudget("shop")
    _, a_waits = _run_two_workers(shared, shared)
    assert a_waits and sum(a_waits) == pytest.approx(5.9, abs=0.01)  # until the reset B was told of


def test_clients_with_separate_budgets_would_not_hold_back():
    _, a_waits = _run_two_workers(RateBudget("shop"), RateBudget("shop"))
    assert a_waits == []


@pytest.mark.redis
def test_two_clients_with_their_own_redis_budget_objects_share_one_store_budget(redis_budget_factory):
    store = f"shop-{uuid.uuid4().hex[:8]}"
    _, a_waits = _run_two_workers(redis_budget_factory(store), redis_budget_factory(store))
    assert a_waits and sum(a_waits) == pytest.approx(5.9, abs=0.01)  # until the reset B was told of


@pytest.mark.redis
def test_the_redis_state_expires_and_is_keyed_by_store_hash(redis_budget_factory):
    budget = redis_budget_factory("expiring-shop")
    budget.record(NOW, left=10, reset_ms=1_000, quota=150, window_ms=30_000)
    connection = redis.Redis.from_url(settings.REDIS_URL)
    assert budget.key.endswith(":expiring-shop")
    assert 0 < connection.ttl(budget.key) <= 600


def test_rate_budget_for_without_redis_gives_one_budget_per_store_in_this_process():
    with override_settings(REDIS_URL=""):
        first, again, other = rate_budget_for("one"), rate_budget_for("one"), rate_budget_for("two")
    assert first is again and first is not other
    assert type(first) is RateBudget


@pytest.mark.redis
def test_rate_budget_for_with_redis_uses_redis():
    budget = rate_budget_for(f"shop-{uuid.uuid4().hex[:8]}")
    assert isinstance(budget, RedisRateBudget)
    budget.record(NOW, left=10, reset_ms=1_000, quota=150, window_ms=30_000)
    assert rate_budget_for(budget.store_hash).snapshot()["left"] == 10
    budget.clear()


@responses.activate
def test_a_redis_budget_with_redis_down_falls_back_to_this_process(caplog):
    """Nothing listens on port 1: the client still works, paced by the in-process budget, and the
    warning is logged once, not once per request."""
    budget = RedisRateBudget(redis.Redis.from_url("redis://127.0.0.1:1/0"), "down")
    responses.get(f"{V2}/store", json={"name": "Shop"}, headers=rate_headers(left=1))
    client = make_client(budget=budget)
    with caplog.at_level("WARNING", logger="plugin.bigcommerce.ratelimit"):
        assert client.get_store()["name"] == "Shop"
        # One left is at the reserve: the fallback budget holds the next request back until the reset.
        budget.record(NOW, left=1, reset_ms=5000, quota=150, window_ms=30000)
        assert budget.acquire(NOW) == Grant(False, 5000)
    warnings = [r for r in caplog.records if "Redis" in r.getMessage()]
    assert len(warnings) == 1
    assert "down" in warnings[0].getMessage()
