"""The timezone lists of Shopping Cart Configuration and Basic Configuration: the store's own timezone
first, then common zones, then the other place-named zones, without "Factory", "localtime" or Etc/*; a
filter box (static JS) in the page; the server still checks every name."""
import pytest
from django.test import Client
from django.urls import reverse

from plugin.configuration.forms import BasicConfigurationForm, StoreConnectionForm
from plugin.configuration.timezones import CANONICAL_TIMEZONES, COMMON_TIMEZONES

from .conftest import basic_data
from .factories import TOKEN

pytestmark = pytest.mark.django_db

NOT_PLACES = ["Factory", "localtime", "posixrules", "Etc/GMT+5", "Etc/UTC", "US/Eastern", "GMT", "EST5EDT",
              "Canada/Pacific", "Zulu"]


def flat(choices) -> list[str]:
    """Every value offered, in order, groups opened."""
    values = []
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            values += [inner for inner, _ in label]
        else:
            values.append(value)
    return values


def groups(choices) -> dict[str, list[str]]:
    return {group: [value for value, _ in inner] for group, inner in choices if isinstance(inner, (list, tuple))}


def cart_data(store, **values):
    return {"name": store.name, "store_hash": store.store_hash, "api_base_url": store.api_base_url,
            "inventory_location_id": "1", "access_token": "", **values}


def test_the_list_holds_places_only():
    assert "UTC" in CANONICAL_TIMEZONES
    for place in ("America/New_York", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Asia/Kolkata"):
        assert place in CANONICAL_TIMEZONES
    for name in NOT_PLACES:
        assert name not in CANONICAL_TIMEZONES
    assert 300 < len(CANONICAL_TIMEZONES) < 520  # not the ~600 raw names
    assert set(COMMON_TIMEZONES) <= set(CANONICAL_TIMEZONES)


def test_the_stores_own_timezone_comes_first_then_common_then_the_rest(store):
    store.remote_timezone = "Asia/Tokyo"
    store.save()
    choices = StoreConnectionForm(instance=store).fields["timezone"].choices

    assert choices[0] == ("", "the store's timezone (Asia/Tokyo)")
    by_group = groups(choices)
    assert list(by_group) == ["The store's timezone", "Common timezones", "All timezones"]
    assert by_group["The store's timezone"] == ["Asia/Tokyo"]
    assert by_group["Common timezones"][:2] == ["UTC", "Pacific/Honolulu"]
    assert "America/New_York" in by_group["Common timezones"]
    assert "Asia/Tokyo" not in by_group["Common timezones"]  # listed once, on top
    assert by_group["All timezones"] == sorted(by_group["All timezones"])
    assert "Europe/Vilnius" in by_group["All timezones"]
    offered = flat(choices)
    assert len(offered) == len(set(offered))
    for name in NOT_PLACES:
        assert name not in offered


def test_before_the_store_is_read_there_is_no_store_group():
    choices = StoreConnectionForm().fields["timezone"].choices
    assert choices[0] == ("", "the store's timezone (read by Test connection; UTC until then)")
    assert "The store's timezone" not in groups(choices)


def test_a_saved_alias_is_still_offered_and_kept(store):
    store.timezone, store.timezone_chosen = "US/Eastern", True
    store.save()
    form = StoreConnectionForm(instance=store)
    assert "US/Eastern" in flat(form.fields["timezone"].choices)
    assert '<option value="US/Eastern" selected>US/Eastern</option>' in str(form["timezone"])
    # and saving the form again keeps it
    assert StoreConnectionForm(data=cart_data(store, timezone="US/Eastern", access_token=TOKEN),
                               instance=store).is_valid()


@pytest.mark.parametrize("name,valid", [
    ("Europe/Lisbon", True),
    ("", True),
    ("US/Pacific", True),  # an alias a configuration file may hold: not listed, still accepted
    ("Factory", False),
    ("localtime", False),
    ("Mars/Olympus_Mons", False),
    ("<script>", False),
])
def test_the_server_checks_the_connection_timezone(store, name, valid):
    form = StoreConnectionForm(data=cart_data(store, timezone=name, access_token=TOKEN), instance=store)
    assert form.is_valid() is valid, form.errors
    if not valid:
        assert "Select a valid choice" in form.errors["timezone"][0]


def test_the_end_of_day_timezone_is_ordered_and_checked_the_same_way(store, master):
    store.remote_timezone = "Europe/Oslo"
    store.timezone = "Europe/Oslo"
    store.save()
    configuration = store.basic_configuration
    form = BasicConfigurationForm(instance=configuration)
    choices = form.fields["eod_timezone"].choices
    assert choices[0] == ("", "the store's timezone (Europe/Oslo)")
    assert groups(choices)["The store's timezone"] == ["Europe/Oslo"]
    assert "Factory" not in flat(choices)

    good = BasicConfigurationForm(data=basic_data(master, eod_timezone="Australia/Adelaide"), instance=configuration)
    assert good.is_valid(), good.errors
    assert good.cleaned_data["eod_timezone"] == "Australia/Adelaide"
    bad = BasicConfigurationForm(data=basic_data(master, eod_timezone="localtime"), instance=configuration)
    assert not bad.is_valid()
    assert "eod_timezone" in bad.errors


def test_the_pages_carry_the_filter_box_script_and_still_a_plain_select(store, admin_user_role):
    client = Client()
    client.force_login(admin_user_role)
    for url in (reverse("configuration:cart", args=[store.pk]), reverse("configuration:basic", args=[store.pk]),
                reverse("configuration:store-add")):
        page = client.get(url).content.decode()
        assert "itbc/timezone_filter.js" in page, url
        assert "data-timezone-filter" in page, url
        assert '<optgroup label="Common timezones">' in page, url
        assert ">Factory<" not in page and ">localtime<" not in page, url


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_filter_box_narrows_the_list_and_enter_picks_the_first_match(page, live_server, store, admin_user_role):
    from playwright.sync_api import expect

    csp_errors = []
    page.on("console", lambda message: csp_errors.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", admin_user_role.username)
    page.fill("input[name=password]", "pw-alice-admin")
    page.click("button:has-text('Log in')")
    page.goto(f"{live_server.url}{reverse('configuration:cart', args=[store.pk])}")

    box = page.locator("input[data-timezone-filter-for=timezone]")
    box.fill("new york")
    expect(page.locator(".form-text[aria-live]")).to_have_text(
        f"1 of {len(CANONICAL_TIMEZONES)} timezones match")
    visible = page.eval_on_selector_all("select[name=timezone] option", "os => os.filter(o => !o.hidden).map(o => o.value)")
    assert visible == ["", "America/New_York"]
    box.press("Enter")  # picks the match; the form is not submitted
    expect(page.locator("select[name=timezone]")).to_have_value("America/New_York")
    assert page.url.endswith(reverse("configuration:cart", args=[store.pk]))

    box.fill("")
    hidden = page.eval_on_selector_all("select[name=timezone] option", "os => os.filter(o => o.hidden).length")
    assert hidden == 0
    assert csp_errors == []
