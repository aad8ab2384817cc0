"""The auto sync cycle over real HTTP against the sandbox: catalog changes ride it (new products get items
with their stock, renamed ones a new description, deleted ones a retired link), the Sync Time Range, a
prerequisite that fails is a failed run, and the optional order webhooks start a cycle early."""
import time
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from plugin.configuration.forms import BasicConfigurationForm
from plugin.configuration.models import BasicConfiguration
from plugin.intellitrack.models import InventoryRecord, Item
from plugin.sync import services, webhooks
from plugin.sync.models import StoreItemLink, StoreSyncState, SyncRun
from tests.sync.conftest import run_job, store_level
from tests.sync.test_product_import import _add
from tests.sync.test_stock_truth import Warehouse, mismatches

pytestmark = [pytest.mark.django_db]
Job = SyncRun.Job


def live_store(shop_factory, **config):
    store, server = shop_factory(products=30, orders=0, order_statuses_to_import=[11], **config)
    run_job(store, Job.BOOTSTRAP)
    BasicConfiguration.objects.filter(store=store).update(
        auto_sync_enabled=True, last_auto_sync_completed_on=timezone.now() - timedelta(minutes=10))
    store.refresh_from_db()
    return store, server


def test_a_cycle_imports_new_products_with_their_stock_renames_and_retires_deleted_ones(shop_factory):
    store, server = live_store(shop_factory)
    state = server.state
    warehouse = Warehouse(state)
    new_pid, new_vids = _add(state, name="Fresh", tracking="variant", skus=["FRESH-S", "FRESH-M"])
    state.set_stock(quantity=7, variant_id=new_vids[0])
    state.set_stock(quantity=4, variant_id=new_vids[1])
    state.products[new_pid].date_modified = time.time()
    # a shopper already ordered 2 of the new variant: its units are still on the shelf
    state.place_order(items=[{"variant_id": new_vids[0], "quantity": 2}], status_id=11)
    renamed = StoreItemLink.objects.filter(store=store, tracking="product").select_related("item").first()
    state.products[renamed.product_id].name = "Renamed in the store"
    state.products[renamed.product_id].date_modified = time.time()
    deleted = StoreItemLink.objects.filter(store=store, tracking="product").exclude(pk=renamed.pk).first()
    del state.products[deleted.product_id]
    state.product_order.remove(deleted.product_id)

    cycle = run_job(store, Job.AUTO_SYNC, trigger=SyncRun.Trigger.SCHEDULE)
    products = SyncRun.objects.get(pk=cycle.summary["steps"][Job.IMPORT_PRODUCTS])
    assert products.summary["modified_since"] is not None  # only what changed since the watermark
    fresh = {link.variant_id: link for link in StoreItemLink.objects.filter(store=store, product_id=new_pid)}
    assert set(fresh) == set(new_vids)
    on_hand = {r.item_id: r.on_hand for r in InventoryRecord.objects.filter(item__in=[f.item_id for f in fresh.values()])}
    assert on_hand == {fresh[new_vids[0]].item_id: 5 + 2, fresh[new_vids[1]].item_id: 4}  # level + held
    assert Item.objects.get(pk=renamed.item_id).description == "Renamed in the store"
    gone = StoreItemLink.objects.get(pk=deleted.pk)
    assert gone.retired_at is not None and Item.objects.filter(pk=deleted.item_id).exists()
    assert products.items.get(action="retired").detail["ref"] == [deleted.product_id, None]

    # the new units are physical from now on; the End of Day leaves every live link exact
    warehouse.shelf[new_vids[0]] = 7
    warehouse.shelf[new_vids[1]] = 4
    eod = run_job(store, Job.EOD_EXPORT)
    assert eod.status == SyncRun.Status.SUCCEEDED, eod.error
    assert not eod.items.filter(detail__ref=deleted.pk).exists()  # nothing sent for a deleted product
    assert store_level(state, fresh[new_vids[0]]) == 5
    assert {k: v for k, v in mismatches(store, server, warehouse).items() if k != deleted.sku} == {}


def test_the_sync_time_range_and_a_failing_prerequisite(shop_factory):
    store, _server = live_store(shop_factory)
    config = BasicConfiguration.objects.get(store=store)
    zone = ZoneInfo(config.effective_eod_timezone)
    config.sync_time_from, config.sync_time_to = clock(22, 0), clock(6, 0)  # over midnight
    config.save()
    night = datetime(2026, 12, 3, 23, 30, tzinfo=zone)
    noon = datetime(2026, 12, 3, 12, 0, tzinfo=zone)
    assert services.sync_time_range_allows(config, now=night)
    assert not services.sync_time_range_allows(config, now=noon)
    assert services.auto_sync_cycle_fire(store_id=store.pk, now=noon) is None
    assert not SyncRun.objects.filter(store=store, job=Job.AUTO_SYNC).exists()

    # a prerequisite that fails is a failed run with its reason, not only a log line
    config.sync_time_from = config.sync_time_to = None
    config.save()
    store.connection_tested_at = None
    store.connection_ok = False
    store.save()
    failed = services.auto_sync_cycle_fire(store_id=store.pk)
    assert failed.status == SyncRun.Status.FAILED and "Test the store connection first" in failed.error


def test_the_form_wants_both_ends_of_the_sync_time_range(shop_factory):
    store, _server = live_store(shop_factory)
    config = BasicConfiguration.objects.get(store=store)
    data = {name: getattr(config, name) for name in BasicConfiguration.EDITABLE_FIELDS}
    data.update(default_division=config.default_division_id, default_site=config.default_site_id,
                default_location=config.default_location_id, default_uom=config.default_uom_id,
                last_auto_sync_completed_on="", eod_time="", eod_timezone="", sync_time_from="08:00",
                sync_time_to="")
    data = {key: value for key, value in data.items() if value not in (None, False)}
    form = BasicConfigurationForm(data=data, instance=config)
    assert not form.is_valid() and "sync_time_to" in form.errors
    data["sync_time_to"] = "18:00"
    form = BasicConfigurationForm(data=data, instance=config)
    assert form.is_valid(), form.errors


def test_order_webhooks_are_registered_once_and_start_a_cycle_only_with_the_secret(shop_factory, client, settings):
    settings.ITBC_PUBLIC_URL = "https://itbc.example.com"
    store, server = live_store(shop_factory)
    cycle = run_job(store, Job.AUTO_SYNC, trigger=SyncRun.Trigger.SCHEDULE)
    assert cycle.summary["webhooks"] == "registered now"
    hooks = list(server.state.hooks.values())
    assert sorted(hook.scope for hook in hooks) == sorted(webhooks.HOOK_SCOPES)
    destination = f"https://itbc.example.com/hooks/bigcommerce/{store.pk}/"
    assert {hook.destination for hook in hooks} == {destination}
    secret = StoreSyncState.objects.get(store=store).webhook_secret
    assert all(hook.headers == {webhooks.SECRET_HEADER: secret} for hook in hooks)
    again = run_job(store, Job.AUTO_SYNC, trigger=SyncRun.Trigger.SCHEDULE)
    assert again.summary["webhooks"] == "registered" and len(server.state.hooks) == 2

    url = f"/hooks/bigcommerce/{store.pk}/"
    payload = {"scope": "store/order/created", "data": {"type": "order", "id": 100}}
    assert client.post(url, payload, content_type="application/json").status_code == 401
    assert client.post(url, payload, content_type="application/json",
                       headers={webhooks.SECRET_HEADER: "wrong"}).status_code == 401
    assert not SyncRun.objects.filter(store=store, trigger=SyncRun.Trigger.WEBHOOK).exists()
    # a hook moments after a cycle started waits for the next one; a minute later it starts one
    busy = client.post(url, payload, content_type="application/json", headers={webhooks.SECRET_HEADER: secret})
    assert busy.status_code == 202 and busy.json()["started"] is False
    SyncRun.objects.filter(store=store).update(created_at=timezone.now() - timedelta(minutes=1))
    answer = client.post(url, payload, content_type="application/json", headers={webhooks.SECRET_HEADER: secret})
    assert answer.status_code == 202 and answer.json()["started"] is True
    queued = SyncRun.objects.get(store=store, trigger=SyncRun.Trigger.WEBHOOK)
    assert queued.job == Job.AUTO_SYNC and queued.status == SyncRun.Status.QUEUED
    # a second hook while that cycle waits starts nothing more
    second = client.post(url, payload, content_type="application/json", headers={webhooks.SECRET_HEADER: secret})
    assert second.status_code == 202 and second.json()["started"] is False


def test_a_webhook_secret_that_is_not_ascii_is_refused_not_a_500(shop_factory, client, settings):
    settings.ITBC_PUBLIC_URL = "https://itbc.example.com"
    store, _server = live_store(shop_factory)
    run_job(store, Job.AUTO_SYNC, trigger=SyncRun.Trigger.SCHEDULE)
    answer = client.post(f"/hooks/bigcommerce/{store.pk}/", {}, content_type="application/json",
                         headers={webhooks.SECRET_HEADER: "sécret"})
    assert answer.status_code == 401
