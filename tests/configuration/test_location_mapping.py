"""The store's inventory locations on the Basic Configuration tab: Refresh (every page of the store's list),
the mapping form's validation (field errors, never a 500), saving, and the configuration history."""
import pytest
import responses
from django.urls import reverse
from django.utils.html import escape

from plugin.audit.selectors import configuration_history
from plugin.configuration.locations import location_mapping_get, store_locations_refresh
from plugin.configuration.models import BasicConfiguration, StoreConnection, StoreInventoryLocation

pytestmark = pytest.mark.django_db


@pytest.fixture
def mapped_store(store, master):
    BasicConfiguration.objects.filter(store=store).update(
        default_division=master.division, default_site=master.site, default_location=master.location,
        default_uom=master.uom)
    store.refresh_from_db()
    store_locations_refresh(store=store, user=None, locations=[
        {"id": 1, "code": "WH1", "label": "Main"}, {"id": 2, "code": "WH2", "label": "Second"},
        {"id": 3, "code": "WH3", "label": "Third", "enabled": False}])
    return store


def mapping_post(client, store, rows: list[tuple], default=1):
    data = {"default_location_id": str(default), "locations-TOTAL_FORMS": str(len(rows)),
            "locations-INITIAL_FORMS": str(len(rows)), "locations-MIN_NUM_FORMS": "0",
            "locations-MAX_NUM_FORMS": "1000"}
    for index, (location_id, site, location) in enumerate(rows):
        data[f"locations-{index}-store_location_id"] = str(location_id)
        data[f"locations-{index}-site"] = "" if site is None else str(site)
        data[f"locations-{index}-location"] = "" if location is None else str(location)
    return client.post(reverse("configuration:location-mapping", args=[store.pk]), data)


def test_a_valid_mapping_is_saved_used_by_the_jobs_and_in_the_history(client, admin_user_role, mapped_store, master):
    client.force_login(admin_user_role)
    response = mapping_post(client, mapped_store, [(1, None, None), (2, master.sibling_site.pk, None), (3, None, None)])
    assert response.status_code == 302
    assert response["Location"].endswith("#store-locations")
    mapping = location_mapping_get(store=mapped_store)
    assert mapping.is_multi
    assert [(m.store_location_id, m.site_id, m.location_id) for m in mapping.locations] == [
        (1, master.site.pk, master.location.pk), (2, master.sibling_site.pk, None)]
    history = configuration_history(store=mapped_store)
    mapped = [entry for entry in history if entry.section == "Store location 2" and entry.action == "changed"]
    assert mapped and mapped[0].who == admin_user_role.get_username()
    assert [(change.label, change.before, change.after) for change in mapped[0].changes] == [
        ("IntelliTrack site", "—", master.sibling_site.code)]


def test_the_default_location_is_chosen_in_the_table_and_saved_on_the_connection(client, admin_user_role,
                                                                                 mapped_store, master):
    client.force_login(admin_user_role)
    response = mapping_post(client, mapped_store, [(1, master.sibling_site.pk, None), (2, None, None)], default=2)
    assert response.status_code == 302
    assert StoreConnection.objects.get(pk=mapped_store.pk).inventory_location_id == 2
    mapping = location_mapping_get(store=StoreConnection.objects.get(pk=mapped_store.pk))
    assert mapping.default.store_location_id == 2
    assert [m.store_location_id for m in mapping.others] == [1]
    reasons = {entry.reason for entry in configuration_history(store=mapped_store)
               if entry.section == "Shopping Cart Configuration"}
    assert "Location mapping saved" in reasons


@pytest.mark.parametrize("rows, default, field, message", [
    # the default's site (the Default Site) used again
    (lambda m: [(1, None, None), (2, m.site.pk, None)], 1, "site", "already shows the stock of the default"),
    # one site for two locations
    (lambda m: [(1, None, None), (2, m.sibling_site.pk, None), (3, m.sibling_site.pk, None)], 1, "site",
     "already mapped to location 2"),
    # a site of another division
    (lambda m: [(1, None, None), (2, m.other_site.pk, None)], 1, "site", "Choose a site of the store's division"),
    # a location of another site
    (lambda m: [(1, None, None), (2, m.sibling_site.pk, m.location.pk)], 1, "location",
     "Choose a location of the chosen site"),
    # an id the store does not have
    (lambda m: [(1, None, None), (99, m.sibling_site.pk, None)], 1, "store_location_id", "has no location 99"),
])
def test_bad_rows_are_field_errors_and_nothing_is_saved(client, admin_user_role, mapped_store, master, rows,
                                                        default, field, message):
    client.force_login(admin_user_role)
    response = mapping_post(client, mapped_store, rows(master), default=default)
    assert response.status_code == 200
    formset = response.context["location_formset"]
    errors = [str(error) for form in formset.forms for error in form.errors.get(field, [])]
    assert any(message in error for error in errors), errors
    assert escape(message) in response.content.decode()
    assert not StoreInventoryLocation.objects.filter(store=mapped_store, site__isnull=False).exists()


def test_an_unknown_default_and_the_whole_division_scope_are_refused(client, admin_user_role, mapped_store, master):
    client.force_login(admin_user_role)
    response = mapping_post(client, mapped_store, [(1, None, None), (2, master.sibling_site.pk, None)], default=77)
    assert response.status_code == 200
    assert "has no location 77" in response.content.decode()
    BasicConfiguration.objects.filter(store=mapped_store).update(quantity_scope="division")
    response = mapping_post(client, mapped_store, [(1, None, None), (2, master.sibling_site.pk, None)])
    assert response.status_code == 200
    assert "whole Division" in response.context["location_formset"].non_form_errors()[0]
    assert not location_mapping_get(store=mapped_store).is_multi


def test_garbage_posts_are_field_errors_not_500s(client, admin_user_role, mapped_store):
    client.force_login(admin_user_role)
    url = reverse("configuration:location-mapping", args=[mapped_store.pk])
    assert client.post(url, {}).status_code == 200
    assert client.post(url, {"default_location_id": "x\u00b2", "locations-TOTAL_FORMS": "1",
                             "locations-INITIAL_FORMS": "1", "locations-0-store_location_id": "abc",
                             "locations-0-site": "99999999999999999999999"}).status_code == 200


def test_only_admins_change_the_mapping(client, operator_user, viewer_user, mapped_store, master):
    for user in (operator_user, viewer_user):
        client.force_login(user)
        assert mapping_post(client, mapped_store, [(1, None, None), (2, master.sibling_site.pk, None)]).status_code == 403
        page = client.get(reverse("configuration:basic", args=[mapped_store.pk]))
        assert page.status_code == 200
        assert "<button type=\"submit\" class=\"btn btn-primary\">Save Location Mapping" not in page.content.decode()
        assert "id=\"location-mapping-table\"" in page.content.decode()
    assert not location_mapping_get(store=mapped_store).is_multi


@responses.activate
def test_refresh_reads_every_page_keeps_the_mapping_and_drops_what_the_store_removed(client, admin_user_role,
                                                                                     mapped_store, master):
    StoreInventoryLocation.objects.filter(store=mapped_store, store_location_id=2).update(site=master.sibling_site)
    base = f"{mapped_store.api_base_url}/stores/{mapped_store.store_hash}/v3/inventory/locations"

    def page(ids, number, pages):
        return {"data": [{"id": i, "code": f"WH{i}", "label": f"Depot {i}", "enabled": True} for i in ids],
                "meta": {"pagination": {"total": 4, "count": len(ids), "per_page": 250, "current_page": number,
                                        "total_pages": pages, "links": {}}}}

    responses.get(base, json=page([1, 2], 1, 2), match=[responses.matchers.query_param_matcher(
        {"page": "1", "limit": "250"})])
    responses.get(base, json=page([4, 5], 2, 2), match=[responses.matchers.query_param_matcher(
        {"page": "2", "limit": "250"})])
    client.force_login(admin_user_role)
    response = client.post(reverse("configuration:locations-refresh", args=[mapped_store.pk]), follow=True)
    assert response.status_code == 200
    assert "Read 4 location(s)" in response.content.decode()
    rows = {row.store_location_id: row for row in StoreInventoryLocation.objects.filter(store=mapped_store)}
    assert sorted(rows) == [1, 2, 4, 5]
    assert rows[2].site_id == master.sibling_site.pk and rows[2].label == "Depot 2"
    assert [entry.action for entry in configuration_history(store=mapped_store)
            if entry.section == "Store location 3"][0] == "deleted"


@responses.activate
def test_a_refresh_the_store_refuses_says_why(client, admin_user_role, mapped_store):
    base = f"{mapped_store.api_base_url}/stores/{mapped_store.store_hash}/v3/inventory/locations"
    responses.get(base, status=403, json={"status": 403, "title": "You don't have a required scope"})
    client.force_login(admin_user_role)
    response = client.post(reverse("configuration:locations-refresh", args=[mapped_store.pk]), follow=True)
    assert "could not be read" in response.content.decode()
    assert StoreInventoryLocation.objects.filter(store=mapped_store).count() == 3


@pytest.mark.parametrize("change, field, wording", [
    ({"quantity_scope": "division"}, "quantity_scope", "with the whole Division as the scope"),
    ({"default_site": "sibling_site", "default_location": "sibling_location"}, "default_site",
     "already shows the stock of store location WH2 (#2)"),
    ({"default_division": "other_division", "default_site": "other_site", "default_location": "",
      "default_uom": "other_uom"}, "default_division", "of another division"),
], ids=["division_scope", "default_site_mapped", "other_division"])
def test_basic_configuration_changes_that_break_the_mapping_are_field_errors(mapped_store, master, change, field,
                                                                             wording):
    from plugin.configuration.forms import BasicConfigurationForm
    from plugin.configuration.locations import location_mapping_update
    from tests.configuration.conftest import basic_data
    from tests.intellitrack.factories import LocationFactory

    location_mapping_update(store=mapped_store, user=None, default_location_id=1, rows=[
        {"store_location_id": 2, "site": master.sibling_site, "location": None}])
    values = {name: getattr(master, value) if name.startswith("default_") and value else value
              for name, value in change.items()}
    if "default_division" in change:
        values["default_location"] = LocationFactory(site=master.other_site, code="O-01")
    data = basic_data(master, **{name: getattr(value, "pk", value) for name, value in values.items()})
    config = BasicConfiguration.objects.get(store=mapped_store)
    form = BasicConfigurationForm(data=data, instance=config)
    assert not form.is_valid()
    assert any(wording in error for error in form.errors[field]), form.errors
    assert "WH2 (#2)" in " ".join(form.errors[field])
    # Unchanged, or with location 2's site cleared, the same values are accepted.
    assert BasicConfigurationForm(data=basic_data(master), instance=config).is_valid()
    location_mapping_update(store=mapped_store, user=None, default_location_id=1, rows=[
        {"store_location_id": 2, "site": None, "location": None}])
    assert BasicConfigurationForm(data=data, instance=config).is_valid(), form.errors
