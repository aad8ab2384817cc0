import pytest

from plugin.configuration.forms import BasicConfigurationForm, StoreConnectionForm

from .conftest import basic_data
from .factories import UOMFactory

pytestmark = pytest.mark.django_db


def bound(store, data):
    return BasicConfigurationForm(data=data, instance=store.basic_configuration)


def test_complete_configuration_is_valid(store, master):
    form = bound(store, basic_data(master))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["default_location"] == master.location
    assert form.cleaned_data["order_statuses_to_import"] == [11]


def test_end_of_day_needs_auto_sync(store, master):
    form = bound(store, basic_data(master, auto_sync_enabled=""))
    assert not form.is_valid()
    assert "needs auto sync" in form.errors["eod_enabled"][0]


def test_end_of_day_needs_a_time(store, master):
    form = bound(store, basic_data(master, eod_time=""))
    assert not form.is_valid()
    assert form.errors["eod_time"] == ["Enter the End of Day time."]


def test_end_of_day_off_needs_no_time(store, master):
    form = bound(store, basic_data(master, eod_enabled="", eod_time=""))
    assert form.is_valid(), form.errors


def test_location_must_belong_to_the_site(store, master):
    form = bound(store, basic_data(master, default_location=master.sibling_location.pk))
    assert not form.is_valid()
    assert form.errors["default_location"] == ["Choose a location of the chosen site."]


def test_site_must_belong_to_the_division(store, master):
    form = bound(store, basic_data(master, default_site=master.other_site.pk, default_location=master.other_location.pk))
    assert not form.is_valid()
    assert form.errors["default_site"] == ["Choose a site of the chosen division."]
    assert "default_location" in form.errors


def test_uom_must_belong_to_the_division(store, master):
    form = bound(store, basic_data(master, default_uom=master.other_uom.pk))
    assert not form.is_valid()
    assert form.errors["default_uom"] == ["Choose a UOM of the chosen division whose each-count is 1."]


def test_default_uom_must_count_one_unit(store, master):
    case = UOMFactory(division=master.division, code="CS12", each_count=12)
    form = bound(store, basic_data(master, default_uom=case.pk))
    assert not form.is_valid()
    assert form.errors["default_uom"] == ["Choose a UOM of the chosen division whose each-count is 1."]
    assert case.pk not in [uom.pk for uom in form.fields["default_uom"].queryset]


@pytest.mark.parametrize("division", ["999999", "abc", "-1"])
def test_unknown_division_is_a_field_error(store, master, division):
    form = bound(store, basic_data(master, default_division=division))
    assert not form.is_valid()
    assert form.errors["default_division"] == ["That division does not exist (any more)."]


@pytest.mark.parametrize("missing", ["default_division", "default_site", "default_location", "default_uom"])
def test_the_four_defaults_go_together(store, master, missing):
    data = basic_data(master, auto_sync_enabled="", eod_enabled="")
    del data[missing]
    form = bound(store, data)
    assert not form.is_valid()
    assert form.errors[missing] == ["Division, Site, Location and UOM are needed together."]


def test_no_defaults_at_all_is_valid_while_automation_is_off(store, master):
    data = basic_data(master, auto_sync_enabled="", eod_enabled="")
    for name in ["default_division", "default_site", "default_location", "default_uom"]:
        del data[name]
    assert bound(store, data).is_valid()


def test_auto_sync_needs_the_four_defaults(store, master):
    data = basic_data(master, eod_enabled="")
    for name in ["default_division", "default_site", "default_location", "default_uom"]:
        del data[name]
    form = bound(store, data)
    assert not form.is_valid()
    assert "before turning auto sync on" in form.errors["auto_sync_enabled"][0]


@pytest.mark.parametrize("interval,ok", [("0", False), ("1", True), ("1440", True), ("1441", False), ("x", False)])
def test_interval_between_1_and_1440(store, master, interval, ok):
    form = bound(store, basic_data(master, sync_interval_minutes=interval))
    assert form.is_valid() is ok
    if not ok:
        assert "sync_interval_minutes" in form.errors


@pytest.mark.parametrize("statuses,ok", [(["11"], True), (["0", "14", "9"], True), (["15"], False), (["-1"], False),
                                         (["abc"], False), ([], False)])
def test_order_statuses_are_bigcommerce_status_ids(store, master, statuses, ok):
    data = basic_data(master)
    data["order_statuses_to_import"] = statuses
    form = bound(store, data)
    assert form.is_valid() is ok
    if ok:
        assert form.cleaned_data["order_statuses_to_import"] == sorted(int(s) for s in statuses)
    else:
        assert "order_statuses_to_import" in form.errors


def test_order_statuses_default_to_awaiting_fulfillment(store):
    form = BasicConfigurationForm(instance=store.basic_configuration)
    assert form["order_statuses_to_import"].value() == [11]
    assert "Awaiting Fulfillment" in str(form["order_statuses_to_import"])


@pytest.mark.parametrize("tz,ok", [("Europe/Berlin", True), ("", True), ("Mars/Olympus", False)])
def test_eod_timezone_must_be_a_timezone(store, master, tz, ok):
    form = bound(store, basic_data(master, eod_timezone=tz))
    assert form.is_valid() is ok


def test_lists_follow_the_bound_division_and_site(store, master):
    form = bound(store, basic_data(master, default_site=master.sibling_site.pk, eod_time=""))
    assert not form.is_valid()
    assert set(form.fields["default_site"].queryset) == {master.site, master.sibling_site}
    assert list(form.fields["default_location"].queryset) == [master.sibling_location]
    assert list(form.fields["default_uom"].queryset) == [master.uom]


def test_unbound_lists_follow_the_saved_choice(store, master):
    configuration = store.basic_configuration
    configuration.default_division = master.other_division
    configuration.default_site = master.other_site
    configuration.save()
    form = BasicConfigurationForm(instance=configuration)
    assert list(form.fields["default_site"].queryset) == [master.other_site]
    assert list(form.fields["default_location"].queryset) == [master.other_location]
    assert list(form.fields["default_uom"].queryset) == [master.other_uom]


def connection_data(**overrides):
    data = {
        "name": "shop",
        "store_hash": "abc123",
        "api_base_url": "https://api.bigcommerce.com",
        "timezone": "UTC",
        "inventory_location_id": "1",
        "access_token": "newtoken",
    }
    data.update(overrides)
    return data


def test_token_required_when_none_is_saved():
    form = StoreConnectionForm(data=connection_data(access_token=""))
    assert not form.is_valid()
    assert "none saved" in form.errors["access_token"][0]


def test_blank_token_keeps_the_saved_one(store):
    form = StoreConnectionForm(
        data=connection_data(name=store.name, store_hash=store.store_hash, api_base_url=store.api_base_url,
                             access_token=""),
        instance=store,
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["access_token"] == ""


@pytest.mark.parametrize(
    "field,value",
    [("store_hash", "ABC 1"), ("api_base_url", "not a url"), ("timezone", "Nowhere/City"),
     ("inventory_location_id", "0"), ("name", "has space")],
)
def test_connection_field_errors(field, value):
    form = StoreConnectionForm(data=connection_data(**{field: value}))
    assert not form.is_valid()
    assert field in form.errors


def test_token_is_never_rendered_back(store):
    form = StoreConnectionForm(data=connection_data(access_token="typed-but-invalid", store_hash="BAD!"), instance=store)
    assert not form.is_valid()
    html = str(form)
    assert "typed-but-invalid" not in html
    assert store.access_token not in html


@pytest.mark.parametrize("value,ok", [("2026-03-08T02:30", True), ("2026-01-01 10:00", True), ("yesterday", False),
                                      ("2026-13-01T10:00", False)])
def test_last_auto_sync_completed_on(store, master, value, ok):
    form = bound(store, basic_data(master, last_auto_sync_completed_on=value))
    assert form.is_valid() is ok
    if not ok:
        assert "last_auto_sync_completed_on" in form.errors


@pytest.mark.parametrize("value", ["25:00", "noon", "18:60"])
def test_eod_time_must_be_a_time(store, master, value):
    form = bound(store, basic_data(master, eod_time=value))
    assert not form.is_valid()
    assert form.errors["eod_time"] == ["Enter a valid time."]


@pytest.mark.parametrize("value", ["18:00:30", "18:00:59.250000"])
def test_eod_time_is_kept_to_the_minute_the_crontab_fires(store, master, value):
    import datetime as dt

    form = bound(store, basic_data(master, eod_time=value))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["eod_time"] == dt.time(18, 0)


@pytest.mark.parametrize("value,message", [
    ("9999-12-31T23:59", "Choose a moment in the past"),
    ("2999-01-01T00:00", "Choose a moment in the past"),
    ("0001-01-01T00:00", "Choose a moment after 2000-01-01."),
    ("1999-12-31T23:59", "Choose a moment after 2000-01-01."),
])
def test_last_auto_sync_completed_on_is_a_past_moment_of_this_century(store, master, value, message):
    form = bound(store, basic_data(master, last_auto_sync_completed_on=value))
    assert not form.is_valid()
    assert message in form.errors["last_auto_sync_completed_on"][0]
