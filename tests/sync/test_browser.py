"""In a real Chromium: press Import Products, watch the progress reach the end, open the run.

A real Celery worker (in a thread, on the in-memory broker) executes the task queued on commit; the
sandbox store answers over HTTP, each answer slowed a little so the progress is visible mid-way."""
import time

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import expect

from itbc_portal.celery import app
from plugin.sync import queues
from plugin.sync.models import StoreItemLink, SyncRun
from tests.configuration.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    # every queue the runs are routed to (plugin.sync.queues)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30, queues=list(queues.ALL)):
        yield


def test_press_import_products_watch_progress_open_the_run(page, live_server, shop_factory, operator_user, worker):
    store, server = shop_factory(products=700, orders=0, faults={"delay_ms": 250})
    log_in(page, live_server, operator_user, "pw-oscar-operator")
    page.goto(f"{live_server.url}/stores/{store.pk}/sync/")
    form = page.locator("form[data-job=import_products]")
    form.locator("button.job-button").click()
    text = form.locator(".job-progress-text")
    seen = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        current = text.text_content() or ""
        if current and (not seen or seen[-1] != current):
            seen.append(current)
        if "Succeeded" in current or "Partial" in current or "Failed" in current:
            break
        time.sleep(0.1)
    run = SyncRun.objects.get(store=store, job=SyncRun.Job.IMPORT_PRODUCTS)
    assert run.status == SyncRun.Status.SUCCEEDED, (run.error, seen)
    assert any("Running" in s or "Queued" in s for s in seen[:-1]), seen  # seen before the end
    assert f"{run.processed} of {run.total} processed" in seen[-1]
    assert run.processed == run.total
    link = form.locator(".job-run-link")
    expect(link).to_have_text(f"Open run #{run.pk}")
    link.click()
    expect(page.locator("h1")).to_contain_text(f"Run #{run.pk}")
    expect(page.locator("#run-status")).to_contain_text("Succeeded")
    expect(page.locator("#item-table tbody tr")).to_have_count(50)
    assert StoreItemLink.objects.filter(store=store).count() == run.succeeded_count


def test_second_press_names_the_run_in_progress_and_prerequisite_refusal(page, live_server, shop_factory,
                                                                         operator_user):
    store, _server = shop_factory(products=10, orders=0)
    log_in(page, live_server, operator_user, "pw-oscar-operator")
    page.goto(f"{live_server.url}/stores/{store.pk}/sync/")
    eod = page.locator("form[data-job=eod_export]")
    eod.locator("button.job-button").click()
    expect(eod.locator(".job-refusal")).to_contain_text("Import products first")
    # no worker here: the first run stays queued, the second press names it
    form = page.locator("form[data-job=import_products]")
    form.locator("button.job-button").click()
    expect(form.locator(".job-progress-text")).to_contain_text("Queued")
    run = SyncRun.objects.get(store=store, job=SyncRun.Job.IMPORT_PRODUCTS)
    expect(form.locator("button.job-button")).to_be_disabled()  # this page waits for its run
    page.reload()  # another press (a reloaded page, or another operator)
    form.locator("button.job-button").click()
    expect(form.locator(".job-refusal")).to_contain_text(f"run #{run.pk}")
    expect(form.locator(".job-refusal a")).to_have_text(f" Open run #{run.pk}")
