"""A store with three inventory locations mapped to three IntelliTrack sites, over real HTTP against the
sandbox store, on PostgreSQL and Redis: after the inventory import, after End of Day and after an
adjustment cycle every location's level in the store is exact.

Expected levels come from tests/sync/truth.py: the raw IntelliTrack stock rows of each location's scope,
less what the sandbox's own records say store orders hold (the default location first, then the others)."""
import math
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from plugin.configuration.locations import location_mapping_update, store_locations_read
from plugin.configuration.models import BasicConfiguration, StoreInventoryLocation
from plugin.intellitrack import services as it
from plugin.intellitrack.models import InventoryRecord, PickingOrderLine
from plugin.sync.jobs.adjustments import adjustments_store_visibility
from plugin.sync.models import StoreItemLink, StoreItemLocationLevel, SyncRun, SyncRunItem
from tests.bigcommerce.sandbox_fixtures import SANDBOX_STORE_HASH, SANDBOX_TOKEN
from tests.intellitrack.factories import LocationFactory, SiteFactory
from tests.sync.conftest import run_job
from tests.sync.factories import configured_store
from tests.sync.test_product_import import _add
from tests.sync.truth import HOLDS_NOTHING, shipped_before_go_live, truth_levels_by_location

pytestmark = [pytest.mark.django_db, pytest.mark.redis]
Job = SyncRun.Job


def level(state, link, location_id: int) -> int:
    key = -link.product_id if link.tracking == StoreItemLink.Tracking.PRODUCT else link.variant_id
    return state.on_hand(key, location_id)


@pytest.fixture
def three_locations(make_sandbox):
    """The sandbox store with locations 1, 2, 3 (3 stocked here, by staff, before go-live), a store whose
    default location 1 shows the Default Site S1, location 2 the whole site S9 and location 3 the single
    location L31 of site S3; open orders taking stock from location 1."""
    server = make_sandbox(products=40, orders=0, locations=3, plan="unlimited")
    state = server.state
    store = configured_store(name=f"multi{server.port}", base_url=server.base_url, store_hash=SANDBOX_STORE_HASH,
                             token=SANDBOX_TOKEN, order_statuses_to_import=[11])
    config = store.basic_configuration
    s9 = config.default_site.division.sites.get(code="S9")
    s3 = SiteFactory(division=config.default_division, code="S3")
    l31 = LocationFactory(site=s3, code="L31")
    LocationFactory(site=s3, code="L32")
    # Location 3 starts with its own stock; location 2 has the generator's.
    stocked = [(product, key) for product in state.products.values() for key in state.stock_keys(product)]
    state.adjust_inventory([{"location_id": 3, "quantity": 3 + index % 5,
                             **({"product_id": product.id} if key < 0 else {"variant_id": key})}
                            for index, (product, key) in enumerate(stocked)], relative=False)
    for product, key in stocked[:8]:
        state.adjust_inventory([{"location_id": 2, "quantity": 6,
                                 **({"product_id": product.id} if key < 0 else {"variant_id": key})}],
                               relative=False)
    # Open orders: placed (stock taken at location 1) and one partly shipped.
    units = [(product, key) for product, key in stocked if key > 0 and state.on_hand(key) >= 10][:4]
    orders = [state.place_order(items=[{"variant_id": key, "quantity": 2} for _, key in units[:2]], status_id=11),
              state.place_order(items=[{"variant_id": key, "quantity": 3} for _, key in units[1:4]], status_id=11),
              state.place_order(items=[{"variant_id": units[0][1], "quantity": 1}], status_id=7)]
    first = orders[1]
    state.create_shipment(first.id, {"order_address_id": first.addresses[0].id,
                                     "items": [{"order_product_id": first.products[0].id, "quantity": 1}]})

    refreshed = store_locations_read(store=store, user=None)
    assert refreshed.added == [1, 2, 3]
    rows = [{"store_location_id": 1, "site": None, "location": None},
            {"store_location_id": 2, "site": s9, "location": None},
            {"store_location_id": 3, "site": s3, "location": l31}]
    location_mapping_update(store=store, user=None, default_location_id=1, rows=rows)
    store.refresh_from_db()
    scopes = {1: {"site": config.default_site_id}, 2: {"site": s9.pk}, 3: {"location": l31.pk}}
    return store, server, scopes


def stock_levels(state) -> dict:
    """Every location's levels, a never-set level read as 0 (an absolute 0 sets one)."""
    return {location_id: {key: qty for key, qty in levels.items() if qty} for location_id, levels in state.stock.items()}


def mismatches(store, server, scopes, base) -> dict:
    expected = truth_levels_by_location(store, server.state, base=base, scopes=scopes, default_location_id=1)
    links = {link.id: link for link in StoreItemLink.objects.filter(store=store)}
    return {(links[link_id].sku, location_id): (level(server.state, links[link_id], location_id), want)
            for (link_id, location_id), want in expected.items()
            if level(server.state, links[link_id], location_id) != want}


def test_three_locations_exact_after_inventory_import_end_of_day_and_an_adjustment_cycle(three_locations):
    store, server, scopes = three_locations
    state = server.state
    config = store.basic_configuration
    base = shipped_before_go_live(state)
    before = stock_levels(state)

    boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status == SyncRun.Status.SUCCEEDED, boot.error
    links = list(StoreItemLink.objects.filter(store=store))
    assert len(links) > 20

    # Inventory import: each location's level landed in its own site's location; holds added back at S1.
    held = {}
    for order in state.orders.values():
        if order.status_id in HOLDS_NOTHING:
            continue
        for line in order.products:
            held[line.variant_id] = held.get(line.variant_id, 0) + line.quantity_deducted - base.get(line.id, 0)
    l9 = config.default_site.division.sites.get(code="S9").locations.order_by("code").first()
    landing = {1: config.default_location_id, 2: l9.pk, 3: scopes[3]["location"]}
    on_hand = {(row["item_id"], row["location_id"]): row["on_hand"]
               for row in InventoryRecord.objects.filter(item__store_links__store=store).values(
                   "item_id", "location_id", "on_hand")}
    wrong = {}
    for link in links:
        for location_id, it_location in landing.items():
            want = level(server.state, link, location_id) + (
                held.get(link.variant_id, 0) if location_id == 1 and link.variant_id else 0)
            got = on_hand.get((link.item_id, it_location), 0)
            if got != want:
                wrong[(link.sku, location_id)] = (got, want)
    assert wrong == {}
    assert sum(held.values()) > 0

    # End of Day: every location's level is exact, and nothing physical changed, so no level moved.
    eod = run_job(store, Job.EOD_EXPORT)
    assert eod.status == SyncRun.Status.SUCCEEDED, eod.error
    assert eod.summary["locations"] == [1, 2, 3]
    assert eod.summary["write_requests"] == math.ceil(len(links) * 3 / 2000)
    assert mismatches(store, server, scopes, base) == {}
    assert stock_levels(state) == before
    assert SyncRunItem.objects.filter(run=eod).count() == len(links) * 3
    # What was sent at the other locations is kept per (unit, location).
    sent_first = {(row.link_id, row.store_location_id): row.last_exported_qty
                  for row in StoreItemLocationLevel.objects.filter(link__store=store)}
    assert sent_first == {(link.id, location_id): level(state, link, location_id)
                          for link in links for location_id in (2, 3)}

    # Stock moves in IntelliTrack: site S9 only for one item, S3 (L31) and S1 for others, a move from S3 to
    # S9, and a pick of a store order at S9 (location 2 loses it, the default's holds shrink).
    uom = config.default_uom
    line = (PickingOrderLine.objects.filter(order__source_store=store, store_order_product_id__isnull=False,
                                            item__inventory_records__location=l9, item__inventory_records__on_hand__gt=0)
            .order_by("id").first())
    assert line is not None
    others = [link for link in links if link.item_id != line.item_id]
    s9_item, s3_item, s1_item, moved = others[:4]
    l31 = scopes_location(scopes)
    it.inventory_adjust(item=s9_item.item, location=l9, uom=uom, quantity_delta=5, reason="found at S9")
    it.inventory_adjust(item=s3_item.item, location=l31, uom=uom, quantity_delta=-2, reason="damaged at L31")
    it.inventory_adjust(item=s1_item.item, location=config.default_location, uom=uom, quantity_delta=4,
                        reason="found at S1")
    it.inventory_receive(item=moved.item, location=l31, uom=uom, quantity=7)
    it.inventory_move(item=moved.item, uom=uom, from_location=l31, to_location=l9, quantity=3)
    it.order_pick(line=line, quantity=1, location=l9)
    untouched = next(link for link in links if link.item_id not in {
        s9_item.item_id, s3_item.item_id, s1_item.item_id, moved.item_id, line.item_id})
    untouched_levels = {location_id: level(state, untouched, location_id) for location_id in (1, 2, 3)}

    cycle = run_job(store, Job.EXPORT_ADJUSTMENTS)
    assert cycle.status == SyncRun.Status.SUCCEEDED, cycle.error
    assert cycle.summary["write_requests"] == 1
    assert mismatches(store, server, scopes, base) == {}
    assert {location_id: level(state, untouched, location_id) for location_id in (1, 2, 3)} == untouched_levels
    # Only the locations whose scope changed were sent a change.
    sent = {(item.detail["ref"], item.detail["location_id"]) for item in SyncRunItem.objects.filter(run=cycle)}
    assert (s9_item.id, 2) in sent and (s3_item.id, 3) in sent and (s1_item.id, 1) in sent
    assert {location for ref, location in sent if ref == s9_item.id} == {2}
    assert {location for ref, location in sent if ref == s3_item.id} == {3}
    assert {location for ref, location in sent if ref == s1_item.id} == {1}
    assert {location for ref, location in sent if ref == moved.id} == {2, 3}
    picked_link = StoreItemLink.objects.get(store=store, item_id=line.item_id)
    assert {(picked_link.id, 1), (picked_link.id, 2)} <= sent

    # The next End of Day agrees with what the cycle left: nothing drifts.
    after_cycle = stock_levels(state)
    second = run_job(store, Job.EOD_EXPORT)
    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    assert stock_levels(state) == after_cycle
    assert {(item.detail["ref"], item.detail["location_id"]): item.quantity_before
            for item in SyncRunItem.objects.filter(run=second) if item.detail["location_id"] != 1} == sent_first
    assert StoreInventoryLocation.objects.filter(store=store).count() == 3


def scopes_location(scopes):
    from plugin.intellitrack.models import Location

    return Location.objects.get(pk=scopes[3]["location"])


def test_a_store_with_one_mapped_location_keeps_its_single_location_run(three_locations):
    """Locations 2 and 3 known but unmapped: End of Day sends location 1 only, as today."""
    store, server, _scopes = three_locations
    StoreInventoryLocation.objects.filter(store=store).update(site=None, location=None)
    before = {location_id: levels for location_id, levels in stock_levels(server.state).items() if location_id != 1}
    boot = run_job(store, Job.BOOTSTRAP)
    assert boot.status == SyncRun.Status.SUCCEEDED, boot.error
    eod = run_job(store, Job.EOD_EXPORT)
    assert eod.status == SyncRun.Status.SUCCEEDED, eod.error
    assert "locations" not in eod.summary
    assert SyncRunItem.objects.filter(run=eod).count() == StoreItemLink.objects.filter(store=store).count()
    assert {location_id: levels for location_id, levels in stock_levels(server.state).items() if location_id != 1} \
        == before


def test_levels_of_three_locations_share_requests_of_2000_and_a_dry_run_shows_each_locations_drift(make_sandbox):
    """About 740 linked units x 3 locations: 2 requests (not one per location), and after the store drifts
    at location 3 a dry run reports that drift there only."""
    server = make_sandbox(products=800, orders=0, locations=3, plan="unlimited")
    state = server.state
    store = configured_store(name=f"wide{server.port}", base_url=server.base_url, store_hash=SANDBOX_STORE_HASH,
                             token=SANDBOX_TOKEN)
    config = store.basic_configuration
    s9 = config.default_site.division.sites.get(code="S9")
    s3 = SiteFactory(division=config.default_division, code="S3")
    LocationFactory(site=s3, code="L31")
    store_locations_read(store=store, user=None)
    location_mapping_update(store=store, user=None, default_location_id=1, rows=[
        {"store_location_id": 2, "site": s9, "location": None}, {"store_location_id": 3, "site": s3, "location": None}])
    assert run_job(store, Job.BOOTSTRAP).status == SyncRun.Status.SUCCEEDED
    links = list(StoreItemLink.objects.filter(store=store))
    pairs = len(links) * 3
    assert 2000 < pairs <= 4000

    eod = run_job(store, Job.EOD_EXPORT)
    assert eod.status == SyncRun.Status.SUCCEEDED, eod.error
    assert eod.summary["write_requests"] == math.ceil(pairs / 2000) == 2
    scopes = {1: {"site": config.default_site_id}, 2: {"site": s9.pk}, 3: {"site": s3.pk}}
    assert mismatches(store, server, scopes, shipped_before_go_live(state)) == {}

    # Staff change levels at location 3 in the store's control panel; a dry run shows it there only.
    drifted = links[:5]
    for link in drifted:
        identity = {"product_id": link.product_id} if link.variant_id is None else {"variant_id": link.variant_id}
        state.set_stock(quantity=level(state, link, 3) + 9, location_id=3, **identity)
    dry = run_job(store, Job.EOD_EXPORT, dry_run=True)
    assert dry.status == SyncRun.Status.SUCCEEDED, dry.error
    assert dry.summary["drifted_items"] == 5
    drifts = {(item.detail["ref"], item.detail["location_id"]): item.detail["drift"]
              for item in SyncRunItem.objects.filter(run=dry) if item.detail.get("drift")}
    assert drifts == {(link.id, 3): -9 for link in drifted}


def test_a_product_added_after_go_live_gets_each_locations_stock_in_its_own_site(three_locations):
    """The product import of an auto sync cycle gives a new product's items the store's level of every mapped
    location at that location's site (held units added back at the default only)."""
    store, server, scopes = three_locations
    state = server.state
    assert run_job(store, Job.BOOTSTRAP).status == SyncRun.Status.SUCCEEDED
    product_id, variant_ids = _add(state, name="Fresh", tracking="variant", skus=["FRESH-S", "FRESH-M"])
    for location_id, quantities in ((1, (7, 4)), (2, (3, 0)), (3, (5, 9))):
        for variant_id, quantity in zip(variant_ids, quantities, strict=True):
            state.set_stock(quantity=quantity, variant_id=variant_id, location_id=location_id)
    state.place_order(items=[{"variant_id": variant_ids[0], "quantity": 2}], status_id=11)  # 2 held at 1
    state.products[product_id].date_modified = time.time()

    BasicConfiguration.objects.filter(store=store).update(
        auto_sync_enabled=True, last_auto_sync_completed_on=timezone.now() - timedelta(minutes=10))
    store.refresh_from_db()
    cycle = run_job(store, Job.AUTO_SYNC, trigger=SyncRun.Trigger.SCHEDULE)
    assert cycle.status == SyncRun.Status.SUCCEEDED, cycle.error
    config = store.basic_configuration
    l9 = config.default_site.division.sites.get(code="S9").locations.order_by("code").first()
    items = {link.variant_id: link.item_id for link in StoreItemLink.objects.filter(store=store, product_id=product_id)}
    on_hand = {(row.item_id, row.location_id): row.on_hand
               for row in InventoryRecord.objects.filter(item_id__in=items.values())}
    assert on_hand == {
        (items[variant_ids[0]], config.default_location_id): 5 + 2, (items[variant_ids[1]], config.default_location_id): 4,
        (items[variant_ids[0]], l9.pk): 3,
        (items[variant_ids[0]], scopes[3]["location"]): 5, (items[variant_ids[1]], scopes[3]["location"]): 9,
    }
    # The adjust page tells staff that a change at a mapped site reaches the store, and elsewhere it does not.
    s7 = SiteFactory(division=config.default_division, code="S7")
    l7 = LocationFactory(site=s7, code="L71")
    item_id = items[variant_ids[0]]
    seen = {location.code: adjustments_store_visibility(item_id=item_id, division_id=config.default_division_id,
                                                         site_id=location.site_id, location_id=location.pk)[0].in_scope
            for location in (l9, scopes_location(scopes), l7, config.default_location)}
    assert seen == {l9.code: True, "L31": True, "L71": False, config.default_location.code: True}
    other_l3 = LocationFactory(site=scopes_location(scopes).site, code="L33")  # L31 alone is mapped in S3
    assert not adjustments_store_visibility(item_id=item_id, division_id=config.default_division_id,
                                            site_id=other_l3.site_id, location_id=other_l3.pk)[0].in_scope


def test_a_real_end_of_day_counts_the_levels_it_changed_and_the_dashboard_shows_them(three_locations, client,
                                                                                    viewer_user):
    from django.urls import reverse

    from plugin.portal.dashboard import dashboard_rows

    store, _server, _scopes = three_locations
    config = store.basic_configuration
    assert run_job(store, Job.BOOTSTRAP).status == SyncRun.Status.SUCCEEDED
    first = run_job(store, Job.EOD_EXPORT)
    assert first.status == SyncRun.Status.SUCCEEDED, first.error
    # One item found at the default site: only its level at location 1 differs from what was last sent.
    link = StoreItemLink.objects.filter(store=store).order_by("id").first()
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=4, reason="found at S1")
    second = run_job(store, Job.EOD_EXPORT)
    assert second.status == SyncRun.Status.SUCCEEDED, second.error
    assert second.summary["changed_items"] == 1
    [row] = dashboard_rows(store_ids=[store.pk])
    assert row.drift_found == 1
    client.force_login(viewer_user)
    assert "1 item out of sync" in client.get(reverse("dashboard")).content.decode()
