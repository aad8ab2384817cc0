"""Notification mails on real failures: runs against a sandbox store that refuses the token or is down, a
missed End of Day, a job that cannot start, a stock setting that differs. Mails go through Django's locmem
backend (mail.outbox); the notice task runs in place (eager), queued when the transaction commits."""
import datetime as dt
import socket
import threading
import time

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from plugin.bigcommerce.client import BigCommerceClient
from plugin.configuration.models import BasicConfiguration
from plugin.portal import notifications
from plugin.portal.models import NoticeState
from plugin.sync import runs, schedule, services
from plugin.sync.models import SyncRun
from tests.bigcommerce.sandbox_fixtures import SANDBOX_STORE_HASH, SANDBOX_TOKEN
from tests.sync.factories import configured_store

pytestmark = pytest.mark.django_db

PORTAL = "https://itbc.example.com"
RECIPIENTS = "ops@example.com, lead@example.com"
Job = SyncRun.Job


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ITBC_PORTAL_URL = PORTAL
    settings.ITBC_NOTICE_INTERVAL_MINUTES = 60
    settings.DEFAULT_FROM_EMAIL = "itbc@example.com"


@pytest.fixture(autouse=True)
def eager_tasks():
    """Queued tasks run in place, their errors raised (a notice task that failed would fail the test)."""
    import plugin.portal.tasks  # noqa: F401  (registered here as in a worker, which finds it by itself)
    from itbc_portal.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


def refusing_store(make_sandbox, *, recipients=RECIPIENTS, **config):
    """A store whose saved token the sandbox refuses (401 on every request)."""
    server = make_sandbox(products=5, orders=0, plan="unlimited")
    store = configured_store(name="shop", base_url=server.base_url, store_hash=SANDBOX_STORE_HASH,
                             token="not-the-sandbox-token", notification_recipients=recipients, **config)
    return store, server


def broker_pools_reset(app) -> None:
    """Forget every broker connection: switching brokers closes kombu's shared pool of the first one, which
    a later publish to that broker would otherwise find closed."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def run_now(store, job, *, client=None) -> SyncRun:
    run = services.job_trigger(store=store, job=job, trigger=SyncRun.Trigger.COMMAND, enqueue=False)
    return services.run_execute(run_id=run.pk, client=client)


def fail_once(store, capture, job=Job.IMPORT_PRODUCTS, *, client=None) -> SyncRun:
    with capture(execute=True):
        run = run_now(store, job, client=client)
    assert run.status == SyncRun.Status.FAILED
    return run


def hour_passes(store) -> None:
    """The last mail of every cause of the store went out just over an hour ago."""
    for state in NoticeState.objects.filter(store=store):
        NoticeState.objects.filter(pk=state.pk).update(last_sent_at=state.last_sent_at - dt.timedelta(minutes=61))


def test_a_failed_run_mails_the_recipients_after_commit_with_a_link_to_the_run(
        make_sandbox, django_capture_on_commit_callbacks):
    store, _ = refusing_store(make_sandbox)
    with django_capture_on_commit_callbacks(execute=True):
        run = run_now(store, Job.IMPORT_PRODUCTS)
        assert run.status == SyncRun.Status.FAILED
        assert mail.outbox == []  # nothing is sent before the run's work is committed

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@example.com", "lead@example.com"]
    assert message.from_email == "itbc@example.com"
    assert message.subject == "[itbc] shop: Import Products failed"
    run_url = PORTAL + reverse("sync:run-detail", args=[run.pk])
    assert run_url in message.body
    assert "Store: shop" in message.body
    assert f"Import Products run #{run.pk} failed" in message.body
    assert "access token" in message.body  # what happened, in words: the store refused the token
    assert "Traceback" not in message.body and "AuthError" not in message.body
    assert f"When: {timezone.localtime(run.finished_at, dt.UTC):%Y-%m-%d %H:%M} UTC" in message.body
    html, kind = message.alternatives[0]
    assert kind == "text/html" and f'<a href="{run_url}">' in html


def test_within_the_hour_a_second_failure_is_held_back_and_the_next_mail_counts_it(
        make_sandbox, django_capture_on_commit_callbacks):
    store, _ = refusing_store(make_sandbox)
    fail_once(store, django_capture_on_commit_callbacks)
    second = fail_once(store, django_capture_on_commit_callbacks)
    third = fail_once(store, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1  # the first only
    state = NoticeState.objects.get(store=store, cause="run_failed:import_products")
    assert state.held_back == 2

    hour_passes(store)
    fourth = fail_once(store, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    message = mail.outbox[1]
    assert message.subject == "[itbc] shop: Import Products failed (and 2 more)"
    assert f"run #{fourth.pk} failed" in message.body
    since = timezone.localtime(second.finished_at, dt.UTC).strftime("%H:%M")
    assert f"And 2 more like it since {since}" in message.body
    assert PORTAL + reverse("sync:run-detail", args=[fourth.pk]) in message.body
    assert third.pk != fourth.pk
    state.refresh_from_db()
    assert state.held_back == 0 and state.held_back_since is None

    fail_once(store, django_capture_on_commit_callbacks)  # within the hour again: held back
    assert len(mail.outbox) == 2


def test_each_cause_has_its_own_hour(make_sandbox, django_capture_on_commit_callbacks):
    store, _ = refusing_store(make_sandbox)
    fail_once(store, django_capture_on_commit_callbacks, Job.IMPORT_PRODUCTS)
    fail_once(store, django_capture_on_commit_callbacks, Job.IMPORT_CARRIERS)
    assert [m.subject for m in mail.outbox] == ["[itbc] shop: Import Products failed",
                                                "[itbc] shop: Import Carriers failed"]


def test_a_store_without_recipients_gets_no_mail(make_sandbox, django_capture_on_commit_callbacks):
    store, _ = refusing_store(make_sandbox, recipients="")
    fail_once(store, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert not NoticeState.objects.exists()


def test_a_store_that_is_down_fails_the_run_and_mails_it(make_sandbox, django_capture_on_commit_callbacks):
    server = make_sandbox(products=5, orders=0, plan="unlimited")
    store = configured_store(name="shop", base_url=server.base_url, store_hash=SANDBOX_STORE_HASH,
                             token=SANDBOX_TOKEN, notification_recipients=RECIPIENTS)
    server.stop()
    quick = BigCommerceClient(base_url=server.base_url, store_hash=SANDBOX_STORE_HASH, access_token=SANDBOX_TOKEN,
                              backoff_base=0.01, backoff_cap=0.05)  # the client's own retries, without the waits
    run = fail_once(store, django_capture_on_commit_callbacks, Job.IMPORT_CARRIERS, client=quick)
    assert len(mail.outbox) == 1
    assert f"Import Carriers run #{run.pk} failed" in mail.outbox[0].body
    assert server.base_url in mail.outbox[0].body  # says which address could not be reached


def test_a_partial_run_is_mailed_with_its_counts(db, django_capture_on_commit_callbacks):
    store = configured_store(name="shop", notification_recipients="ops@example.com")
    run = runs.run_create(store=store, job=Job.EXPORT_ADJUSTMENTS)
    runs.run_start(run=run)
    runs.run_items_record(run=run, outcomes=[
        runs.ItemOutcome(key="SKU-1", outcome="ok"), runs.ItemOutcome(key="SKU-2", outcome="ok"),
        runs.ItemOutcome(key="SKU-3", outcome="failed", reason="refused")])
    with django_capture_on_commit_callbacks(execute=True):
        finished = runs.run_finish(run=run)
    assert finished.status == SyncRun.Status.PARTIAL
    assert [m.subject for m in mail.outbox] == ["[itbc] shop: Export Adjustments ended partly"]
    assert "1 of 3 items failed" in mail.outbox[0].body


@pytest.mark.parametrize("error, words", [
    ("Unexpected error: KeyError: 'variant_id'", "An unexpected error stopped the run"),
    ("AuthError: GET /v3/catalog/products: 401 Unauthorized", "BigCommerce refused the store's access token"),
])
def test_a_failure_mail_says_the_error_as_the_run_page_does_without_class_names(
    db, django_capture_on_commit_callbacks, error, words
):
    store = configured_store(name="shop", notification_recipients="ops@example.com")
    run = runs.run_create(store=store, job=Job.EXPORT_ADJUSTMENTS)
    runs.run_start(run=run)
    with django_capture_on_commit_callbacks(execute=True):
        runs.run_finish(run=run, error=error)
    [message] = mail.outbox
    assert f"Export Adjustments run #{run.pk} failed: {words}" in message.body
    assert "KeyError" not in message.body and "AuthError" not in message.body


def test_an_auto_sync_cycle_with_a_failed_step_is_one_mail_naming_the_step(
        make_sandbox, django_capture_on_commit_callbacks):
    server = make_sandbox(products=5, orders=3, plan="unlimited")
    store = configured_store(name="shop", base_url=server.base_url, store_hash=SANDBOX_STORE_HASH,
                             token=SANDBOX_TOKEN, notification_recipients="ops@example.com", auto_sync_enabled=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_now(store, Job.IMPORT_PRODUCTS).status == SyncRun.Status.SUCCEEDED
        server.add_fault_rule(method="GET", path="/v2/orders", status=403, times=None)  # orders refused
        cycle = services.auto_sync_cycle_fire(store_id=store.pk)
    assert cycle.status == SyncRun.Status.PARTIAL
    orders_step = SyncRun.objects.get(store=store, job=Job.IMPORT_ORDERS)
    assert orders_step.status == SyncRun.Status.FAILED  # told through its cycle, not on its own
    assert [m.subject for m in mail.outbox] == ["[itbc] shop: Auto sync cycle ended partly"]
    body = mail.outbox[0].body
    assert f"Auto sync cycle run #{cycle.pk} ended partly: 1 of its 4 steps had failures (Import Orders failed " \
           "as a whole). Import Orders: " in body
    assert "access token" in body  # why the step failed: the store refused the token (403)
    assert PORTAL + reverse("sync:run-detail", args=[cycle.pk]) in body


def test_a_succeeded_run_and_a_step_of_a_larger_run_send_nothing(db, django_capture_on_commit_callbacks):
    store = configured_store(name="shop", notification_recipients="ops@example.com")
    ok = runs.run_create(store=store, job=Job.EXPORT_ADJUSTMENTS)
    step = runs.run_create(store=store, job=Job.IMPORT_ORDERS, options={"parent_run": ok.pk})
    for run, error in ((ok, ""), (step, "ConnectionFailedError: Could not connect.")):
        runs.run_start(run=run)
        with django_capture_on_commit_callbacks(execute=True):
            runs.run_finish(run=run, error=error)
    assert SyncRun.objects.get(pk=step.pk).status == SyncRun.Status.FAILED
    assert mail.outbox == []


def test_a_run_whose_worker_died_is_mailed_when_marked_stale(db, django_capture_on_commit_callbacks, settings):
    store = configured_store(name="shop", notification_recipients="ops@example.com")
    run = runs.run_create(store=store, job=Job.EOD_EXPORT)
    runs.run_start(run=run)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.runs_mark_stale(store=store) == 1
    assert [m.subject for m in mail.outbox] == ["[itbc] shop: End of Day stopped"]
    assert (f"End of Day run #{run.pk} did not finish: The worker stopped reporting progress; the run was "
            "marked stale.") in mail.outbox[0].body


def test_a_missed_end_of_day_is_mailed_with_a_link_to_the_missed_slot(db, django_capture_on_commit_callbacks):
    store = configured_store(name="shop", notification_recipients="ops@example.com", auto_sync_enabled=True,
                             eod_enabled=True, eod_time=dt.time(18, 0))
    slot = dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC)
    BasicConfiguration.objects.filter(store=store).update(updated_at=slot - dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        result = schedule.eod_catch_up(now=slot + schedule.grace() + dt.timedelta(minutes=30))
    missed = SyncRun.objects.get(store=store, job=Job.EOD_EXPORT, status=SyncRun.Status.MISSED)
    assert result["missed"] == [missed.pk]
    assert [m.subject for m in mail.outbox] == ["[itbc] shop: End of Day missed"]
    body = mail.outbox[0].body
    assert "The End of Day of 2026-12-01 18:00 UTC did not run" in body
    assert PORTAL + reverse("sync:run-detail", args=[missed.pk]) in body

    with django_capture_on_commit_callbacks(execute=True):  # the same slot checked again: no second record
        schedule.eod_catch_up(now=slot + schedule.grace() + dt.timedelta(minutes=40))
    assert len(mail.outbox) == 1


def test_an_auto_sync_cycle_that_cannot_start_is_mailed_as_a_prerequisite(db, django_capture_on_commit_callbacks):
    store = configured_store(name="shop", notification_recipients="ops@example.com", auto_sync_enabled=True)
    store.connection_ok = False
    store.save(update_fields=["connection_ok"])
    with django_capture_on_commit_callbacks(execute=True):
        run = services.auto_sync_cycle_fire(store_id=store.pk)
    assert run.status == SyncRun.Status.FAILED
    assert [m.subject for m in mail.outbox] == ["[itbc] shop: Auto sync cycle could not start"]
    assert "Auto sync cycle could not start: Test the store connection first" in mail.outbox[0].body
    assert PORTAL + reverse("sync:run-detail", args=[run.pk]) in mail.outbox[0].body


def test_an_end_of_day_whose_sync_was_switched_off_is_mailed_as_a_prerequisite(
        db, django_capture_on_commit_callbacks):
    store = configured_store(name="shop", notification_recipients="ops@example.com", auto_sync_enabled=True,
                             eod_enabled=True, eod_time=dt.time(18, 0))
    run = runs.run_create(store=store, job=Job.EOD_EXPORT, trigger=SyncRun.Trigger.SCHEDULE)
    BasicConfiguration.objects.filter(store=store).update(sync_enabled=False)  # switched off after it was queued
    with django_capture_on_commit_callbacks(execute=True):
        finished = services.run_execute(run_id=run.pk)
    assert finished.status == SyncRun.Status.FAILED
    assert [m.subject for m in mail.outbox] == ["[itbc] shop: End of Day could not start"]
    assert "Synchronization is switched off for this store" in mail.outbox[0].body


def test_a_stock_setting_that_differs_from_the_store_is_mailed(make_sandbox, django_capture_on_commit_callbacks):
    server = make_sandbox(products=5, orders=3, plan="unlimited", update_stock_behavior="order_completed_or_shipped")
    store = configured_store(name="shop", base_url=server.base_url, store_hash=SANDBOX_STORE_HASH,
                             token=SANDBOX_TOKEN, notification_recipients="ops@example.com",
                             stock_decreased_when_order_placed=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_now(store, Job.IMPORT_PRODUCTS).status == SyncRun.Status.SUCCEEDED
        orders = run_now(store, Job.IMPORT_ORDERS)
    assert orders.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL)
    subjects = [m.subject for m in mail.outbox]
    assert subjects.count("[itbc] shop: Stock setting differs from the store") == 1
    body = next(m.body for m in mail.outbox if "Stock setting" in m.subject)
    assert "The store takes stock off when an order is completed or shipped" in body
    assert f"Seen by Import Orders run #{orders.pk}" in body
    assert PORTAL + reverse("configuration:basic", args=[store.pk]) in body


def test_the_same_setting_as_the_store_sends_nothing(make_sandbox, django_capture_on_commit_callbacks):
    server = make_sandbox(products=5, orders=3, plan="unlimited", update_stock_behavior="order_placed")
    store = configured_store(name="shop", base_url=server.base_url, store_hash=SANDBOX_STORE_HASH,
                             token=SANDBOX_TOKEN, notification_recipients="ops@example.com",
                             stock_decreased_when_order_placed=True)
    with django_capture_on_commit_callbacks(execute=True):
        run_now(store, Job.IMPORT_PRODUCTS)
        run_now(store, Job.IMPORT_ORDERS)
    assert mail.outbox == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_mail_server_that_is_down_is_logged_not_raised_and_the_next_mail_counts_the_lost_one(
        make_sandbox, django_capture_on_commit_callbacks, settings, caplog):
    store, _ = refusing_store(make_sandbox)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    first = fail_once(store, django_capture_on_commit_callbacks)  # the run still ends as itself: failed
    assert mail.outbox == []
    assert f"Nothing accepts connections at 127.0.0.1:{settings.EMAIL_PORT}" in caplog.text
    state = NoticeState.objects.get(store=store)
    assert state.last_sent_at is None and state.held_back == 1 and "Nothing accepts" in state.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    fail_once(store, django_capture_on_commit_callbacks)  # the server is back: sent at once, no hour to wait
    assert len(mail.outbox) == 1
    since = timezone.localtime(first.finished_at, dt.UTC).strftime("%H:%M")
    assert f"And 1 more like it since {since}" in mail.outbox[0].body


@pytest.mark.parametrize("part", ["Notice", "error_sentence"])  # queuing the notice; writing its sentence
def test_a_notice_never_breaks_the_run_even_when_it_cannot_be_built(db, monkeypatch, caplog, part):
    store = configured_store(name="shop", notification_recipients="ops@example.com")

    def broken(*args, **kwargs):
        raise RuntimeError("anything may go wrong in there")

    monkeypatch.setattr(notifications, part, broken)
    run = runs.run_create(store=store, job=Job.EXPORT_ADJUSTMENTS)
    runs.run_start(run=run)
    finished = runs.run_finish(run=run, error="ConnectionFailedError: Could not connect.")
    assert finished.status == SyncRun.Status.FAILED
    assert "anything may go wrong in there" in caplog.text  # logged with its traceback


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_notices_delivered_at_the_same_moment_send_one_mail():
    store = configured_store(name="shop", notification_recipients="ops@example.com")
    workers = 6
    barrier = threading.Barrier(workers)
    outcomes = []

    def deliver():
        try:
            barrier.wait(timeout=10)
            outcomes.append(notifications.notice_deliver(
                store_id=store.pk, cause="run_failed:eod_export", title="End of Day failed",
                sentence="End of Day run #1 failed.", link_path="/runs/1/", link_label="Run #1",
                occurred_at=timezone.now().isoformat()))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == sorted([notifications.Delivery.SENT] + [notifications.Delivery.HELD_BACK] * 5)
    assert len(mail.outbox) == 1
    assert NoticeState.objects.get(store=store).held_back == 5


def test_when_the_job_queue_is_down_the_notice_is_delivered_in_place(db, django_capture_on_commit_callbacks):
    from itbc_portal.celery import app
    from tests.portal.conftest import portal_using

    app.conf.task_always_eager = False  # a real publish, to a broker nobody runs (restored by the fixture)
    store = configured_store(name="shop", notification_recipients="ops@example.com")
    run = runs.run_create(store=store, job=Job.EXPORT_FULFILLMENTS)
    runs.run_start(run=run)
    started = time.monotonic()
    try:
        with portal_using(f"redis://127.0.0.1:{_closed_port()}/0"), \
                django_capture_on_commit_callbacks(execute=True):
            runs.run_finish(run=run, error="ConnectionFailedError: Could not connect to the store.")
    finally:
        broker_pools_reset(app)
    assert time.monotonic() - started < 10
    assert [m.subject for m in mail.outbox] == ["[itbc] shop: Export Fulfillments failed"]


def test_failures_that_stop_are_still_told_once_their_hour_is_over(make_sandbox, django_capture_on_commit_callbacks):
    store, _ = refusing_store(make_sandbox)
    fail_once(store, django_capture_on_commit_callbacks)
    second = fail_once(store, django_capture_on_commit_callbacks)
    fail_once(store, django_capture_on_commit_callbacks)
    last = fail_once(store, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1

    assert notifications.notice_flush()[notifications.Delivery.SENT] == 0  # the hour is not over
    hour_passes(store)
    assert notifications.notice_flush()[notifications.Delivery.SENT] == 1
    assert len(mail.outbox) == 2
    message = mail.outbox[1]
    assert message.subject == "[itbc] shop: Import Products failed (and 2 more)"
    assert f"Import Products run #{last.pk} failed" in message.body  # the last one, the two before it counted
    since = timezone.localtime(second.finished_at, dt.UTC).strftime("%H:%M")
    assert f"And 2 more like it since {since}" in message.body
    assert PORTAL + reverse("sync:run-detail", args=[last.pk]) in message.body

    hour_passes(store)
    assert notifications.notice_flush()[notifications.Delivery.SENT] == 0  # nothing new to tell
    assert len(mail.outbox) == 2


def test_a_flush_the_mail_server_refuses_keeps_the_count_for_the_next_try(
        make_sandbox, django_capture_on_commit_callbacks, settings):
    store, _ = refusing_store(make_sandbox)
    fail_once(store, django_capture_on_commit_callbacks)
    fail_once(store, django_capture_on_commit_callbacks)
    fail_once(store, django_capture_on_commit_callbacks)
    hour_passes(store)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    assert notifications.notice_flush()[notifications.Delivery.FAILED] == 1
    state = NoticeState.objects.get(store=store)
    assert state.held_back == 2 and "Nothing accepts connections" in state.last_error

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications.notice_flush()[notifications.Delivery.SENT] == 1
    assert mail.outbox[-1].subject == "[itbc] shop: Import Products failed (and 1 more)"


def test_beat_runs_the_flush_every_five_minutes(db):
    from django_celery_beat.models import PeriodicTask

    from itbc_portal.celery import app

    periodic = PeriodicTask.objects.get(name="itbc-notice-flush")
    assert periodic.enabled and (periodic.interval.every, periodic.interval.period) == (5, "minutes")
    app.loader.import_default_modules()  # what a worker does on start
    assert periodic.task in app.tasks
