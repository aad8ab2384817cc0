"""A store with three mapped inventory locations when a request fails half way, over real HTTP against the
sandbox store, on PostgreSQL and Redis: no (unit, location) change is lost or sent twice, every location's
level stays exact (expected levels from tests/sync/truth.py, computed without the code under test).

The batch sizes are made small so that a few dozen units cross request boundaries; what matters is where a
boundary falls, not how many pairs a request holds."""
from collections import Counter

import pytest

from plugin.bigcommerce.client import BigCommerceClient
from plugin.configuration.models import BasicConfiguration
from plugin.intellitrack import services as it
from plugin.intellitrack.models import Location, PickingOrderLine
from plugin.sync.jobs import adjustments, eod_locations
from plugin.sync.models import StoreItemLink, StoreItemLocationLevel, StoreSyncState, SyncRun, SyncRunItem
from tests.sync.conftest import run_job
from tests.sync.test_multi_location import level, mismatches, stock_levels
from tests.sync.test_multi_location import three_locations as three_locations  # the fixture
from tests.sync.truth import held_per_item, physical_at, shipped_before_go_live

pytestmark = [pytest.mark.django_db, pytest.mark.redis]
Job = SyncRun.Job
ABSOLUTE = "/v3/inventory/adjustments/absolute"
RELATIVE = "/v3/inventory/adjustments/relative"


def fail_after(monkeypatch, server, method_name: str, *, method: str, path: str, succeed: int, times=None,
               fault=None):
    """The client's `method_name` works `succeed` times, then the store answers 401 (nothing applied), or
    `fault`, to `times` requests of `method` `path` (None: every one)."""
    real = getattr(BigCommerceClient, method_name)
    calls = {"n": 0}

    def wrapped(self, *args, **kwargs):
        result = real(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == succeed:
            server.add_fault_rule(method=method, path=path, times=times, **(fault or {"status": 401}))
        return result

    monkeypatch.setattr(BigCommerceClient, method_name, wrapped)


def store_locations(config, scopes):
    l9 = config.default_site.division.sites.get(code="S9").locations.order_by("code").first()
    return {1: config.default_location, 2: l9, 3: Location.objects.get(pk=scopes[3]["location"])}


@pytest.mark.parametrize("fault", [{"status": 401}, {"drop": True}], ids=["refused", "no_answer"])
def test_a_failed_end_of_day_leaves_whole_links_unsent_and_the_export_sends_exactly_their_changes(
        three_locations, monkeypatch, fault):
    """401: the failed request applied nothing. No answer (the store applied it, then dropped the
    connection): its pairs are uncertain and the adjustment export must not add their changes again."""
    store, server, scopes = three_locations
    config = store.basic_configuration
    base = shipped_before_go_live(server.state)
    assert run_job(store, Job.BOOTSTRAP).status == SyncRun.Status.SUCCEEDED
    first = run_job(store, Job.EOD_EXPORT)
    assert first.status == SyncRun.Status.SUCCEEDED, first.error
    # Every unit changes at every location, then the End of Day fails after its first request.
    where = store_locations(config, scopes)
    links = list(StoreItemLink.objects.filter(store=store).select_related("item").order_by("id"))
    for link in links:
        for location in where.values():
            it.inventory_adjust(item=link.item, location=location, uom=config.default_uom, quantity_delta=1,
                                reason="found")
    # The store refuses the first link's product (tracking switched off there): its pairs fail alone.
    refused = server.state.products[links[0].product_id]
    tracking, refused.inventory_tracking = refused.inventory_tracking, "none"
    monkeypatch.setattr(eod_locations, "BATCH", 8)  # 8 is no multiple of 3 locations
    fail_after(monkeypatch, server, "adjust_absolute", method="PUT", path=ABSOLUTE, succeed=1, fault=fault)
    failed = run_job(store, Job.EOD_EXPORT)
    assert failed.status == SyncRun.Status.FAILED
    server.faults.clear_rules()
    refused.inventory_tracking = tracking

    items = list(SyncRunItem.objects.filter(run=failed))
    sent_pairs = Counter(item.detail["ref"] for item in items if item.outcome == SyncRunItem.Outcome.OK)
    assert sent_pairs and set(sent_pairs.values()) == {3}, "a link's pairs went in two requests"
    # What was sent is recorded at every location, with the snapshot; what failed says what the store had.
    sent_at_others = {(item.detail["ref"], item.detail["location_id"]): item.quantity_after for item in items
                      if item.outcome == SyncRunItem.Outcome.OK and item.detail["location_id"] != 1}
    assert sent_at_others
    recorded = {(row.link_id, row.store_location_id): row.last_exported_qty
                for row in StoreItemLocationLevel.objects.filter(link__store=store, absolute_ledger_id__isnull=False)
                if (row.link_id, row.store_location_id) in sent_at_others}
    assert recorded == sent_at_others
    refused_items = [item for item in items if item.outcome == SyncRunItem.Outcome.FAILED]
    assert {item.detail["ref"] for item in refused_items} >= {links[0].id}
    assert all(item.quantity_before is not None for item in refused_items)

    cycle = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert cycle.status == SyncRun.Status.SUCCEEDED, cycle.error
    assert mismatches(store, server, scopes, base) == {}


def test_a_pick_away_from_the_default_given_back_after_a_failed_request_is_sent_once(three_locations,
                                                                                        monkeypatch):
    store, server, scopes = three_locations
    config = store.basic_configuration
    base = shipped_before_go_live(server.state)
    assert run_job(store, Job.BOOTSTRAP).status == SyncRun.Status.SUCCEEDED
    assert run_job(store, Job.EOD_EXPORT).status == SyncRun.Status.SUCCEEDED
    where = store_locations(config, scopes)
    line = (PickingOrderLine.objects.filter(order__source_store=store, store_order_product_id__isnull=False,
                                            item__inventory_records__location=where[2],
                                            item__inventory_records__on_hand__gt=0).order_by("id").first())
    assert line is not None
    others = [link for link in StoreItemLink.objects.filter(store=store).select_related("item").order_by("id")
              if link.item_id != line.item_id]
    # Three pairs first, then the pick (two pairs: location 2 and the default): a batch of 4 is full after
    # the pick's first pair.
    for link, location_id in zip(others[:3], (1, 3, 1), strict=True):
        it.inventory_adjust(item=link.item, location=where[location_id], uom=config.default_uom,
                            quantity_delta=2, reason="found")
    it.order_pick(line=line, quantity=1, location=where[2])
    monkeypatch.setattr(adjustments, "BATCH", 4)
    fail_after(monkeypatch, server, "adjust_relative", method="POST", path=RELATIVE, succeed=1, times=1)
    cursor = StoreSyncState.objects.get(store=store).adjustments_cursor
    failed = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert failed.status == SyncRun.Status.FAILED and "401" in failed.error
    assert StoreSyncState.objects.get(store=store).adjustments_cursor > cursor  # the first batch went

    again = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert again.status == SyncRun.Status.SUCCEEDED, again.error
    assert mismatches(store, server, scopes, base) == {}


def test_holds_the_default_location_cannot_cover_are_held_at_the_other_locations_in_turn(three_locations):
    store, server, scopes = three_locations
    config = store.basic_configuration
    base = shipped_before_go_live(server.state)
    assert run_job(store, Job.BOOTSTRAP).status == SyncRun.Status.SUCCEEDED
    held = held_per_item(store, server.state, base=base)
    where = store_locations(config, scopes)
    links = {link.item_id: link for link in StoreItemLink.objects.filter(store=store).select_related("item")}
    item_id = next(item_id for item_id, units in sorted(held.items()) if units >= 2
                   and physical_at(scopes[3]).get(item_id, 0) >= 1)
    # The default site keeps 1 unit of an item orders hold at least 2 of.
    at_default = physical_at(scopes[1]).get(item_id, 0)
    it.inventory_adjust(item=links[item_id].item, location=where[1], uom=config.default_uom,
                        quantity_delta=1 - at_default, reason="counted")
    eod = run_job(store, Job.EOD_EXPORT)
    assert eod.status == SyncRun.Status.SUCCEEDED, eod.error
    assert mismatches(store, server, scopes, base) == {}
    link = links[item_id]
    shown = {location_id: level(server.state, link, location_id) for location_id in (1, 2, 3)}
    stock = {location_id: physical_at(scopes[location_id]).get(item_id, 0) for location_id in (1, 2, 3)}
    assert shown[1] == 0
    # Every held unit is off some location: none is offered twice.
    assert sum(stock.values()) - sum(shown.values()) == min(held[item_id], sum(stock.values()))
    sent_held = {item.detail["location_id"]: item.detail["held"]
                 for item in SyncRunItem.objects.filter(run=eod, detail__ref=link.id)}
    assert sum(sent_held.values()) == min(held[item_id], sum(stock.values())) and sent_held[1] == 1


@pytest.mark.parametrize("change", ["division_scope", "default_site_mapped_elsewhere"])
def test_a_basic_configuration_changed_around_the_mapping_fails_the_runs_and_sends_nothing(three_locations,
                                                                                          change):
    store, server, scopes = three_locations
    config = store.basic_configuration
    assert run_job(store, Job.BOOTSTRAP).status == SyncRun.Status.SUCCEEDED
    where = store_locations(config, scopes)
    link = StoreItemLink.objects.filter(store=store).select_related("item").order_by("id").first()
    it.inventory_adjust(item=link.item, location=where[2], uom=config.default_uom, quantity_delta=3,
                        reason="found")
    # Saved without the form (as an import or a shell would): the Default Site becomes location 2's site.
    if change == "division_scope":
        BasicConfiguration.objects.filter(store=store).update(quantity_scope="division")
    else:
        BasicConfiguration.objects.filter(store=store).update(default_site=where[2].site, default_location=where[2])
    store.refresh_from_db()
    before = stock_levels(server.state)
    for job in (Job.EOD_EXPORT, Job.EXPORT_ADJUSTMENTS):
        run = run_job(store, job)
        assert run.status == SyncRun.Status.FAILED, job
        assert "location mapping does not fit the Basic Configuration" in run.error
        assert "(#2)" in run.error
    assert stock_levels(server.state) == before
    assert not SyncRunItem.objects.filter(run__store=store, run__job__in=[Job.EOD_EXPORT, Job.EXPORT_ADJUSTMENTS])
