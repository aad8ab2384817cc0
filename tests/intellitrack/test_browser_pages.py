"""An operator in a real Chromium: log in, adjust stock on the Inventory Data page, pick a line of a picking
order, and see the new quantities on the pages."""

import re

import pytest
from playwright.sync_api import expect

from plugin.intellitrack.models import InventoryRecord
from tests.api.scenario import on_hand, warehouse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _row(page, item_number, location_code):
    return (
        page.locator("#inventory-table tbody tr").filter(has_text=item_number).filter(has_text=location_code)
    )


def test_operator_adjusts_stock_and_picks_an_order(page, live_server, operator_user):
    wh = warehouse()
    record = InventoryRecord.objects.get(item=wh.widget, location=wh.a01)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", operator_user.username)
    page.fill("input[name=password]", "pw-" + operator_user.username)
    page.click("button[type=submit]")
    page.get_by_role("link", name="Inventory Data").click()
    expect(page.locator("h1")).to_have_text("Inventory Data")

    # Filter to site S1, then adjust W-100 at A-01 down by 2.
    page.select_option("#id_site", str(wh.s1.pk))
    page.click("#inventory-filter button[type=submit]")
    expect(page.locator("#inventory-table tbody tr")).to_have_count(2)
    expect(page.locator("#inventory-totals")).to_contain_text("13 on hand")
    _row(page, "W-100", "A-01").get_by_role("link", name="Adjust").click()
    expect(page.locator("#current-on-hand")).to_have_text("10")

    # A reason is required: the form says so and nothing changes.
    page.fill("#id_quantity", "-2")
    page.click("#adjust-form button[type=submit]")
    expect(page.locator("#adjust-form .invalid-feedback")).to_contain_text("required")
    assert on_hand(wh.widget, wh.a01) == 10

    page.fill("#id_reason", "damaged in handling")
    page.click("#adjust-form button[type=submit]")
    # Back on the filtered list, with the new on-hand.
    expect(page).to_have_url(re.compile(rf"site={wh.s1.pk}"))
    expect(_row(page, "W-100", "A-01").locator(".on-hand")).to_have_text("8")
    expect(page.locator("#inventory-totals")).to_contain_text("11 on hand")
    assert InventoryRecord.objects.get(pk=record.pk).on_hand == 8

    # Open the picking order and pick 3 of line 1 from A-01.
    page.get_by_role("link", name="Picking Orders").click()
    page.get_by_role("link", name="PO-1").click()
    form = page.locator("#pick-line-1")
    form.locator("input[name$=quantity]").fill("3")
    form.locator("select[name$=location]").select_option(str(wh.a01.pk))
    form.locator("input[name$=tracking_number]").fill("1Z-TRACK-1")
    form.get_by_role("button", name="Pick line 1").click()

    line = page.locator("#line-1")
    expect(line.locator(".picked")).to_have_text("3")
    expect(line.locator(".remaining")).to_have_text("2")
    expect(page.locator(".prior-picks").first).to_contain_text("1Z-TRACK-1")
    # The location choice now shows what is left there.
    expect(page.locator("#pick-line-1 select[name$=location]")).to_contain_text("(5 on hand)")

    # Over-picking the rest is refused on the form (the location with most stock is preselected).
    form = page.locator("#pick-line-1")
    expect(form.locator("select[name$=location]")).to_have_value(str(wh.a01.pk))
    form.locator("input[name$=quantity]").fill("3")
    form.get_by_role("button", name="Pick line 1").click()
    expect(page.locator("#pick-line-1 .invalid-feedback")).to_contain_text("Only 2 left to pick")

    page.get_by_role("link", name="Inventory Data").click()
    expect(_row(page, "W-100", "A-01").locator(".on-hand")).to_have_text("5")
    assert on_hand(wh.widget, wh.a01) == 5


def test_swagger_ui_renders_from_this_site_only(page, live_server, operator_user):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", operator_user.username)
    page.fill("input[name=password]", "pw-" + operator_user.username)
    page.click("button[type=submit]")
    page.get_by_role("link", name="API").click()
    expect(page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible()
    expect(page.locator(".swagger-ui")).to_contain_text("/api/picks/")
    assert requested and all(url.startswith(live_server.url) for url in requested), requested
