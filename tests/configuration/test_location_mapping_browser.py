"""The store's inventory locations table in a real Chromium: a row's site reloads its location list, the
mapping saves, a site used twice is marked on its row, and the page keeps its Content-Security-Policy."""
import pytest
from playwright.sync_api import expect

from plugin.configuration.locations import location_mapping_get, store_locations_refresh
from plugin.configuration.models import BasicConfiguration, StoreConnection

from .test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def test_map_three_store_locations_in_the_table(page, live_server, store, master, admin_user_role):
    BasicConfiguration.objects.filter(store=store).update(
        default_division=master.division, default_site=master.site, default_location=master.location,
        default_uom=master.uom)
    store_locations_refresh(store=store, user=None, locations=[
        {"id": 1, "code": "WH1", "label": "Main"}, {"id": 2, "code": "WH2", "label": "Second"},
        {"id": 3, "code": "WH3", "label": "Third"}])
    page.add_init_script(RECORD_VIOLATIONS)
    log_in(page, live_server, admin_user_role, "pw-alice-admin")
    page.goto(f"{live_server.url}/stores/{store.pk}/basic/")

    table = page.locator("#location-mapping-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table.locator("[data-default-row]")).to_contain_text(master.site.code)
    expect(page.locator("input[name=default_location_id][value='1']")).to_be_checked()
    row2 = table.locator("tr[data-store-location='2']")
    row3 = table.locator("tr[data-store-location='3']")
    expect(row2.locator("select[data-location-select] option")).to_have_text(["Whole site"])

    # Choosing the site loads its locations into that row only.
    row2.locator("select[name$='-site']").select_option(str(master.sibling_site.pk))
    expect(row2.locator("select[data-location-select] option")).to_have_text(["Whole site", str(master.sibling_location)])
    expect(row3.locator("select[data-location-select] option")).to_have_text(["Whole site"])
    row2.locator("select[data-location-select]").select_option(str(master.sibling_location.pk))

    # The same site on a second row is refused on that row; nothing is saved.
    row3.locator("select[name$='-site']").select_option(str(master.sibling_site.pk))
    page.click("button:has-text('Save Location Mapping')")
    expect(page.locator(".alert-danger").first).to_contain_text("location mapping was not saved")
    expect(page.locator("tr[data-store-location='3'] .invalid-feedback")).to_contain_text("already mapped to location 2")
    expect(page.locator("tr[data-store-location='2'] select[data-location-select]")).to_have_value(
        str(master.sibling_location.pk))
    assert not location_mapping_get(store=StoreConnection.objects.get(pk=store.pk)).is_multi

    page.locator("tr[data-store-location='3'] select[name$='-site']").select_option("")
    page.click("button:has-text('Save Location Mapping')")
    expect(page.locator(".alert-success")).to_contain_text("Location mapping saved.")
    mapping = location_mapping_get(store=StoreConnection.objects.get(pk=store.pk))
    assert [(m.store_location_id, m.site_id, m.location_id) for m in mapping.others] == [
        (2, master.sibling_site.pk, master.sibling_location.pk)]
    expect(page.locator("tr[data-store-location='2'] select[data-location-select]")).to_have_value(
        str(master.sibling_location.pk))
    assert page.evaluate("window.__cspViolations") == []
