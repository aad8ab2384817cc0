import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

from plugin.configuration.forms import BasicConfigurationForm
from plugin.configuration.models import StoreConnection
from plugin.configuration.schedules import AUTO_SYNC_TASK, EOD_EXPORT_TASK
from plugin.configuration.services import (
    basic_configuration_update,
    store_connection_create,
    store_connection_update,
)

from .conftest import basic_data
from .factories import TOKEN

pytestmark = pytest.mark.django_db


def save(store, user, data):
    form = BasicConfigurationForm(data=data, instance=store.basic_configuration)
    assert form.is_valid(), form.errors
    return basic_configuration_update(store=store, user=user, data=form.cleaned_data)


def eod_task(store):
    return PeriodicTask.objects.select_related("crontab").filter(name=f"itbc-eod-store-{store.pk}").first()


def auto_task(store):
    return PeriodicTask.objects.select_related("interval").filter(name=f"itbc-auto-sync-store-{store.pk}").first()


def test_save_writes_the_eod_crontab_in_the_store_timezone(store, master, admin_user_role):
    save(store, admin_user_role, basic_data(master, eod_time="18:30"))
    task = eod_task(store)
    assert task.task == EOD_EXPORT_TASK
    assert json.loads(task.kwargs) == {"store_id": store.pk}
    assert task.enabled and task.interval is None
    assert (task.crontab.minute, task.crontab.hour) == ("30", "18")
    assert (task.crontab.day_of_week, task.crontab.day_of_month, task.crontab.month_of_year) == ("*", "*", "*")
    assert str(task.crontab.timezone) == "America/New_York"


def test_explicit_eod_timezone_wins(store, master, admin_user_role):
    save(store, admin_user_role, basic_data(master, eod_time="06:05", eod_timezone="Asia/Tokyo"))
    crontab = eod_task(store).crontab
    assert (crontab.minute, crontab.hour, str(crontab.timezone)) == ("5", "6", "Asia/Tokyo")


def test_save_writes_the_auto_sync_interval(store, master, admin_user_role):
    save(store, admin_user_role, basic_data(master, sync_interval_minutes="7"))
    task = auto_task(store)
    assert task.task == AUTO_SYNC_TASK
    assert json.loads(task.kwargs) == {"store_id": store.pk}
    assert (task.interval.every, task.interval.period) == (7, IntervalSchedule.MINUTES)
    assert task.crontab is None


def test_resave_updates_the_same_rows(store, master, admin_user_role):
    save(store, admin_user_role, basic_data(master, eod_time="18:30", sync_interval_minutes="15"))
    first_eod, first_auto = eod_task(store), auto_task(store)
    save(store, admin_user_role, basic_data(master, eod_time="23:45", eod_timezone="Europe/Berlin",
                                             sync_interval_minutes="60"))
    assert PeriodicTask.objects.filter(name__contains=f"-store-{store.pk}").count() == 2
    second_eod, second_auto = eod_task(store), auto_task(store)
    assert (second_eod.pk, second_auto.pk) == (first_eod.pk, first_auto.pk)
    assert (second_eod.crontab.hour, second_eod.crontab.minute, str(second_eod.crontab.timezone)) == (
        "23", "45", "Europe/Berlin")
    assert second_auto.interval.every == 60


def test_unticking_removes_the_rows(store, master, admin_user_role):
    save(store, admin_user_role, basic_data(master))
    assert eod_task(store) and auto_task(store)
    save(store, admin_user_role, basic_data(master, eod_enabled="", eod_time=""))
    assert eod_task(store) is None
    assert auto_task(store) is not None
    save(store, admin_user_role, basic_data(master, eod_enabled="", auto_sync_enabled=""))
    assert eod_task(store) is None and auto_task(store) is None


def test_sync_disabled_removes_the_rows(store, master, admin_user_role):
    save(store, admin_user_role, basic_data(master))
    save(store, admin_user_role, basic_data(master, sync_enabled=""))
    assert eod_task(store) is None and auto_task(store) is None


def test_rows_of_other_stores_are_untouched(store, master, admin_user_role):
    from .factories import BasicConfigurationFactory

    other = BasicConfigurationFactory().store
    save(other, admin_user_role, basic_data(master))
    save(store, admin_user_role, basic_data(master))
    save(store, admin_user_role, basic_data(master, eod_enabled="", auto_sync_enabled=""))
    assert eod_task(other) is not None and auto_task(other) is not None


def test_each_change_tells_a_running_beat(store, master, admin_user_role):
    """django-celery-beat's scheduler reloads when PeriodicTasks.last_update moves; save() and
    delete() on PeriodicTask move it through the model signals."""
    save(store, admin_user_role, basic_data(master))
    after_create = PeriodicTasks.last_change()
    assert after_create is not None
    save(store, admin_user_role, basic_data(master, eod_time="19:00"))
    after_update = PeriodicTasks.last_change()
    assert after_update > after_create
    save(store, admin_user_role, basic_data(master, eod_enabled="", auto_sync_enabled=""))
    assert PeriodicTasks.last_change() > after_update


@pytest.mark.django_db(transaction=True)
def test_beat_schedule_sees_the_new_time_without_restart(store, master, admin_user_role):
    """A DatabaseScheduler that is already running notices the saved change and loads the new time.
    (It only loads crontabs due within about two hours, so the times are picked near now, in UTC.)"""
    from django.utils import timezone
    from django_celery_beat.schedulers import DatabaseScheduler

    from itbc_portal.celery import app

    hour = timezone.now().hour
    first, second = (hour + 1) % 24, (hour + 2) % 24
    save(store, admin_user_role, basic_data(master, eod_time=f"{first:02d}:10", eod_timezone="UTC"))
    scheduler = DatabaseScheduler(app=app, lazy=True)
    name = f"itbc-eod-store-{store.pk}"
    assert scheduler.schedule[name].schedule.hour == {first}
    assert scheduler.schedule[name].schedule.hour == {first}  # a later tick: nothing changed yet
    save(store, admin_user_role, basic_data(master, eod_time=f"{second:02d}:45", eod_timezone="UTC"))
    # What beat does on every tick: `schedule` reloads from the database when PeriodicTasks changed.
    entry = scheduler.schedule[name]
    assert entry.schedule.hour == {second} and entry.schedule.minute == {45}


def test_eod_crontab_fires_at_local_time_across_dst(store, master, admin_user_role):
    """The crontab keeps 18:30 New York wall time on both sides of each change of clocks."""
    save(store, admin_user_role, basic_data(master, eod_time="18:30"))
    schedule = eod_task(store).crontab.schedule
    ny = ZoneInfo("America/New_York")
    for day, utc_hour in [(dt.date(2026, 3, 7), 23), (dt.date(2026, 3, 8), 22), (dt.date(2026, 10, 31), 22),
                          (dt.date(2026, 11, 1), 23)]:
        start, delta, _ = schedule.remaining_delta(dt.datetime.combine(day, dt.time(18, 0), tzinfo=ny))
        fire_at = (start + delta).astimezone(dt.UTC)
        assert (fire_at.date(), fire_at.hour, fire_at.minute) == (day, utc_hour, 30)


def test_store_timezone_change_moves_the_eod_crontab(store, master, admin_user_role):
    save(store, admin_user_role, basic_data(master))
    data = {"name": store.name, "store_hash": store.store_hash, "api_base_url": store.api_base_url,
            "timezone": "Europe/London", "inventory_location_id": 1, "access_token": ""}
    store_connection_update(store=store, user=admin_user_role, data=data)
    assert str(eod_task(store).crontab.timezone) == "Europe/London"


def test_history_records_user_and_before_after(store, master, admin_user_role):
    save(store, admin_user_role, basic_data(master, eod_time="18:30"))
    save(store, admin_user_role, basic_data(master, eod_time="20:00"))
    newest, previous = store.basic_configuration.history.all()[:2]
    assert newest.history_user == admin_user_role
    delta = newest.diff_against(previous)
    changes = {change.field: (change.old, change.new) for change in delta.changes}
    assert changes["eod_time"] == (dt.time(18, 30), dt.time(20, 0))
    assert store.basic_configuration.updated_by == admin_user_role


def test_create_and_replace_token(admin_user_role):
    store = store_connection_create(user=admin_user_role, data={
        "name": "shop", "store_hash": "abc", "api_base_url": "https://api.bigcommerce.com", "timezone": "UTC",
        "inventory_location_id": 1, "access_token": TOKEN})
    assert store.basic_configuration.pk
    fresh = StoreConnection.objects.get(pk=store.pk)
    assert fresh.access_token == TOKEN
    # Encrypted at rest: the column holds ciphertext only.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("select access_token from configuration_storeconnection where id = %s", [store.pk])
        assert TOKEN not in cursor.fetchone()[0]
    data = {"name": "shop", "store_hash": "abc", "api_base_url": "https://api.bigcommerce.com",
            "timezone": "UTC", "inventory_location_id": 1}
    store_connection_update(store=fresh, user=admin_user_role, data={**data, "access_token": ""})
    assert StoreConnection.objects.get(pk=store.pk).access_token == TOKEN
    store_connection_update(store=fresh, user=admin_user_role, data={**data, "access_token": "second-token"})
    assert StoreConnection.objects.get(pk=store.pk).access_token == "second-token"
    assert fresh.history.first().history_change_reason == "Access token replaced"


def store_after_a_good_test(store):
    """`store` as a successful Test connection leaves it."""
    StoreConnection.objects.filter(pk=store.pk).update(
        connection_ok=True, connection_tested_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC), connection_message="Connected.",
        remote_store_name="Old shop", remote_timezone="UTC", remote_update_stock_behavior="order_placed",
    )
    return StoreConnection.objects.get(pk=store.pk)


def connection_values(store, **overrides):
    data = {"name": store.name, "store_hash": store.store_hash, "api_base_url": store.api_base_url,
            "timezone": store.timezone, "inventory_location_id": store.inventory_location_id, "access_token": ""}
    data.update(overrides)
    return data


@pytest.mark.parametrize("change", [{"store_hash": "otherstore1"}, {"api_base_url": "https://sandbox.example.test"},
                                    {"access_token": "a-different-token"}])
def test_new_connection_details_void_the_last_test(store, admin_user_role, change):
    store = store_after_a_good_test(store)
    store_connection_update(store=store, user=admin_user_role, data=connection_values(store, **change))
    store = StoreConnection.objects.get(pk=store.pk)
    assert store.connection_ok is False and store.connection_tested_at is None
    assert store.connection_message == "Connection details changed: test the connection again."
    assert (store.remote_store_name, store.remote_timezone, store.remote_update_stock_behavior) == ("", "", "")


@pytest.mark.parametrize("change", [{}, {"timezone": "UTC"}, {"inventory_location_id": 3}, {"name": "renamed"},
                                    {"access_token": TOKEN}])
def test_other_changes_keep_the_last_test(store, admin_user_role, change):
    store = store_after_a_good_test(store)
    store_connection_update(store=store, user=admin_user_role, data=connection_values(store, **change))
    store = StoreConnection.objects.get(pk=store.pk)
    assert store.connection_ok is True and store.connection_tested_at is not None
    assert store.remote_store_name == "Old shop"
