"""The dashboard in a real Chromium: a run that really fails (the sandbox store refuses the token with
401) turns the store's light red, shows in the Logs tab's error log and in the Runs badge, and
acknowledging it clears the badge; the status boxes refresh while a run goes on. The test saves a
screenshot of the dashboard to var/screenshots/dashboard.png."""
import datetime as dt
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from itbc_portal.celery import app
from plugin.sync.models import SyncRun
from plugin.sync.services import job_trigger, run_execute
from tests.bigcommerce.sandbox_fixtures import SANDBOX_STORE_HASH, SANDBOX_TOKEN
from tests.configuration.test_browser import log_in
from tests.sync.factories import configured_store

from .test_dashboard import finished_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Job, Status = SyncRun.Job, SyncRun.Status
SCREENSHOT = Path(settings.BASE_DIR) / "var" / "screenshots" / "dashboard.png"


@pytest.fixture
def shop_factory(db, make_sandbox):
    """A sandbox store and a store connection configured for it."""
    def make(*, products, orders, **server_options):
        server = make_sandbox(products=products, orders=orders, plan="unlimited", **server_options)
        store = configured_store(name=f"shop{server.port}", base_url=server.base_url,
                                 store_hash=SANDBOX_STORE_HASH, token=SANDBOX_TOKEN)
        return store, server

    return make


def history(store, days=30):
    """A month of runs, so the charts have something to draw."""
    now = timezone.now()
    for back in range(days):
        day = now - dt.timedelta(days=back, hours=1)
        finished_run(store, Job.AUTO_SYNC, Status.SUCCEEDED, at=day, seconds=20 + back)
        finished_run(store, Job.EXPORT_ADJUSTMENTS, Status.SUCCEEDED, at=day, seconds=5,
                     succeeded_count=10 + (back * 7) % 40)
        finished_run(store, Job.EOD_EXPORT, Status.PARTIAL if back % 9 == 4 else Status.SUCCEEDED,
                     at=day - dt.timedelta(hours=2), seconds=60, succeeded_count=200,
                     failed_count=1 if back % 9 == 4 else 0,
                     summary={"dry_run": True, "drifted_items": back % 5} if back % 3 == 0 else {})
    # Someone looked at the partial ones already.
    SyncRun.objects.filter(store=store, status=Status.PARTIAL).update(acknowledged_at=now)


def test_a_failed_run_turns_the_light_red_shows_in_the_error_log_and_the_badge(page, live_server, shop_factory,
                                                                                 operator_user):
    healthy, _ = shop_factory(products=10, orders=0)
    history(healthy)
    store, _server = shop_factory(products=10, orders=0)
    store.access_token = "a-token-the-store-refuses"  # the sandbox answers 401
    store.save()
    run = job_trigger(store=store, job=Job.IMPORT_PRODUCTS, enqueue=False)
    run = run_execute(run_id=run.pk)
    assert run.status == Status.FAILED, run.error

    log_in(page, live_server, operator_user, "pw-oscar-operator")
    page.goto(f"{live_server.url}/")
    box = page.locator(f"#store-box-{store.pk}")
    expect(box.locator(".store-light")).to_have_text("Errors")
    expect(box.locator(".store-light")).to_have_attribute("data-light", "errors")
    expect(box.locator(".store-reasons")).to_contain_text(f"The last Import Products run (#{run.pk}) failed.")
    expect(box.locator(".store-last-error")).to_contain_text(f"#{run.pk}")
    expect(page.locator(f"#store-box-{healthy.pk} .store-light")).not_to_have_text("Errors")
    expect(page.locator(f"#store-box-{healthy.pk} svg.itbc-chart")).to_have_count(1)
    expect(page.locator("#runs-badge")).to_contain_text("1")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    # The error log on the Logs tab names the run, what happened, and links to it.
    page.goto(f"{live_server.url}/stores/{store.pk}/logs/")
    row = page.locator(f"#error-log-table tr[data-run='{run.pk}']")
    expect(row).to_contain_text("Import Products")
    expect(row).to_contain_text("Failed")
    expect(row.locator("td").nth(3)).not_to_contain_text("Error:")  # a sentence, not an exception's name
    row.locator(f"a:has-text('#{run.pk}')").click()
    expect(page.locator("h1")).to_contain_text(f"Run #{run.pk}")

    # Acknowledged: the badge is gone and the light is no longer red.
    page.locator("#acknowledge-run").click()
    expect(page.locator("#run-acknowledgement")).to_contain_text("Acknowledged")
    expect(page.locator("#runs-badge")).to_have_count(0)
    page.goto(f"{live_server.url}/")
    expect(page.locator(f"#store-box-{store.pk} .store-light")).not_to_have_text("Errors")


def test_the_dashboard_box_refreshes_while_a_run_goes_on(page, live_server, shop_factory, viewer_user):
    store, _server = shop_factory(products=10, orders=0)
    running = SyncRun.objects.create(store=store, job=Job.EOD_EXPORT, status=Status.RUNNING,
                                     started_at=timezone.now())
    log_in(page, live_server, viewer_user, "pw-vera-viewer")
    page.goto(f"{live_server.url}/")
    box = page.locator(f"#store-box-{store.pk}")
    expect(box.locator(".store-running")).to_be_visible()
    SyncRun.objects.filter(pk=running.pk).update(status=Status.FAILED, finished_at=timezone.now(),
                                                 error="BigCommerceError: the store did not answer")
    # No reload: the box polls every 2 s while a run goes on.
    expect(box.locator(".store-light")).to_have_text("Errors", timeout=10000)
    expect(box.locator(".store-running")).to_have_count(0)
    expect(box.locator(".store-last-error")).to_contain_text("the store did not answer.")
    expect(box.locator(".store-last-error")).not_to_contain_text("BigCommerceError")


@pytest.fixture
def worker():
    try:  # every queue the runs' tasks are routed to, where the project routes them by kind
        from plugin.sync.queues import ALL as queues
    except ImportError:
        queues = None
    options = {"queues": list(queues)} if queues else {}
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, **options):
        yield


def test_the_sync_tab_status_box_updates_when_a_run_starts_and_ends(page, live_server, shop_factory,
                                                                     operator_user, worker):
    store, _server = shop_factory(products=30, orders=0, faults={"delay_ms": 100})
    log_in(page, live_server, operator_user, "pw-oscar-operator")
    page.goto(f"{live_server.url}/stores/{store.pk}/sync/")
    expect(page.locator("#last-success")).to_contain_text("none yet")
    form = page.locator("form[data-job=import_products]")
    form.locator("button.job-button").click()
    expect(form.locator(".job-progress-text")).to_contain_text("Succeeded", timeout=60000)
    run = SyncRun.objects.get(store=store, job=Job.IMPORT_PRODUCTS)
    assert run.status == Status.SUCCEEDED, run.error
    # The status box follows without a reload of the page.
    expect(page.locator("#last-success")).to_contain_text("Import Products", timeout=15000)
