"""The client against the sandbox store over real HTTP, every exchange checked against the OpenAPI files."""
import pytest

from plugin.bigcommerce.client import BigCommerceClient, order_line_items
from plugin.bigcommerce.errors import AuthError, NotFoundError

from .contract import ContractViolation, require_specs, validate_request, validate_response

TOKEN = "sandbox-token-for-client-tests"


@pytest.fixture(scope="module")
def sandbox():
    require_specs()
    from plugin.bigcommerce.sandbox.faults import FaultConfig
    from plugin.bigcommerce.sandbox.runner import sandbox_build

    server = sandbox_build(host="127.0.0.1", port=0, store_hash="clientsbx", token=TOKEN, products=40, orders=12,
                           seed=7, plan="unlimited", state_file=None, faults=FaultConfig())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def checked_client(sandbox):
    client = BigCommerceClient(base_url=f"http://127.0.0.1:{sandbox.port}", store_hash="clientsbx", access_token=TOKEN)
    problems: list[str] = []

    def check(response, *args, **kwargs):
        for validate, call_args in ((validate_request, (response.request,)),
                                    (validate_response, (response.request, response))):
            try:
                validate(*call_args)
            except ContractViolation as violation:
                problems.append(str(violation)[:500])

    client._session.hooks["response"].append(check)
    return client, problems


def test_a_full_round_of_client_calls_against_the_sandbox_keeps_to_the_contract(checked_client):
    client, problems = checked_client

    assert client.get_store()["name"]
    assert client.get_inventory_settings()["update_stock_behavior"] in ("order_placed", "order_completed_or_shipped")
    products = [p for page in client.iter_product_pages(limit=7) for p in page]
    variants = [v for page in client.iter_variant_pages(limit=9) for v in page]
    assert len({p["id"] for p in products}) == len(products) > 7  # several pages, nothing twice
    assert len({v["id"] for v in variants}) == len(variants) > 9
    assert [i for page in client.iter_inventory_item_pages(location_id=1, limit=10) for i in page]
    assert client.list_locations()

    by_variant = [v for p in products if p["inventory_tracking"] == "variant" for v in p["variants"]]
    assert by_variant, "the generated store has variant-tracked products"
    target = by_variant[0]
    client.adjust_absolute([{"location_id": 1, "variant_id": target["id"], "quantity": 9}], reason="contract test")
    client.adjust_relative([{"location_id": 1, "variant_id": target["id"], "quantity": -2}], reason="contract test")
    client.update_variants([{"id": target["id"], "inventory_warning_level": 1}])
    client.update_products([{"id": products[0]["id"], "is_visible": True}])

    orders = [o for page in client.iter_order_pages(limit=5) for o in page]
    assert len(orders) == client.get_orders_count()
    with_lines = [o for page in client.iter_order_pages(limit=5, include_lines=True) for o in page]
    assert [o["id"] for o in with_lines] == [o["id"] for o in orders]
    assert order_line_items(with_lines[0]) == client.list_order_products(orders[0]["id"])
    assert order_line_items(client.get_order(orders[0]["id"], include_lines=True)) == order_line_items(with_lines[0])
    assert "consignments" not in orders[0] and order_line_items(orders[0]) == []
    order = orders[0]
    lines = client.list_order_products(order["id"])
    addresses = client.list_order_shipping_addresses(order["id"])
    before = client.list_order_shipments(order["id"])
    client.create_shipment(order["id"], order_address_id=addresses[0]["id"],
                           items=[{"order_product_id": lines[0]["id"], "quantity": 1}], tracking_number="1Z")
    assert len(client.list_order_shipments(order["id"])) == len(before) + 1
    client.update_order_status(order["id"], client.get_order(order["id"])["status_id"])
    assert client.list_order_statuses()
    zones = client.list_shipping_zones()
    if zones:
        client.list_shipping_methods(zones[0]["id"])
    hook = client.create_hook(scope="store/order/created", destination="https://hooks.example.com/itbc")
    assert hook["id"] in {h["id"] for h in client.list_hooks()}
    client.delete_hook(hook["id"])

    assert problems == [], "\n".join(problems)


def test_wrong_token_and_wrong_store_hash_get_clear_typed_errors(sandbox):
    base_url = f"http://127.0.0.1:{sandbox.port}"
    with pytest.raises(AuthError) as bad_token:
        BigCommerceClient(base_url=base_url, store_hash="clientsbx", access_token="wrong").get_store()
    assert bad_token.value.status == 401 and "wrong" not in str(bad_token.value)
    with pytest.raises(NotFoundError):
        BigCommerceClient(base_url=base_url, store_hash="nosuchstore", access_token=TOKEN).get_store()


@pytest.mark.parametrize("shared_in", ["process", pytest.param("redis", marks=pytest.mark.redis), "nothing"])
def test_two_workers_sharing_the_store_budget_are_never_refused(shared_in):
    """A store with a small quota (30 requests a second) and two threads making 45 requests each: with one
    budget between them they pace themselves and the store never answers 429. The reserve is switched
    off, so it is the sharing that keeps them inside the quota: with a budget each ("nothing" shared)
    they overrun it, and only their 429 handling gets them through."""
    import threading
    import uuid

    import redis
    from django.conf import settings

    from plugin.bigcommerce.ratelimit import RateBudget, RedisRateBudget
    from plugin.bigcommerce.sandbox.server import SandboxServer

    store_hash = f"pace{uuid.uuid4().hex[:6]}"
    server = SandboxServer("127.0.0.1", 0, token=TOKEN, store_hash=store_hash, plan="standard", quota=30,
                           window_ms=1_000)
    server.start()
    if shared_in == "redis":
        connection = redis.Redis.from_url(settings.REDIS_URL)
        budgets = [RedisRateBudget(connection, store_hash, reserve=0), RedisRateBudget(connection, store_hash, reserve=0)]
    elif shared_in == "process":
        budgets = [RateBudget(store_hash, reserve=0)] * 2
    else:
        budgets = [RateBudget(store_hash, reserve=0), RateBudget(store_hash, reserve=0)]
    answers: list[int] = []
    failures: list[Exception] = []

    def worker(budget):
        client = BigCommerceClient(base_url=f"http://127.0.0.1:{server.port}", store_hash=store_hash,
                                   access_token=TOKEN, budget=budget)
        client._session.hooks["response"].append(lambda response, *a, **k: answers.append(response.status_code))
        try:
            for _ in range(45):
                client.get_time()
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    try:
        threads = [threading.Thread(target=worker, args=(budget,)) for budget in budgets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        server.stop()
        if shared_in == "redis":
            budgets[0].clear()
    assert failures == []
    assert answers.count(200) == 90
    if shared_in == "nothing":
        assert server.limiter.refused > 0
    else:
        assert server.limiter.refused == 0
        assert len(answers) == 90
