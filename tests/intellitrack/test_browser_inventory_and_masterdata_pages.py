"""In a real Chromium: choosing a Site on Inventory Data narrows the Location list to its locations (and a
location of another site is dropped); an Admin creates a site and a location on the Master data pages.
Both pages pass the Content-Security-Policy (their script is a static file)."""

import re

import pytest
from playwright.sync_api import expect

from plugin.intellitrack.models import Location, Site
from tests.api.scenario import warehouse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def _log_in(page, live_server, user):
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", "pw-" + user.username)
    page.click("button[type=submit]")


def _location_labels(page):
    return [text.strip() for text in page.locator("#id_location option").all_inner_texts()]


def test_choosing_a_site_limits_the_location_list(page, live_server, viewer_user):
    wh = warehouse()
    _log_in(page, live_server, viewer_user)
    page.get_by_role("link", name="Inventory Data").click()
    expect(page.locator("h1")).to_have_text("Inventory Data")
    assert {"S1 / A-01", "S1 / A-02", "S1 / A-03", "S2 / B-01", "T1 / Z-01"} <= set(_location_labels(page))

    page.select_option("#id_site", str(wh.s2.pk))
    assert _location_labels(page) == ["---------", "S2 / B-01"]
    page.select_option("#id_site", str(wh.s1.pk))
    assert _location_labels(page) == ["---------", "S1 / A-01", "S1 / A-02", "S1 / A-03"]
    page.select_option("#id_location", str(wh.a02.pk))

    # Filtering keeps the choice; the server renders only the site's locations too.
    page.click("#inventory-filter button[type=submit]")
    expect(page).to_have_url(re.compile(rf"location={wh.a02.pk}"))
    expect(page.locator("#inventory-table tbody tr")).to_have_count(1)
    assert _location_labels(page) == ["---------", "S1 / A-01", "S1 / A-02", "S1 / A-03"]

    # Another site drops the chosen location of the first one.
    page.select_option("#id_site", str(wh.s2.pk))
    expect(page.locator("#id_location")).to_have_value("")
    # Back to every site: every location again.
    page.select_option("#id_site", "")
    assert "T1 / Z-01" in _location_labels(page)

    # Sorting by a column header keeps the filter.
    page.select_option("#id_site", str(wh.s1.pk))
    page.click("#inventory-filter button[type=submit]")
    page.locator("a.sort-link[data-sort=on_hand]").click()
    expect(page).to_have_url(re.compile(r"sort=on_hand"))
    expect(page.locator("#inventory-table tbody tr .on-hand")).to_have_text(["3", "10"])
    page.locator("a.sort-link[data-sort=on_hand]").click()
    expect(page.locator("#inventory-table tbody tr .on-hand")).to_have_text(["10", "3"])
    assert page.evaluate("window.__cspViolations") == []


def test_admin_creates_a_site_and_a_location(page, live_server, admin_user_role):
    wh = warehouse()
    _log_in(page, live_server, admin_user_role)
    page.get_by_role("link", name="Master data").click()
    expect(page.locator("h1")).to_have_text("Master data")
    page.get_by_role("link", name="Sites").click()
    page.locator("#masterdata-add").click()

    # A code already used in the division is refused on the field's form, nothing is created.
    page.select_option("#id_division", str(wh.division.pk))
    page.fill("#id_code", "S1")
    page.fill("#id_name", "Duplicate")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#masterdata-errors")).to_contain_text("already exists")

    page.fill("#id_code", "S3")
    page.fill("#id_name", "Overflow store")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("saved")
    expect(page.locator("#masterdata-table")).to_contain_text("Overflow store")
    site = Site.objects.get(division=wh.division, code="S3")

    page.get_by_role("link", name="Locations").click()
    page.locator("#masterdata-add").click()
    page.select_option("#id_site", str(site.pk))
    page.fill("#id_code", "C-01")
    page.fill("#id_name", "Cage")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("saved")
    page.fill("input[name=q]", "C-01")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#masterdata-table tbody tr")).to_have_count(1)
    expect(page.locator("#masterdata-table tbody tr")).to_contain_text("S3")
    assert Location.objects.filter(site=site, code="C-01", name="Cage").exists()

    # The new location is offered under its site on Inventory Data.
    page.get_by_role("link", name="Inventory Data").click()
    page.wait_for_load_state("load")  # the page's script listens for the Site once it has loaded
    page.select_option("#id_site", str(site.pk))
    expect(page.locator("#id_location option")).to_have_count(2)
    assert _location_labels(page) == ["---------", "S3 / C-01"]
    assert page.evaluate("window.__cspViolations") == []
