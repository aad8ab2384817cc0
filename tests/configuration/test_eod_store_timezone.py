"""Issue 8, test 7: the store is in America/Chicago and the connection is created without a timezone.
After Test connection and Save Configuration, End of Day fires at the configured local time there:
the crontab beat reads carries America/Chicago, and beat's own is_due fires at that wall time in winter
(CST, UTC-6) and summer (CDT, UTC-5). All through the pages, against the sandbox store over HTTP."""
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from plugin.configuration.models import BasicConfiguration, StoreConnection
from plugin.configuration.schedules import eod_periodic_task_name
from plugin.configuration.selectors import next_eod_run
from tests.bigcommerce.sandbox_fixtures import SANDBOX_STORE_HASH, SANDBOX_TOKEN

from .conftest import basic_data

pytestmark = pytest.mark.django_db


def due_at(periodic_task, now_utc, last_run_utc) -> bool:
    """What beat decides at `now_utc` for a task last run at `last_run_utc` (its own is_due)."""
    schedule = periodic_task.schedule
    schedule.nowfun = lambda: now_utc.astimezone(schedule.tz)
    return schedule.is_due(last_run_utc)[0]


@pytest.mark.parametrize(
    "day, slot_utc",
    [("2026-01-15", datetime(2026, 1, 16, 0, 30, tzinfo=UTC)),  # 18:30 CST = 00:30 UTC the next day
     ("2026-07-15", datetime(2026, 7, 15, 23, 30, tzinfo=UTC))],  # 18:30 CDT
)
def test_end_of_day_fires_at_its_local_time_in_the_stores_timezone(make_sandbox, master, admin_user_role,
                                                                    day, slot_utc):
    server = make_sandbox(products=3, orders=0)
    answer = requests.get(f"{server.store_url}/v2/store", headers={"X-Auth-Token": SANDBOX_TOKEN}, timeout=10)
    assert answer.json()["timezone"]["name"] == "America/Chicago"
    client = Client()
    client.force_login(admin_user_role)

    # Add store: the timezone is left on its blank choice, "the store's timezone".
    add_page = client.get(reverse("configuration:store-add")).content.decode()
    assert '<option value="" selected>the store&#x27;s timezone (read by Test connection; UTC until then)' in add_page
    response = client.post(reverse("configuration:store-add"), {
        "name": "chicago", "store_hash": SANDBOX_STORE_HASH, "api_base_url": server.base_url, "timezone": "",
        "inventory_location_id": "1", "access_token": SANDBOX_TOKEN})
    assert response.status_code == 302
    store = StoreConnection.objects.get(name="chicago")
    assert (store.timezone, store.timezone_chosen) == ("UTC", False)

    response = client.post(reverse("configuration:connection-test", args=[store.pk]))
    assert response.status_code == 302
    response = client.post(reverse("configuration:basic", args=[store.pk]), basic_data(master, eod_time="18:30"))
    assert response.status_code == 302, response.content.decode()[:2000]

    store.refresh_from_db()
    assert (store.connection_ok, store.timezone, store.timezone_chosen) == (True, "America/Chicago", False)
    periodic_task = PeriodicTask.objects.get(name=eod_periodic_task_name(store.pk))
    assert periodic_task.enabled and periodic_task.task == "itbc.sync.eod_export"
    crontab = periodic_task.crontab
    assert (crontab.hour, crontab.minute, str(crontab.timezone)) == ("18", "30", "America/Chicago")

    last_run = slot_utc - timedelta(days=1) + timedelta(minutes=1)
    assert not due_at(periodic_task, slot_utc - timedelta(minutes=1), last_run)
    assert due_at(periodic_task, slot_utc + timedelta(seconds=30), last_run)
    assert not due_at(periodic_task, slot_utc + timedelta(hours=1), slot_utc + timedelta(seconds=30))

    # The pages announce the same instant, in the store's timezone.
    configuration = BasicConfiguration.objects.select_related("store").get(store=store)
    noon = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    assert next_eod_run(configuration, now=noon) == slot_utc
    page = client.get(reverse("configuration:sync", args=[store.pk])).content.decode()
    assert "(America/Chicago)" in page and 'id="timezone-warning"' not in page
