"""The Adjust Inventory page says when each store that links the item sees the change, and offers to send
it now (Export Adjustments for that store)."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from plugin.intellitrack import services as it
from plugin.intellitrack.models import InventoryRecord, Location
from plugin.sync.models import SyncRun
from tests.intellitrack.factories import ItemFactory
from tests.sync.factories import LinkFactory, configured_store

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def linked(db):
    store = configured_store(name="Corner Shop")
    config = store.basic_configuration
    item = ItemFactory(division=config.default_division, item_number="MUG", default_uom=config.default_uom)
    LinkFactory(store=store, item=item)
    it.inventory_receive(item=item, location=config.default_location, uom=config.default_uom, quantity=10)
    it.inventory_receive(item=item, location=Location.objects.get(code="L9"), uom=config.default_uom, quantity=3)
    record = InventoryRecord.objects.get(item=item, location=config.default_location)
    return store, config, item, record


def _page(client, record) -> str:
    return client.get(reverse("intellitrack:inventory-adjust", args=[record.pk])).content.decode()


@pytest.mark.redis
def test_without_auto_sync_the_store_sees_it_at_the_next_end_of_day_or_now(client, operator_user, linked):
    store, _config, _item, record = linked
    client.force_login(operator_user)
    page = _page(client, record)
    assert "Corner Shop sees this at the next End of Day." in page
    start = reverse("sync:job-start", args=[store.pk, "export_adjustments"])
    assert f'action="{start}"' in page and "Send to the store now" in page
    # pressing it starts Export Adjustments for that store
    pressed = client.post(start, HTTP_ACCEPT="application/json")
    assert pressed.status_code == 202, pressed.content
    run = SyncRun.objects.get(pk=pressed.json()["run_id"])
    assert (run.store_id, run.job, run.user) == (store.pk, SyncRun.Job.EXPORT_ADJUSTMENTS, operator_user)


def test_with_auto_sync_it_names_the_interval_and_the_next_cycle(client, operator_user, linked):
    store, config, _item, record = linked
    config.auto_sync_enabled, config.sync_interval_minutes = True, 10
    config.save()
    last = SyncRun.objects.create(store=store, job=SyncRun.Job.AUTO_SYNC, status=SyncRun.Status.SUCCEEDED)
    SyncRun.objects.filter(pk=last.pk).update(created_at=timezone.now() - timedelta(minutes=3))
    expected = (SyncRun.objects.get(pk=last.pk).created_at + timedelta(minutes=10)).strftime("%H:%M")  # store tz UTC
    client.force_login(operator_user)
    page = _page(client, record)
    assert f"Corner Shop sees this at the next auto sync cycle (every 10 minutes, next about {expected})." in page
    # saving says it too
    response = client.post(reverse("intellitrack:inventory-adjust", args=[record.pk]),
                           {"mode": "delta", "quantity": 1, "reason": "found"}, follow=True)
    assert "sees this at the next auto sync cycle" in response.content.decode()


def test_outside_the_scope_or_unlinked_there_is_nothing_to_send(client, operator_user, linked):
    store, config, item, _record = linked
    client.force_login(operator_user)
    outside = InventoryRecord.objects.get(item=item, location__code="L9")
    page = _page(client, outside)
    assert "outside the store&#x27;s quantity scope" in page and "Send to the store now" not in page
    loose = ItemFactory(division=config.default_division, item_number="LOOSE", default_uom=config.default_uom)
    it.inventory_receive(item=loose, location=config.default_location, uom=config.default_uom, quantity=1)
    page = _page(client, InventoryRecord.objects.get(item=loose))
    assert 'id="store-visibility"' not in page


def test_a_user_who_may_adjust_but_not_run_jobs_gets_no_button(client, django_user_model, linked):
    from django.contrib.auth.models import Permission

    _store, _config, _item, record = linked
    user = django_user_model.objects.create_user("clerk", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="adjust_inventory"))
    client.force_login(user)
    page = _page(client, record)
    assert "sees this at the next End of Day" in page
    assert "Send to the store now" not in page
