"""Import inventory (only where IntelliTrack holds none, unless overwrite is confirmed) and carriers."""
import pytest

from plugin.intellitrack import services as it
from plugin.intellitrack.models import Carrier, InventoryRecord, ShippingMethod
from plugin.sync.mappers import SHIPMENT_PROVIDERS
from plugin.sync.models import StoreItemLink, SyncRun
from tests.sync.conftest import run_job, store_level
from tests.sync.truth import held_per_item, shipped_before_go_live

pytestmark = pytest.mark.django_db
Job = SyncRun.Job


def on_hand_at_default(store) -> dict[int, int]:
    config = store.basic_configuration
    return dict(InventoryRecord.objects.filter(location=config.default_location, uom=config.default_uom)
                .values_list("item_id", "on_hand"))


def test_inventory_import_sets_only_empty_items_unless_overwrite_confirmed(shop):
    store, server = shop
    run_job(store, Job.IMPORT_PRODUCTS)
    base = shipped_before_go_live(server.state)
    first = run_job(store, Job.IMPORT_INVENTORY)
    assert first.status == SyncRun.Status.SUCCEEDED, first.error
    links = list(StoreItemLink.objects.filter(store=store).select_related("item"))
    stock = on_hand_at_default(store)
    # on-hand is the store's level plus what open orders set aside and have not shipped (decision 18)
    held = held_per_item(store, server.state, base=base)
    assert any(held.values())
    for link in links:
        level = store_level(server.state, link)
        assert stock.get(link.item_id, 0) == level + held.get(link.item_id, 0), link.sku
    assert first.items.filter(action="none_in_store").exists()  # store level 0: nothing to set

    # IntelliTrack stock changes, the store's too: a plain rerun keeps IntelliTrack's numbers
    config = store.basic_configuration
    link = next(link for link in links if stock.get(link.item_id))
    it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                        quantity_delta=5, reason="count")
    identity = {"product_id": link.product_id} if link.tracking == "product" else {"variant_id": link.variant_id}
    server.state.set_stock(quantity=321, **identity)
    again = run_job(store, Job.IMPORT_INVENTORY)
    kept = again.items.get(detail__ref=[link.product_id, link.variant_id])
    assert kept.action == "kept" and "overwrite not confirmed" in kept.reason
    assert on_hand_at_default(store)[link.item_id] == stock[link.item_id] + 5
    assert again.items.filter(action__in=["set_stock", "overwritten"]).count() == 0

    confirmed = run_job(store, Job.IMPORT_INVENTORY, options={"overwrite": True})
    row = confirmed.items.get(detail__ref=[link.product_id, link.variant_id])
    expected = 321 + held.get(link.item_id, 0)
    assert (row.action, row.quantity_before, row.quantity_after) == ("overwritten", stock[link.item_id] + 5, expected)
    assert on_hand_at_default(store)[link.item_id] == expected


def test_carriers_import_creates_carriers_and_methods_once(shop):
    store, server = shop
    run = run_job(store, Job.IMPORT_CARRIERS)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    names = set(Carrier.objects.filter(division=store.basic_configuration.default_division)
                .values_list("name", flat=True))
    assert set(SHIPMENT_PROVIDERS.values()) <= names
    store_methods = {m["name"] for methods in server.state.shipping_methods.values() for m in methods
                     if m.get("enabled", True)}
    assert store_methods and store_methods <= set(ShippingMethod.objects.values_list("name", flat=True))
    count = ShippingMethod.objects.count()
    again = run_job(store, Job.IMPORT_CARRIERS)
    assert set(again.items.values_list("action", flat=True)) == {"unchanged"}
    assert ShippingMethod.objects.count() == count
