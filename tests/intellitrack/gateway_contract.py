"""The IntelliTrack gateway contract: behaviour every gateway implementation must show.

A test module runs it for one implementation by subclassing `GatewayContract` (as `Test...`) and
providing three fixtures:

- `gateway`: the implementation under test;
- `world`: master data that already exists on that IntelliTrack: a SimpleNamespace with division (code),
  division_id, site_id, other_site_id, loc_a and loc_b (in site_id), loc_c (in other_site_id), ea_id
  (each count 1), cs_id (each count 12), store_id and other_store_id (two store connections);
- `driver`: how staff act inside IntelliTrack, outside the gateway: `receive(item_id, location_id,
  quantity, uom_id)` and `pick(order_id, line_number, quantity, location_id, tracking_number="",
  carrier_name="")`.

Nothing here touches models, so a remote gateway can run the same tests."""

import datetime

import pytest

from plugin.intellitrack.gateway import (
    CarrierData,
    CustomerData,
    GatewayError,
    IntelliTrackGateway,
    ItemData,
    PickingOrderData,
    PickingOrderLineData,
    ShipToData,
    StockRow,
)

ORDER_DATE = datetime.date(2026, 11, 2)


class GatewayContract:
    # --- helpers ----------------------------------------------------------------------------

    def make_items(self, gateway, world, *numbers):
        results = gateway.items_upsert(
            world.division, [ItemData(item_number=n, description=f"Thing {n}") for n in numbers]
        )
        assert all(result.ok for result in results), results
        return [result.item_id for result in results]

    def order_data(self, world, store_order_id, lines, *, store_id=None, customer=None, **extra):
        return PickingOrderData(
            division=world.division,
            store_id=world.store_id if store_id is None else store_id,
            store_order_id=store_order_id,
            order_date=ORDER_DATE,
            customer=customer
            or CustomerData(name="Ada Buyer", account_number="C-1", email="ada@example.com"),
            lines=tuple(
                PickingOrderLineData(
                    line_number=n, item_id=item_id, ordered_qty=qty, store_order_product_id=500 + n
                )
                for n, (item_id, qty) in enumerate(lines, start=1)
            ),
            **extra,
        )

    # --- master data ------------------------------------------------------------------------

    def test_is_a_gateway(self, gateway):
        assert isinstance(gateway, IntelliTrackGateway)

    def test_master_data_lists(self, gateway, world):
        assert world.division in [d.code for d in gateway.divisions()]
        sites = gateway.sites(world.division)
        assert {s.id for s in sites} == {world.site_id, world.other_site_id}
        assert {s.division_id for s in sites} == {world.division_id}
        assert [loc.id for loc in gateway.locations(site_id=world.site_id)] == [world.loc_a, world.loc_b]
        assert {loc.id for loc in gateway.locations(division=world.division)} == {
            world.loc_a,
            world.loc_b,
            world.loc_c,
        }
        uoms = {u.id: u.each_count for u in gateway.uoms(world.division)}
        assert uoms == {world.ea_id: 1, world.cs_id: 12}

    def test_carriers_upsert_is_idempotent(self, gateway, world):
        carriers = [CarrierData("UPS", (("Ground", "3-5 days"), ("Next Day", ""))), CarrierData("USPS")]
        first = gateway.carriers_upsert(world.division, carriers)
        second = gateway.carriers_upsert(world.division, [CarrierData("UPS", (("Ground", "other text"),))])
        assert second["UPS"] == first["UPS"]
        listed = {c.name: c for c in gateway.carriers(world.division)}
        assert set(listed) == {"UPS", "USPS"}
        assert [(m.name, m.description) for m in listed["UPS"].methods] == [
            ("Ground", "3-5 days"),
            ("Next Day", ""),
        ]

    # --- items ------------------------------------------------------------------------------

    def test_items_upsert_creates_updates_and_reports_bad_keys(self, gateway, world):
        first = gateway.items_upsert(
            world.division,
            [
                ItemData("SKU-1", "One", key="p1"),
                ItemData("  ", "Blank", key="p2"),
                ItemData("SKU-2", "Two", key="p3"),
                ItemData("SKU-DUP", "A", key="p4"),
                ItemData("SKU-DUP", "B", key="p5"),
            ],
        )
        assert [(r.key, r.outcome) for r in first] == [
            ("p1", "created"),
            ("p2", "blank"),
            ("p3", "created"),
            ("p4", "duplicate"),
            ("p5", "duplicate"),
        ]
        assert first[1].item_id is None and first[1].reason
        assert "SKU-DUP" in first[3].reason
        second = gateway.items_upsert(
            world.division, [ItemData("SKU-1", "One"), ItemData("SKU-2", "Two, renamed")]
        )
        assert [(r.outcome, r.item_id) for r in second] == [
            ("unchanged", first[0].item_id),
            ("updated", first[2].item_id),
        ]
        found = gateway.items_find(world.division, ["SKU-1", "SKU-2", "NOPE"])
        assert set(found) == {"SKU-1", "SKU-2"}
        assert found["SKU-2"].description == "Two, renamed" and found["SKU-2"].active
        assert gateway.items_get([first[0].item_id])[first[0].item_id].item_number == "SKU-1"

    def test_items_upsert_refuses_an_alternate_number_of_another_item(self, gateway, world):
        gateway.items_upsert(world.division, [ItemData("SKU-1", alternate_number="ALT-1")])
        results = gateway.items_upsert(
            world.division,
            [ItemData("SKU-2", alternate_number="ALT-1"), ItemData("SKU-3", alternate_number="ALT-3")],
        )
        assert [r.outcome for r in results] == ["duplicate", "created"]
        assert "ALT-1" in results[0].reason
        assert set(gateway.items_find(world.division, ["SKU-2", "SKU-3"])) == {"SKU-3"}

    def test_created_items_write_new_item_ledger_rows(self, gateway, world):
        start = gateway.ledger_since(0).next_cursor
        item_ids = self.make_items(gateway, world, "N-1", "N-2")
        page = gateway.ledger_since(start)
        assert sorted((row.kind, row.item_id, row.quantity_delta) for row in page.rows) == sorted(
            ("new_item", item_id, 0) for item_id in item_ids
        )

    # --- stock ------------------------------------------------------------------------------

    def test_initial_stock_set_fills_only_empty_places_unless_overwrite(self, gateway, world):
        a, b, c = self.make_items(gateway, world, "S-A", "S-B", "S-C")
        first = gateway.initial_stock_set(
            location_id=world.loc_a,
            uom_id=world.ea_id,
            rows=[StockRow(a, 5), StockRow(b, 0), StockRow(999_999_999, 3), StockRow(c, -2)],
        )
        assert [r.outcome for r in first] == ["set", "skipped", "unknown_item", "skipped"]
        assert (first[0].on_hand_before, first[0].on_hand_after) == (0, 5)
        again = gateway.initial_stock_set(
            location_id=world.loc_a, uom_id=world.ea_id, rows=[StockRow(a, 9), StockRow(b, 4)]
        )
        assert [(r.outcome, r.on_hand_after) for r in again] == [("exists", 5), ("set", 4)]
        forced = gateway.initial_stock_set(
            location_id=world.loc_a, uom_id=world.ea_id, rows=[StockRow(a, 9), StockRow(b, 4)], overwrite=True
        )
        assert [(r.outcome, r.on_hand_before, r.on_hand_after) for r in forced] == [
            ("overwritten", 5, 9),
            ("unchanged", 4, 4),
        ]
        on_hand = gateway.on_hand_by_item(
            division=world.division, scope="default_location", location_id=world.loc_a
        )
        assert on_hand == {a: 9, b: 4}
        rows = [r for r in gateway.ledger_since(0, kinds=["initial_set"]).rows if r.item_id == a]
        assert [(r.quantity_delta, r.balance_after) for r in rows] == [(5, 5), (4, 9)]

    def test_on_hand_by_item_per_scope_in_single_units(self, gateway, world, driver):
        a, b = self.make_items(gateway, world, "Q-A", "Q-B")
        driver.receive(a, world.loc_a, 3, world.ea_id)
        driver.receive(a, world.loc_b, 4, world.ea_id)
        driver.receive(a, world.loc_c, 5, world.ea_id)
        driver.receive(a, world.loc_a, 1, world.cs_id)
        driver.receive(b, world.loc_c, 2, world.ea_id)
        kwargs = {"division": world.division, "site_id": world.site_id, "location_id": world.loc_a}
        assert gateway.on_hand_by_item(scope="default_location", **kwargs) == {a: 3 + 12}
        assert gateway.on_hand_by_item(scope="default_site", **kwargs) == {a: 3 + 4 + 12}
        assert gateway.on_hand_by_item(scope="division", division=world.division) == {a: 3 + 4 + 5 + 12, b: 2}
        assert gateway.on_hand_by_item(scope="division", division=world.division_id, item_ids=[b]) == {b: 2}
        with pytest.raises(GatewayError):
            gateway.on_hand_by_item(scope="everywhere", division=world.division)

    # --- picking orders ---------------------------------------------------------------------

    def test_picking_orders_create_is_idempotent(self, gateway, world):
        a, b = self.make_items(gateway, world, "O-A", "O-B")
        order = self.order_data(
            world,
            1001,
            [(a, 2), (b, 1)],
            ship_to=ShipToData(name="Ada", address1="1 Main St", city="Springfield", country="US"),
            carrier_name="UPS",
            shipping_method_name="Ground",
        )
        [created] = gateway.picking_orders_create([order])
        assert (created.outcome, created.number, created.store_order_id) == ("created", "1001", 1001)
        [again] = gateway.picking_orders_create([order])
        assert (again.outcome, again.order_id) == ("exists", created.order_id)
        got = gateway.picking_orders_get(store_id=world.store_id, store_order_ids=[1001, 1002])
        assert list(got) == [1001]
        info = got[1001]
        assert (info.id, info.status, info.store_id, info.order_date) == (
            created.order_id,
            "open",
            world.store_id,
            ORDER_DATE,
        )
        assert [
            (li.line_number, li.item_id, li.ordered_qty, li.picked_qty, li.store_order_product_id)
            for li in info.lines
        ] == [
            (1, a, 2, 0, 501),
            (2, b, 1, 0, 502),
        ]
        assert "UPS" in [c.name for c in gateway.carriers(world.division)]

    def test_same_store_order_twice_in_one_batch_gives_one_order(self, gateway, world):
        [a] = self.make_items(gateway, world, "T-A")
        results = gateway.picking_orders_create(
            [self.order_data(world, 7, [(a, 1)]), self.order_data(world, 7, [(a, 1)])]
        )
        assert [r.outcome for r in results] == ["created", "exists"]
        assert results[0].order_id == results[1].order_id

    def test_the_same_store_order_id_from_another_store_is_another_order(self, gateway, world):
        [a] = self.make_items(gateway, world, "T-B")
        [first] = gateway.picking_orders_create([self.order_data(world, 8, [(a, 1)])])
        [second] = gateway.picking_orders_create(
            [self.order_data(world, 8, [(a, 1)], store_id=world.other_store_id, number="OTHER-8")]
        )
        assert second.outcome == "created" and second.order_id != first.order_id

    def test_invalid_orders_are_reported_and_do_not_stop_the_batch(self, gateway, world):
        [a] = self.make_items(gateway, world, "V-A")
        results = gateway.picking_orders_create(
            [
                self.order_data(world, 11, []),
                self.order_data(world, 12, [(999_999_999, 1)]),
                self.order_data(world, 13, [(a, 0)]),
                self.order_data(world, 14, [(a, 3)]),
                self.order_data(world, 15, [(a, 1)], number="14"),
            ]
        )
        assert [r.outcome for r in results] == ["invalid", "invalid", "invalid", "created", "invalid"]
        assert all(r.reason for r in results if r.outcome == "invalid")
        assert set(gateway.picking_orders_get(store_id=world.store_id, store_order_ids=range(10, 16))) == {14}

    def test_unpicked_by_item_counts_open_orders_of_one_store(self, gateway, world, driver):
        a, b = self.make_items(gateway, world, "U-A", "U-B")
        driver.receive(a, world.loc_a, 50, world.ea_id)
        results = gateway.picking_orders_create(
            [
                self.order_data(world, 21, [(a, 4), (b, 1)]),
                self.order_data(world, 22, [(a, 3)]),
                self.order_data(world, 23, [(a, 10)]),
                self.order_data(world, 24, [(a, 20)], store_id=world.other_store_id, number="X-24"),
            ]
        )
        order_21, _, order_23, _ = (r.order_id for r in results)
        driver.pick(order_21, 1, 1, world.loc_a)
        gateway.order_cancel(order_23)
        assert gateway.unpicked_by_item(world.store_id) == {a: 3 + 3, b: 1}
        assert gateway.unpicked_by_item(world.store_id, item_ids=[b]) == {b: 1}
        assert gateway.unpicked_by_item(world.other_store_id) == {a: 20}

    def test_order_close_and_cancel(self, gateway, world):
        [a] = self.make_items(gateway, world, "C-A")
        first, second = gateway.picking_orders_create(
            [self.order_data(world, 31, [(a, 1)]), self.order_data(world, 32, [(a, 1)])]
        )
        closed = gateway.order_close(first.order_id)
        assert closed.status == "closed" and closed.closed_at is not None
        assert gateway.order_close(first.order_id).status == "closed"
        with pytest.raises(GatewayError):
            gateway.order_cancel(first.order_id)
        assert gateway.order_cancel(second.order_id).status == "cancelled"
        with pytest.raises(GatewayError):
            gateway.order_close(999_999_999)

    # --- changes since a cursor -------------------------------------------------------------

    def test_picks_since_pages_through_picks(self, gateway, world, driver):
        a, b = self.make_items(gateway, world, "P-A", "P-B")
        driver.receive(a, world.loc_a, 10, world.ea_id)
        driver.receive(b, world.loc_b, 10, world.ea_id)
        start = gateway.picks_since(0).next_cursor
        assert gateway.picks_since(start).picks == []
        [order] = gateway.picking_orders_create([self.order_data(world, 41, [(a, 3), (b, 1)])])
        [other] = gateway.picking_orders_create(
            [self.order_data(world, 42, [(a, 1)], store_id=world.other_store_id, number="X-42")]
        )
        driver.pick(order.order_id, 1, 2, world.loc_a, tracking_number="1Z1", carrier_name="UPS")
        driver.pick(other.order_id, 1, 1, world.loc_a)
        driver.pick(order.order_id, 2, 1, world.loc_b)
        driver.pick(order.order_id, 1, 1, world.loc_a, tracking_number="1Z2")

        page = gateway.picks_since(start, store_id=world.store_id, limit=2)
        assert [(p.line_number, p.quantity, p.tracking_number) for p in page.picks] == [
            (1, 2, "1Z1"),
            (2, 1, ""),
        ]
        first = page.picks[0]
        assert (first.store_id, first.store_order_id, first.store_order_product_id, first.item_id) == (
            world.store_id,
            41,
            501,
            a,
        )
        assert (first.location_id, first.carrier_name, first.order_number) == (world.loc_a, "UPS", "41")
        assert page.next_cursor == page.picks[-1].cursor
        rest = gateway.picks_since(page.next_cursor, store_id=world.store_id, limit=2)
        assert [(p.line_number, p.tracking_number, p.order_status) for p in rest.picks] == [
            (1, "1Z2", "closed")
        ]
        done = gateway.picks_since(rest.next_cursor, store_id=world.store_id)
        assert done.picks == [] and done.next_cursor >= rest.next_cursor
        everything = gateway.picks_since(start)
        assert len(everything.picks) == 4
        assert [p.cursor for p in everything.picks] == sorted(p.cursor for p in everything.picks)

    def test_ledger_since_pages_by_id_and_filters_kinds(self, gateway, world, driver):
        [a] = self.make_items(gateway, world, "L-A")
        start = gateway.ledger_since(0).next_cursor
        for quantity in (1, 2, 3):
            driver.receive(a, world.loc_a, quantity, world.ea_id)
        [order] = gateway.picking_orders_create([self.order_data(world, 51, [(a, 2)])])
        driver.pick(order.order_id, 1, 2, world.loc_a)

        page = gateway.ledger_since(start, limit=2)
        assert [(r.quantity_delta, r.balance_after) for r in page.rows] == [(1, 1), (2, 3)]
        assert page.next_cursor == page.rows[-1].id
        rest = gateway.ledger_since(page.next_cursor)
        assert [(r.kind, r.quantity_delta, r.balance_after) for r in rest.rows][-1] == ("pick", -2, 4)
        pick_row = rest.rows[-1]
        assert (pick_row.picking_order_id, pick_row.store_id, pick_row.store_order_id) == (
            order.order_id,
            world.store_id,
            51,
        )
        assert all(
            r.item_number == "L-A" and r.location_id == world.loc_a and r.each_count == 1 for r in rest.rows
        )
        only_picks = gateway.ledger_since(start, kinds=["pick"])
        assert [r.id for r in only_picks.rows] == [pick_row.id]
        assert gateway.ledger_since(rest.next_cursor).rows == []
