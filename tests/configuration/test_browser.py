"""Basic Configuration in a real Chromium: dependent drop-downs, Refresh, Save Configuration."""
import pytest
from playwright.sync_api import expect

from plugin.configuration.models import BasicConfiguration

from .factories import LocationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    page.click("button:has-text('Log in')")
    expect(page.locator("h1")).to_have_text("Stores")


def option_labels(page, name):
    return page.locator(f"select[name={name}] option").all_text_contents()


def test_fill_and_save_basic_configuration(page, live_server, store, master, admin_user_role):
    log_in(page, live_server, admin_user_role, "pw-alice-admin")
    page.click(f"text={store.name}")
    expect(page.locator(".nav-link.active")).to_have_text("Basic Configuration")
    assert option_labels(page, "default_site") == ["---------"]

    # Typed first, so the drop-down reloads must keep it.
    page.fill("input[name=sync_interval_minutes]", "30")
    page.check("input[name=auto_sync_enabled]")

    page.select_option("select[name=default_division]", str(master.division.pk))
    expect(page.locator("select[name=default_site] option")).to_have_count(3)  # blank, WH1, WH2
    assert option_labels(page, "default_uom") == ["---------", str(master.uom)]
    page.select_option("select[name=default_site]", str(master.site.pk))
    expect(page.locator("select[name=default_location] option")).to_have_count(2)
    assert option_labels(page, "default_location")[1] == str(master.location)
    page.select_option("select[name=default_location]", str(master.location.pk))
    page.select_option("select[name=default_uom]", str(master.uom.pk))

    # Switching the site reloads only the locations.
    page.select_option("select[name=default_site]", str(master.sibling_site.pk))
    expect(page.locator("select[name=default_location] option")).to_have_text(["---------", str(master.sibling_location)])
    page.select_option("select[name=default_site]", str(master.site.pk))
    expect(page.locator("select[name=default_location] option")).to_have_text(["---------", str(master.location)])
    page.select_option("select[name=default_location]", str(master.location.pk))

    # Refresh picks up a location added meanwhile, keeps every current choice and says what it reloaded:
    # MAIN and OTHER; WH1 and WH2 of MAIN; of WH1 (plus the blank); EA of MAIN.
    added = LocationFactory(site=master.site, code="A-02")
    page.click("#refresh-master-data")
    expect(page.locator("#master-data-status")).to_have_text("Reloaded 2 divisions, 2 sites, 2 locations, 1 UOM.")
    expect(page.locator("select[name=default_location] option")).to_have_count(3)
    expect(page.locator("select[name=default_location]")).to_have_value(str(master.location.pk))
    expect(page.locator("select[name=default_division]")).to_have_value(str(master.division.pk))
    assert str(added) in option_labels(page, "default_location")

    page.check("input[name=eod_enabled]")
    page.fill("input[name=eod_time]", "18:30")
    expect(page.locator("input[name=sync_interval_minutes]")).to_have_value("30")
    page.click("button:has-text('Save Configuration')")

    expect(page.locator(".alert-success")).to_contain_text("Basic Configuration saved.")
    expect(page.locator("select[name=default_division]")).to_have_value(str(master.division.pk))
    expect(page.locator("select[name=default_site]")).to_have_value(str(master.site.pk))
    expect(page.locator("select[name=default_location]")).to_have_value(str(master.location.pk))
    expect(page.locator("select[name=default_uom]")).to_have_value(str(master.uom.pk))
    expect(page.locator("input[name=eod_time]")).to_have_value("18:30")
    expect(page.locator("input[name=sync_interval_minutes]")).to_have_value("30")
    expect(page.locator("[data-next-eod]")).to_contain_text("18:30")
    expect(page.locator("#next-eod-summary")).to_contain_text("America/New_York")

    configuration = BasicConfiguration.objects.get(store=store)
    assert (configuration.default_location_id, configuration.sync_interval_minutes) == (master.location.pk, 30)
    assert configuration.eod_time.strftime("%H:%M") == "18:30"

    page.click("a.nav-link:has-text('Synchronization')")
    expect(page.locator("#next-eod")).to_contain_text("18:30")


def test_field_errors_show_in_the_page(page, live_server, store, master, admin_user_role):
    log_in(page, live_server, admin_user_role, "pw-alice-admin")
    page.goto(f"{live_server.url}/stores/{store.pk}/basic/")
    page.select_option("select[name=default_division]", str(master.division.pk))
    expect(page.locator("select[name=default_site] option")).to_have_count(3)
    page.check("input[name=eod_enabled]")
    page.click("button:has-text('Save Configuration')")
    expect(page.locator(".alert-danger")).to_contain_text("was not saved")
    expect(page.locator("#id_eod_enabled ~ .invalid-feedback, .invalid-feedback").first).to_be_visible()
    assert "needs auto sync on" in page.content()
    # The lists of the chosen division are still offered after the error.
    expect(page.locator("select[name=default_site] option")).to_have_count(3)
