"""Notifications in a real Chromium: an Admin saves the recipients and presses Send test email; an Operator
presses a job whose store refuses the token, a real Celery worker (a thread, on the in-memory broker) runs
it and then the notice task queued on commit, and the mail (Django's locmem backend) links to the run."""
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from playwright.sync_api import expect

from itbc_portal.celery import app
from plugin.configuration.models import BasicConfiguration
from plugin.sync.models import SyncRun
from tests.bigcommerce.sandbox_fixtures import SANDBOX_STORE_HASH
from tests.configuration.test_browser import log_in
from tests.portal.test_notifications import broker_pools_reset
from tests.sync.factories import configured_store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def worker():
    import plugin.portal.tasks  # noqa: F401  (as the worker's autodiscovery does)

    try:  # every queue the project routes tasks to, where it routes them by kind
        from plugin.sync.queues import ALL as queues
    except ImportError:
        queues = None
    options = {"queues": list(queues)} if queues else {}
    broker_pools_reset(app)  # a pool an earlier test closed (by switching brokers) is not reused
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, **options):
        yield


def test_an_admin_saves_recipients_and_sends_a_test_email(page, live_server, admin_user_role):
    store = configured_store(name="shop")
    log_in(page, live_server, admin_user_role, "pw-alice-admin")
    page.goto(f"{live_server.url}/stores/{store.pk}/basic/")
    page.fill("textarea[name=notification_recipients]", "ops@example.com\nnot-an-address")
    page.click("button:has-text('Save Configuration')")
    expect(page.locator("#notifications .invalid-feedback")).to_contain_text(
        "\u201cnot-an-address\u201d is not an email address.")

    page.fill("textarea[name=notification_recipients]", "ops@example.com\nlead@example.com")
    page.click("button:has-text('Save Configuration')")
    expect(page.locator(".alert-success")).to_contain_text("Basic Configuration saved.")
    assert BasicConfiguration.objects.get(store=store).notification_recipients == "ops@example.com, lead@example.com"

    page.click("#notification-test")
    expect(page.locator(".alert-success")).to_contain_text("Test email sent to ops@example.com, lead@example.com.")
    assert [m.to for m in mail.outbox] == [["ops@example.com", "lead@example.com"]]


def test_a_failed_run_started_from_the_page_is_mailed_with_a_link_that_opens_it(
        page, live_server, make_sandbox, operator_user, worker, settings):
    settings.ITBC_PORTAL_URL = live_server.url
    server = make_sandbox(products=5, orders=0, plan="unlimited")
    store = configured_store(name="shop", base_url=server.base_url, store_hash=SANDBOX_STORE_HASH,
                             token="not-the-sandbox-token", notification_recipients="ops@example.com")
    log_in(page, live_server, operator_user, "pw-oscar-operator")
    page.goto(f"{live_server.url}/stores/{store.pk}/sync/")
    page.locator("form[data-job=import_products] button.job-button").click()
    deadline = time.monotonic() + 60
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.2)
    run = SyncRun.objects.get(store=store, job=SyncRun.Job.IMPORT_PRODUCTS)
    assert run.status == SyncRun.Status.FAILED
    assert [(m.to, m.subject) for m in mail.outbox] == [(["ops@example.com"], "[itbc] shop: Import Products failed")]
    link = f"{live_server.url}/runs/{run.pk}/"
    assert link in mail.outbox[0].body
    page.goto(link)
    expect(page.locator("h1")).to_contain_text(f"Run #{run.pk}")
    expect(page.locator("#run-status")).to_contain_text("Failed")
