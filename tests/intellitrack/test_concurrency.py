"""Row locks on real PostgreSQL: two connections picking the last unit, or the last open quantity of a
line, at the same time; exactly one wins. Moves in opposite directions never deadlock."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from plugin.intellitrack import services
from plugin.intellitrack.models import InventoryRecord, InventoryTransaction, Pick, PickingOrderLine

from .factories import PickingOrderFactory, PickingOrderLineFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(*jobs, timeout=20):
    """Run each job in its own thread (its own database connection), released at the same instant.
    Returns each job's result or the ValidationError it raised."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def runner(index, job):
        try:
            barrier.wait(timeout)
            outcomes[index] = job()
        except ValidationError as exc:
            outcomes[index] = exc
        except Exception as exc:  # reported by the assertion below, with its type
            outcomes[index] = ("unexpected", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(n, job)) for n, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a job hung"
    return outcomes


def two_orders_for_one_unit(place):
    services.inventory_receive(item=place.item, location=place.loc_a, uom=place.ea, quantity=1)
    lines = []
    for number in ("R-1", "R-2"):
        order = PickingOrderFactory(division=place.division, number=number)
        lines.append(PickingOrderLineFactory(order=order, line_number=1, item=place.item, ordered_qty=1))
    return lines


@pytest.mark.parametrize("attempt", range(5))
def test_two_pickers_race_for_the_last_unit_and_exactly_one_wins(place, attempt):
    lines = two_orders_for_one_unit(place)
    outcomes = run_together(
        *[
            lambda line=line: services.order_pick(line=line, quantity=1, location=place.loc_a)
            for line in lines
        ]
    )
    winners = [o for o in outcomes if isinstance(o, Pick)]
    losers = [o for o in outcomes if isinstance(o, ValidationError)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    assert "Only 0 on hand" in losers[0].message_dict["quantity"][0]
    assert InventoryRecord.objects.get(item=place.item, location=place.loc_a).on_hand == 0
    assert InventoryTransaction.objects.filter(kind="pick").count() == 1
    assert sorted(PickingOrderLine.objects.values_list("picked_qty", flat=True)) == [0, 1]


def test_the_second_picker_waits_for_the_first_and_then_sees_no_stock(place):
    """Force the overlap: the first pick holds its locks until told to commit."""
    first_line, second_line = two_orders_for_one_unit(place)
    picked, commit = threading.Event(), threading.Event()
    errors = []

    def slow_first():
        try:
            with transaction.atomic():
                services.order_pick(line=first_line, quantity=1, location=place.loc_a)
                picked.set()
                commit.wait(10)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    second_outcome = []

    def second():
        try:
            second_outcome.append(services.order_pick(line=second_line, quantity=1, location=place.loc_a))
        except ValidationError as exc:
            second_outcome.append(exc)
        finally:
            connection.close()

    first = threading.Thread(target=slow_first)
    first.start()
    assert picked.wait(10)
    waiting = threading.Thread(target=second)
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive(), "the second pick must wait on the row lock"
    commit.set()
    first.join(10)
    waiting.join(10)
    assert not errors
    [outcome] = second_outcome
    assert isinstance(outcome, ValidationError)
    assert InventoryRecord.objects.get(item=place.item, location=place.loc_a).on_hand == 0


def test_two_pickers_race_for_the_last_open_quantity_of_one_line(place):
    services.inventory_receive(item=place.item, location=place.loc_a, uom=place.ea, quantity=10)
    line = PickingOrderLineFactory(
        order=PickingOrderFactory(division=place.division, number="R-3"), item=place.item, ordered_qty=1
    )
    outcomes = run_together(
        lambda: services.order_pick(line=line, quantity=1, location=place.loc_a),
        lambda: services.order_pick(line=line, quantity=1, location=place.loc_a),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Pick", "ValidationError"], outcomes
    line.refresh_from_db()
    assert line.picked_qty == 1 and line.order.status == "closed"
    assert InventoryRecord.objects.get(item=place.item, location=place.loc_a).on_hand == 9


def test_moves_in_opposite_directions_do_not_deadlock(place):
    for location in (place.loc_a, place.loc_b):
        services.inventory_receive(item=place.item, location=location, uom=place.ea, quantity=100)

    def shuttle(source, target):
        def job():
            for _ in range(15):
                services.inventory_move(
                    item=place.item, uom=place.ea, from_location=source, to_location=target, quantity=1
                )

        return job

    outcomes = run_together(shuttle(place.loc_a, place.loc_b), shuttle(place.loc_b, place.loc_a))
    assert outcomes == [None, None]
    totals = InventoryRecord.objects.filter(item=place.item).values_list("on_hand", flat=True)
    assert sorted(totals) == [100, 100]
    assert InventoryTransaction.objects.filter(kind__in=["move_in", "move_out"]).count() == 60


def test_two_imports_of_the_same_orders_both_finish_and_create_each_order_once(place):
    """Importers of one division wait for each other: the second sees the first one's orders, customers
    and ship-tos instead of inserting them again."""
    from plugin.intellitrack.gateway import (
        CustomerData,
        EmbeddedGateway,
        PickingOrderData,
        PickingOrderLineData,
        ShipToData,
    )
    from plugin.intellitrack.models import Customer, PickingOrder, ShipTo

    orders = [
        PickingOrderData(
            division=place.division.pk,
            store_id=None,
            store_order_id=None,
            number=f"IMP-{n}",
            customer=CustomerData(name=f"Buyer {n % 7}", email=f"b{n % 7}@example.com"),
            ship_to=ShipToData(name=f"Buyer {n % 7}", city="Springfield", postal_code=str(n % 3)),
            lines=(PickingOrderLineData(line_number=1, item_id=place.item.pk, ordered_qty=1),),
        )
        for n in range(50)
    ]
    gateway = EmbeddedGateway()
    outcomes = run_together(
        lambda: gateway.picking_orders_create(orders), lambda: gateway.picking_orders_create(orders)
    )
    assert all(isinstance(o, list) for o in outcomes), outcomes
    assert sorted("/".join(sorted({r.outcome for r in o})) for o in outcomes) == ["created", "exists"]
    assert PickingOrder.objects.count() == 50
    assert Customer.objects.count() == 7
    # Every customer gets the ship-tos its orders carry, once each.
    expected_ship_tos = len({(n % 7, n % 3) for n in range(50)})
    assert ShipTo.objects.count() == expected_ship_tos


@pytest.mark.parametrize("kind", ["initial_set", "items"])
def test_two_bulk_runs_over_the_same_rows_in_opposite_orders_do_not_deadlock(place, kind):
    from plugin.intellitrack.models import Item

    count = 3000
    if kind == "items":
        entries = [{"item_number": f"B{n:05d}"} for n in range(count)]

        def run(rows):
            return lambda: services.items_upsert(division=place.division, entries=rows)

        jobs = [run(entries), run(list(reversed(entries)))]
    else:
        Item.objects.bulk_create(
            [
                Item(division=place.division, item_number=f"B{n:05d}", default_uom=place.ea)
                for n in range(count)
            ]
        )
        pairs = [
            (item_id, 5)
            for item_id in Item.objects.filter(item_number__startswith="B").values_list("id", flat=True)
        ]

        def run(rows):
            return lambda: services.inventory_initial_set(location=place.loc_a, uom=place.ea, quantities=rows)

        jobs = [run(pairs), run(list(reversed(pairs)))]
    outcomes = run_together(*jobs, timeout=60)
    assert all(isinstance(outcome, list) for outcome in outcomes), outcomes


def _ledger_lock_is_free() -> bool:
    """Asked from another connection: could a stock writer take the ledger lock now?"""
    answer = []

    def probe():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s)", [services.LEDGER_LOCK_KEY])
                answer.append(cursor.fetchone()[0])
        finally:
            connection.close()

    thread = threading.Thread(target=probe)
    thread.start()
    thread.join(10)
    return answer == [True]


def test_a_failed_high_water_read_inside_a_transaction_does_not_keep_the_ledger_lock(place, monkeypatch):
    """The read fails inside the caller's transaction; once that transaction is gone, writers must be
    able to go on (a session lock whose unlock failed would block them for the connection's lifetime)."""
    from django.db import DatabaseError

    from plugin.intellitrack.models import Pick

    monkeypatch.setattr(Pick._meta, "db_table", "no_such_table")
    with pytest.raises(DatabaseError), transaction.atomic():
        services.ledger_high_water()
    monkeypatch.undo()
    assert _ledger_lock_is_free()
    services.inventory_receive(item=place.item, location=place.loc_a, uom=place.ea, quantity=1)
    assert services.ledger_high_water()[0] == InventoryTransaction.objects.latest("id").id
