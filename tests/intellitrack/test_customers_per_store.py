"""Customers belong to the store whose orders created them: two stores feeding one division keep customers
with the same account number apart; within a store they are matched, not duplicated. The migration gives
existing customers the store of their orders and splits one that two stores shared."""
import dataclasses
import importlib
from datetime import date

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from plugin.configuration.models import StoreConnection
from plugin.intellitrack.gateway import (
    CustomerData,
    EmbeddedGateway,
    PickingOrderData,
    PickingOrderLineData,
)
from plugin.intellitrack.models import Customer, PickingOrder, ShipTo
from tests.intellitrack.factories import CustomerFactory, PickingOrderFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("plugin.intellitrack.migrations.0005_customer_per_store")


def order(place, store, store_order_id, *, account="BC-42", name="Ada Buyer", ship_to=None):
    return PickingOrderData(
        division=place.division.code, store_id=store.pk, store_order_id=store_order_id,
        number=f"{store.pk}-{store_order_id}", order_date=date(2026, 12, 1),
        customer=CustomerData(name=name, account_number=account, email="ada@example.com"),
        ship_to=ship_to,
        lines=(PickingOrderLineData(line_number=1, item_id=place.item.pk, ordered_qty=1,
                                    store_order_product_id=store_order_id * 10),),
    )


@pytest.fixture
def stores():
    return (StoreConnection.objects.create(name="north", store_hash="north1"),
            StoreConnection.objects.create(name="south", store_hash="south1"))


def test_two_stores_on_one_division_with_the_same_account_number_create_two_customers(place, stores):
    north, south = stores
    gateway = EmbeddedGateway()
    results = gateway.picking_orders_create([order(place, north, 100), order(place, south, 100)])
    assert [result.outcome for result in results] == ["created", "created"]
    customers = Customer.objects.filter(account_number="BC-42")
    assert sorted(customers.values_list("source_store__name", flat=True)) == ["north", "south"]
    by_store = dict(PickingOrder.objects.values_list("source_store_id", "customer_id"))
    assert by_store[north.pk] != by_store[south.pk]
    assert Customer.objects.get(pk=by_store[north.pk]).source_store == north

    # later orders of each store match their own store's customer, guests (no account) too
    gateway.picking_orders_create([order(place, south, 101), order(place, north, 101),
                                   order(place, north, 102, account="", name="Guest"),
                                   order(place, south, 102, account="", name="Guest")])
    gateway.picking_orders_create([order(place, north, 103, account="", name="Guest")])
    assert Customer.objects.filter(account_number="BC-42").count() == 2
    assert Customer.objects.filter(name="Guest").count() == 2
    for store in stores:
        assert PickingOrder.objects.filter(source_store=store, customer__account_number="BC-42") \
            .values("customer_id").distinct().count() == 1
        assert not PickingOrder.objects.filter(source_store=store).exclude(customer__source_store=store).exists()


def test_two_stores_on_one_division_with_the_same_order_numbers_both_import(place, stores):
    north, south = stores
    gateway = EmbeddedGateway()

    def same_number(store, store_order_id):
        return dataclasses.replace(order(place, store, store_order_id), number=str(store_order_id))

    first = gateway.picking_orders_create([same_number(north, 100), same_number(south, 100)])
    second = gateway.picking_orders_create([same_number(south, 101), same_number(north, 101)])
    assert [result.outcome for result in first + second] == ["created"] * 4
    numbers = {(o.source_store_id, o.store_order_id): o.number for o in PickingOrder.objects.all()}
    assert numbers == {(north.pk, 100): "100", (south.pk, 100): f"S{south.pk}-100",
                       (south.pk, 101): "101", (north.pk, 101): f"S{north.pk}-101"}
    # importing them again finds them by store order id: nothing new
    again = gateway.picking_orders_create([same_number(north, 100), same_number(south, 100)])
    assert [result.outcome for result in again] == ["exists", "exists"]
    assert PickingOrder.objects.count() == 4


def test_account_numbers_stay_unique_per_store_and_for_customers_entered_in_intellitrack(place, stores):
    north, _south = stores
    Customer.objects.create(division=place.division, source_store=north, name="A", account_number="BC-1")
    Customer.objects.create(division=place.division, name="A", account_number="BC-1")  # entered by hand
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(division=place.division, source_store=north, name="B", account_number="BC-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(division=place.division, name="B", account_number="BC-1")


class _Editor:
    def __init__(self):
        self.connection = connection

    def execute(self, sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_the_migration_gives_customers_their_store_and_splits_a_shared_one(place, stores):
    north, south = stores
    shared = CustomerFactory(division=place.division, name="Ada", account_number="BC-7", city="Paris")
    home = ShipTo.objects.create(customer=shared, name="Ada", address1="1 Main St")
    only_north = CustomerFactory(division=place.division, name="Bob", account_number="BC-8")
    by_hand = CustomerFactory(division=place.division, name="Walk-in", account_number="WALKIN")
    for number, (store, customer) in enumerate([(north, shared), (south, shared), (south, shared),
                                                (north, only_north)], start=1):
        PickingOrderFactory(division=place.division, customer=customer, ship_to=home if customer == shared else None,
                            source_store=store, store_order_id=number, number=str(number))
    Customer.objects.update(source_store=None)  # as before the migration

    migration.customers_to_stores(apps, _Editor())

    shared.refresh_from_db()
    only_north.refresh_from_db()
    by_hand.refresh_from_db()
    assert (shared.source_store, only_north.source_store, by_hand.source_store) == (north, north, None)
    copy = Customer.objects.get(account_number="BC-7", source_store=south)
    assert (copy.name, copy.city) == ("Ada", "Paris")
    south_orders = PickingOrder.objects.filter(source_store=south)
    assert set(south_orders.values_list("customer_id", flat=True)) == {copy.pk}
    [moved] = set(south_orders.values_list("ship_to_id", flat=True))
    assert ShipTo.objects.get(pk=moved).customer == copy and ShipTo.objects.get(pk=moved).address1 == "1 Main St"
    assert PickingOrder.objects.get(source_store=north, customer=shared).ship_to == home
