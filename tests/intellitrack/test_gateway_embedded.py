"""The gateway contract for EmbeddedGateway, plus what only the embedded one can show: query counts
that do not grow with the batch, and customers matched rather than duplicated."""

import threading
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from plugin.configuration.models import StoreConnection
from plugin.intellitrack import services
from plugin.intellitrack.gateway import (
    CustomerData,
    EmbeddedGateway,
    ItemData,
    ShipToData,
    StockRow,
    get_gateway,
)
from plugin.intellitrack.models import (
    UOM,
    Carrier,
    Customer,
    InventoryTransaction,
    Item,
    Location,
    PickingOrder,
    ShipTo,
)

from .gateway_contract import GatewayContract


class EmbeddedDriver:
    def receive(self, item_id, location_id, quantity, uom_id):
        services.inventory_receive(
            item=Item.objects.get(pk=item_id),
            location=Location.objects.get(pk=location_id),
            uom=UOM.objects.get(pk=uom_id),
            quantity=quantity,
        )

    def pick(self, order_id, line_number, quantity, location_id, tracking_number="", carrier_name=""):
        order = PickingOrder.objects.get(pk=order_id)
        carrier = None
        if carrier_name:
            carrier, _ = Carrier.objects.get_or_create(division=order.division, name=carrier_name)
        services.order_pick(
            line=order.lines.get(line_number=line_number),
            quantity=quantity,
            location=Location.objects.get(pk=location_id),
            tracking_number=tracking_number,
            carrier=carrier,
        )


@pytest.fixture
def world(place):
    store = StoreConnection.objects.create(name="shop", store_hash="abc123")
    other_store = StoreConnection.objects.create(name="other", store_hash="def456")
    return SimpleNamespace(
        division=place.division.code,
        division_id=place.division.id,
        site_id=place.site1.id,
        other_site_id=place.site2.id,
        loc_a=place.loc_a.id,
        loc_b=place.loc_b.id,
        loc_c=place.loc_c.id,
        ea_id=place.ea.id,
        cs_id=place.cs.id,
        store_id=store.id,
        other_store_id=other_store.id,
    )


class TestEmbeddedGateway(GatewayContract):
    @pytest.fixture
    def gateway(self):
        return EmbeddedGateway()

    @pytest.fixture
    def driver(self):
        return EmbeddedDriver()


def test_get_gateway_defaults_to_the_embedded_one(settings):
    assert isinstance(get_gateway(), EmbeddedGateway)
    settings.ITBC_INTELLITRACK_GATEWAY = "tests.intellitrack.test_gateway_embedded.EmbeddedDriver"
    assert isinstance(get_gateway(), EmbeddedDriver)


def count_queries(func):
    with CaptureQueriesContext(connection) as queries:
        func()
    return len(queries)


@pytest.mark.postgres  # SQLite splits bulk inserts into small batches by its variable limit
def test_bulk_operations_take_the_same_number_of_queries_for_5_or_300_items(world):
    gateway = EmbeddedGateway()

    def upsert(prefix, n):
        return lambda: gateway.items_upsert(
            world.division, [ItemData(f"{prefix}-{i}", f"d{i}") for i in range(n)]
        )

    small, large = count_queries(upsert("S", 5)), count_queries(upsert("L", 300))
    assert small == large
    # Updating and leaving alone take no more.
    assert count_queries(upsert("L", 300)) <= large

    def ids(prefix, n):
        return list(
            Item.objects.filter(item_number__startswith=f"{prefix}-").values_list("id", flat=True)[:n]
        )

    def stock(prefix, n):
        return lambda: gateway.initial_stock_set(
            location_id=world.loc_a, uom_id=world.ea_id, rows=[StockRow(i, 3) for i in ids(prefix, n)]
        )

    assert count_queries(stock("S", 5)) == count_queries(stock("L", 300))

    def orders(base, n):
        item_ids = ids("L", 3)
        return lambda: gateway.picking_orders_create(
            [
                GatewayContract().order_data(
                    world,
                    base + k,
                    [(item_ids[0], 1), (item_ids[1], 2)],
                    customer=CustomerData(name=f"Buyer {k}", account_number=f"A{base + k}"),
                    ship_to=ShipToData(name=f"Buyer {k}", address1=f"{k} Road"),
                    carrier_name="UPS",
                    shipping_method_name="Ground",
                )
                for k in range(n)
            ]
        )

    assert count_queries(orders(1000, 3)) == count_queries(orders(2000, 100))


def test_customers_and_ship_tos_are_matched_not_duplicated(world):
    gateway = EmbeddedGateway()
    [result] = gateway.items_upsert(world.division, [ItemData("M-1")])
    contract = GatewayContract()
    ada = CustomerData(name="Ada", account_number="17", email="ada@example.com")
    home = ShipToData(name="Ada", address1="1 Main St", city="Springfield")
    work = ShipToData(name="Ada", address1="9 Office Rd", city="Springfield")
    anonymous = CustomerData(name="Guest", email="guest@example.com")
    gateway.picking_orders_create(
        [
            contract.order_data(world, 1, [(result.item_id, 1)], customer=ada, ship_to=home),
            contract.order_data(world, 2, [(result.item_id, 1)], customer=ada, ship_to=home),
            contract.order_data(world, 3, [(result.item_id, 1)], customer=ada, ship_to=work),
            contract.order_data(world, 4, [(result.item_id, 1)], customer=anonymous),
        ]
    )
    gateway.picking_orders_create([contract.order_data(world, 5, [(result.item_id, 1)], customer=anonymous)])
    assert Customer.objects.filter(account_number="17").count() == 1
    assert Customer.objects.filter(name="Guest").count() == 1
    assert sorted(ShipTo.objects.values_list("address1", flat=True)) == ["1 Main St", "9 Office Rd"]
    orders = {o.store_order_id: o for o in PickingOrder.objects.all()}
    assert orders[1].ship_to_id == orders[2].ship_to_id != orders[3].ship_to_id
    assert orders[4].ship_to_id is None and orders[4].customer_id == orders[5].customer_id


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ledger_since_waits_for_a_writer_still_in_flight(place):
    """A row whose id is lower than a committed one, but whose transaction is still open, must not be
    skipped: the reader waits for it instead of moving its cursor past it."""
    gateway = EmbeddedGateway()
    start = gateway.ledger_since(0).next_cursor
    written, release = threading.Event(), threading.Event()
    errors = []

    def slow_writer():
        try:
            with transaction.atomic():
                services.inventory_receive(item=place.item, location=place.loc_a, uom=place.ea, quantity=1)
                written.set()
                release.wait(10)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert written.wait(10)
    services.inventory_receive(item=place.item, location=place.loc_b, uom=place.ea, quantity=2)

    pages = []
    reader = threading.Thread(target=lambda: (pages.append(gateway.ledger_since(start)), connection.close()))
    reader.start()
    reader.join(0.5)
    assert reader.is_alive(), "the reader must wait for the open writer"
    release.set()
    writer.join(10)
    reader.join(10)
    assert not errors
    [page] = pages
    assert sorted(row.quantity_delta for row in page.rows) == [1, 2]
    assert InventoryTransaction.objects.filter(id__gt=start).count() == 2
