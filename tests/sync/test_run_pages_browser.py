"""In a real Chromium: a real End of Day dry run against the sandbox store, some items drifted and some
not; "Changed only" shows exactly the drifted ones, marked, and paging keeps the filter. Saves a
screenshot to var/screenshots/eod_run.png."""
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from plugin.intellitrack import services as it
from plugin.sync.models import StoreItemLink, SyncRun
from tests.configuration.test_browser import log_in
from tests.sync.conftest import run_job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = Path(settings.BASE_DIR) / "var" / "screenshots" / "eod_run.png"


def test_changed_only_shows_exactly_the_drifted_items(page, live_server, shop_factory, viewer_user):
    store, _server = shop_factory(products=70, orders=12)
    run_job(store, SyncRun.Job.BOOTSTRAP)
    run_job(store, SyncRun.Job.EOD_EXPORT)  # the store now shows every level
    config = store.basic_configuration
    links = list(StoreItemLink.objects.filter(store=store).select_related("item").order_by("id"))
    drifted = links[1::9]  # our own account of what no longer matches the store
    for n, link in enumerate(drifted):
        it.inventory_adjust(item=link.item, location=config.default_location, uom=config.default_uom,
                            quantity_delta=n + 2, reason="count")
    expected = [link.sku or link.item.item_number for link in drifted]
    unchanged = [link.sku or link.item.item_number for link in links if link not in drifted]
    dry = run_job(store, SyncRun.Job.EOD_EXPORT, dry_run=True)
    assert dry.status == SyncRun.Status.SUCCEEDED, dry.error

    log_in(page, live_server, viewer_user, "pw-vera-viewer")
    page.goto(f"{live_server.url}/runs/{dry.pk}/")
    rows = page.locator("#item-table tbody tr")
    expect(rows).to_have_count(50)  # every item, a page of them
    expect(page.locator("#run-summary")).to_contain_text(f"{len(expected)} items had drifted from the store's level.")
    marked_before = page.locator("#item-table tbody tr.item-changed td:first-child").all_text_contents()
    assert set(marked_before) <= set(expected) and marked_before  # changed rows are marked among the others
    assert set(rows.locator("td:first-child").all_text_contents()) & set(unchanged)

    page.locator("#drift-changed-only").click()
    expect(page).to_have_url(f"{live_server.url}/runs/{dry.pk}/?changed=1")
    expect(page.locator("#drift-changed-only")).to_have_text(f"Changed only ({len(expected)})")
    expect(rows).to_have_count(len(expected))
    assert rows.locator("td:first-child").all_text_contents() == expected
    expect(page.locator("#item-table tbody tr.item-changed")).to_have_count(len(expected))
    expect(page.locator("#item-table tbody .item-changed-mark")).to_have_count(len(expected))
    changes = page.locator("#item-table tbody tr td:nth-child(8)").all_text_contents()
    assert changes == [f"+{n + 2}" for n in range(len(expected))]
    assert set(page.locator("#item-table tbody tr td:nth-child(4)").all_text_contents()) == {"read from the store"}
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.locator("#drift-all").click()
    expect(rows).to_have_count(50)
