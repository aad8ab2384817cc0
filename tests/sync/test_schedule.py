"""The End of Day schedule: beat's crontab fires at the configured local time (DST-safe), the task runs a
slot once, and a missed End of Day is caught up once within the grace period, else recorded as missed."""
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from plugin.configuration.models import BasicConfiguration
from plugin.configuration.schedules import eod_periodic_task_name
from plugin.configuration.services import store_schedules_sync
from plugin.sync import schedule, services, tasks
from plugin.sync.models import SyncRun
from tests.sync.test_eod_export import change_intellitrack_stock, set_up
from tests.sync.test_eod_resilience import mismatches

pytestmark = pytest.mark.django_db
UTC = UTC


def schedule_eod(store, *, at=time(18, 30), zone="America/New_York"):
    BasicConfiguration.objects.filter(store=store).update(
        auto_sync_enabled=True, eod_enabled=True, eod_time=at, eod_timezone=zone
    )
    config = BasicConfiguration.objects.get(store=store)
    store_schedules_sync(configuration=config)  # what Save Configuration does
    return config


def due_at(periodic_task, now_utc, last_run_utc):
    crontab = periodic_task.schedule
    crontab.nowfun = lambda: now_utc.astimezone(crontab.tz)
    return crontab.is_due(last_run_utc)[0]


@pytest.mark.parametrize(
    "day, slot_utc",
    [("2026-01-15", datetime(2026, 1, 15, 23, 30, tzinfo=UTC)),  # EST, UTC-5
     ("2026-07-15", datetime(2026, 7, 15, 22, 30, tzinfo=UTC))],  # EDT, UTC-4
)
def test_beat_fires_at_the_configured_local_time_across_dst(shop_factory, day, slot_utc):
    store, _server = shop_factory(products=5, orders=0)
    config = schedule_eod(store)
    periodic_task = PeriodicTask.objects.get(name=eod_periodic_task_name(store.pk))
    assert periodic_task.task == "itbc.sync.eod_export"
    last_run = slot_utc - timedelta(days=1) + timedelta(minutes=1)
    assert not due_at(periodic_task, slot_utc - timedelta(minutes=1), last_run)
    assert due_at(periodic_task, slot_utc + timedelta(seconds=30), last_run)
    # the task files the firing under the same slot
    assert schedule.eod_slot_latest(config, now=slot_utc + timedelta(seconds=30)) == slot_utc
    assert schedule.eod_slot_latest(config, now=slot_utc - timedelta(minutes=1)) == slot_utc - timedelta(days=1)


def minutes_ago_local(minutes: int, zone="America/New_York") -> time:
    return (timezone.now() - timedelta(minutes=minutes)).astimezone(ZoneInfo(zone)).time().replace(
        second=0, microsecond=0)


def test_the_fired_task_runs_its_slot_once(shop_factory):
    store, server = set_up(shop_factory)
    config = schedule_eod(store, at=minutes_ago_local(5))  # beat fires within the grace period
    change_intellitrack_stock(store)
    tasks.eod_export(store.pk)
    tasks.eod_export(store.pk)  # beat (or a redelivery) fires twice: one run
    runs = SyncRun.objects.filter(store=store, job=SyncRun.Job.EOD_EXPORT)
    assert runs.count() == 1
    run = runs.get()
    assert (run.trigger, run.status) == (SyncRun.Trigger.SCHEDULE, SyncRun.Status.SUCCEEDED)
    assert run.scheduled_for == schedule.eod_slot_latest(config)
    assert mismatches(store, server) == {}


def test_missed_end_of_day_catches_up_once_within_grace_else_is_recorded_missed(shop_factory):
    store, server = set_up(shop_factory)
    config = schedule_eod(store)
    BasicConfiguration.objects.filter(pk=config.pk).update(updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    change_intellitrack_stock(store)
    slot = schedule.eod_slot_latest(config)
    execute = lambda run: services.run_execute(run_id=run.pk)  # noqa: E731

    # the system was down at the slot; it comes back 30 minutes later (grace: 120 minutes)
    first = schedule.eod_catch_up(now=slot + timedelta(minutes=30), execute=execute)
    assert len(first["caught_up"]) == 1
    run = SyncRun.objects.get(pk=first["caught_up"][0])
    assert (run.trigger, run.status, run.scheduled_for) == ("catch_up", "succeeded", slot)
    assert mismatches(store, server) == {}
    again = schedule.eod_catch_up(now=slot + timedelta(minutes=35), execute=execute)
    assert again["caught_up"] == [] and again["missed"] == []
    assert SyncRun.objects.filter(store=store, job="eod_export").count() == 1

    # the next day's slot is found only after the grace period: recorded as missed, once, and not run
    next_slot = slot + timedelta(days=1)
    with override_settings(ITBC_EOD_GRACE_MINUTES=60):
        late = schedule.eod_catch_up(now=next_slot + timedelta(minutes=61), execute=execute)
        assert late["caught_up"] == [] and len(late["missed"]) == 1
        assert schedule.eod_catch_up(now=next_slot + timedelta(minutes=70), execute=execute)["missed"] == []
    missed = SyncRun.objects.get(pk=late["missed"][0])
    assert missed.status == "missed" and missed.scheduled_for == next_slot
    assert "grace period" in missed.error


def test_a_slot_before_the_schedule_was_saved_is_not_due(shop_factory):
    store, _server = set_up(shop_factory)
    config = schedule_eod(store)
    slot = schedule.eod_slot_latest(config)
    BasicConfiguration.objects.filter(pk=config.pk).update(updated_at=slot + timedelta(minutes=1))
    result = schedule.eod_catch_up(now=slot + timedelta(minutes=30), execute=lambda run: None)
    assert result == {"caught_up": [], "missed": [], "skipped": [], "rerun": []}


def test_catch_up_and_stale_checks_are_in_beat_every_five_minutes():
    for name, task in [("itbc-eod-catch-up", "itbc.sync.eod_catch_up"), ("itbc-mark-stale-runs", "itbc.sync.mark_stale")]:
        periodic = PeriodicTask.objects.get(name=name)
        assert (periodic.task, periodic.enabled) == (task, True)
        assert (periodic.interval.every, periodic.interval.period) == (5, "minutes")
    assert tasks.eod_catch_up() == {"caught_up": [], "missed": [], "skipped": [], "rerun": []}


def test_beat_firing_late_past_the_grace_period_records_the_slot_missed(shop_factory):
    # After downtime beat fires the overdue crontab itself: three hours after the slot (grace: two).
    store, _server = shop_factory(products=5, orders=0)
    config = schedule_eod(store, at=minutes_ago_local(180))
    slot = schedule.eod_slot_latest(config)
    BasicConfiguration.objects.filter(pk=config.pk).update(updated_at=slot - timedelta(days=1))
    with override_settings(ITBC_EOD_GRACE_MINUTES=120):
        tasks.eod_export(store.pk)
        tasks.eod_export(store.pk)
    run = SyncRun.objects.get(store=store, job=SyncRun.Job.EOD_EXPORT)
    assert (run.status, run.scheduled_for) == (SyncRun.Status.MISSED, slot)
    assert "grace period" in run.error


def test_an_end_of_day_time_with_seconds_files_the_firing_under_that_day():
    config = SimpleNamespace(effective_eod_timezone="America/New_York", eod_time=time(18, 0, 30))
    # beat's crontab has minutes only: it fires at 18:00:00 local (22:00 UTC in summer)
    fired = datetime(2026, 7, 15, 22, 0, 0, 200000, tzinfo=UTC)
    assert schedule.eod_slot_latest(config, now=fired) == datetime(2026, 7, 15, 22, 0, tzinfo=UTC)
