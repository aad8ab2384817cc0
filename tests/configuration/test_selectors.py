import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from plugin.configuration.selectors import next_eod_run, store_status
from plugin.sync.models import SyncRun

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
UTC = dt.UTC


def eod(store, at, tz=""):
    configuration = store.basic_configuration
    configuration.auto_sync_enabled = True
    configuration.eod_enabled = True
    configuration.eod_time = at
    configuration.eod_timezone = tz
    configuration.save()
    return configuration


@pytest.mark.parametrize("now,at,expected_utc", [
    # Later the same day, and the next day once the time has passed (standard time, UTC-5).
    (dt.datetime(2026, 1, 10, 12, 0, tzinfo=UTC), dt.time(18, 30), dt.datetime(2026, 1, 10, 23, 30, tzinfo=UTC)),
    (dt.datetime(2026, 1, 11, 0, 0, tzinfo=UTC), dt.time(18, 30), dt.datetime(2026, 1, 11, 23, 30, tzinfo=UTC)),
    # Spring forward 2026-03-08: 18:30 is daylight time (UTC-4) that evening.
    (dt.datetime(2026, 3, 8, 1, 0, tzinfo=UTC), dt.time(18, 30), dt.datetime(2026, 3, 8, 22, 30, tzinfo=UTC)),
    (dt.datetime(2026, 3, 7, 23, 31, tzinfo=UTC), dt.time(18, 30), dt.datetime(2026, 3, 8, 22, 30, tzinfo=UTC)),
    # A time inside the skipped hour (02:00-03:00) runs as 03:30 daylight time, as beat's crontab does.
    (dt.datetime(2026, 3, 8, 4, 0, tzinfo=UTC), dt.time(2, 30), dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
    # Fall back 2026-11-01: 18:30 is standard time again; 01:30 happens twice, the first one counts.
    (dt.datetime(2026, 11, 1, 12, 0, tzinfo=UTC), dt.time(18, 30), dt.datetime(2026, 11, 1, 23, 30, tzinfo=UTC)),
    (dt.datetime(2026, 11, 1, 3, 0, tzinfo=UTC), dt.time(1, 30), dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    (dt.datetime(2026, 10, 31, 22, 31, tzinfo=UTC), dt.time(18, 30), dt.datetime(2026, 11, 1, 23, 30, tzinfo=UTC)),
])
def test_next_eod_run_in_the_store_timezone(store, now, at, expected_utc):
    configuration = eod(store, at)
    result = next_eod_run(configuration, now=now)
    assert result.astimezone(UTC) == expected_utc  # (PEP 495: ambiguous times never equal other zones)
    assert result.tzinfo == NY
    if at != dt.time(2, 30):
        assert (result.hour, result.minute) == (at.hour, at.minute)


def test_next_eod_run_in_the_eod_timezone(store):
    configuration = eod(store, dt.time(9, 0), tz="Asia/Tokyo")
    result = next_eod_run(configuration, now=dt.datetime(2026, 6, 1, 0, 30, tzinfo=UTC))
    assert result == dt.datetime(2026, 6, 2, 0, 0, tzinfo=UTC)
    assert str(result.tzinfo) == "Asia/Tokyo"


@pytest.mark.parametrize("change", [{"eod_enabled": False}, {"auto_sync_enabled": False}, {"eod_time": None},
                                    {"sync_enabled": False}])
def test_no_next_eod_when_off(store, change):
    configuration = eod(store, dt.time(18, 0))
    for name, value in change.items():
        setattr(configuration, name, value)
    assert next_eod_run(configuration) is None


def run(store, status, finished):
    created = finished - dt.timedelta(minutes=5)
    sync_run = SyncRun.objects.create(store=store, job=SyncRun.Job.IMPORT_ORDERS, status=status,
                                      finished_at=finished, error="boom" if status != "succeeded" else "")
    SyncRun.objects.filter(pk=sync_run.pk).update(created_at=created)
    return sync_run


def test_store_status_last_success_and_errors_since(store):
    base = dt.datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    run(store, SyncRun.Status.FAILED, base)
    success = run(store, SyncRun.Status.SUCCEEDED, base + dt.timedelta(hours=1))
    run(store, SyncRun.Status.SUCCEEDED, base - dt.timedelta(hours=1))
    later_failed = run(store, SyncRun.Status.FAILED, base + dt.timedelta(hours=2))
    later_partial = run(store, SyncRun.Status.PARTIAL, base + dt.timedelta(hours=3))
    run(store, SyncRun.Status.RUNNING, base + dt.timedelta(hours=4))
    from .factories import BasicConfigurationFactory

    run(BasicConfigurationFactory().store, SyncRun.Status.FAILED, base + dt.timedelta(hours=5))
    status = store_status(store)
    assert status.last_success == success
    assert status.errors_since_success == [later_partial, later_failed]
    assert status.error_count == 2


def test_store_status_without_any_success_counts_every_error(store):
    base = dt.datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    run(store, SyncRun.Status.FAILED, base)
    run(store, SyncRun.Status.PARTIAL, base + dt.timedelta(hours=1))
    status = store_status(store)
    assert status.last_success is None and status.error_count == 2


def test_sync_tab_shows_the_status_panel(store, admin_user_role, client):
    base = dt.datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    run(store, SyncRun.Status.SUCCEEDED, base)
    run(store, SyncRun.Status.FAILED, base + dt.timedelta(hours=1))
    eod(store, dt.time(18, 30))
    client.force_login(admin_user_role)
    html = client.get(f"/stores/{store.pk}/sync/").content.decode()
    assert "2026-05-01 12:00" in html
    assert 'id="error-count">1<' in html
    assert "18:30 E" in html and "(America/New_York)" in html
    assert 'id="sync-jobs"' in html
