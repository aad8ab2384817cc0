import re

import pytest
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from plugin.configuration.models import BasicConfiguration, StoreConnection

from .conftest import basic_data
from .factories import TOKEN, BasicConfigurationFactory

pytestmark = pytest.mark.django_db

TABS = ["basic", "cart", "sync", "logs"]


@pytest.fixture
def users(admin_user_role, operator_user, viewer_user):
    return {"admin": admin_user_role, "operator": operator_user, "viewer": viewer_user}


def client_for(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def assert_no_token(response):
    assert TOKEN.encode() not in response.content
    return response


def test_pages_need_login(client, store):
    for name in ["store-list", "store-add"]:
        assert client.get(reverse(f"configuration:{name}")).status_code == 302
    for tab in TABS + ["basic-options"]:
        response = client.get(reverse(f"configuration:{tab}", args=[store.pk]))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("role", ["admin", "operator", "viewer"])
def test_every_role_sees_every_page(users, store, master, role):
    client = client_for(users[role])
    assert_no_token(client.get(reverse("configuration:store-list")))
    for tab in TABS:
        response = assert_no_token(client.get(reverse(f"configuration:{tab}", args=[store.pk])))
        assert response.status_code == 200, tab
        assert store.name in response.content.decode()
    response = client.get(reverse("configuration:basic-options", args=[store.pk]),
                          {"division": master.division.pk})
    assert_no_token(response)
    assert response.status_code == 200


def test_a_user_without_role_is_refused(django_user_model, store):
    client = client_for(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get(reverse("configuration:basic", args=[store.pk])).status_code == 403


def test_unknown_store_is_404(users):
    client = client_for(users["admin"])
    for tab in TABS + ["basic-options"]:
        assert client.get(reverse(f"configuration:{tab}", args=[987654])).status_code == 404
    assert client.post(reverse("configuration:basic", args=[987654]), {}).status_code == 404
    assert client.post(reverse("configuration:connection-test", args=[987654])).status_code == 404


def test_store_list_shows_add_store_to_admins_only(users, store):
    assert b"Add store" in client_for(users["admin"]).get(reverse("configuration:store-list")).content
    for role in ["operator", "viewer"]:
        assert b"Add store" not in client_for(users[role]).get(reverse("configuration:store-list")).content
        assert client_for(users[role]).get(reverse("configuration:store-add")).status_code == 403


def test_admin_adds_a_store(users):
    client = client_for(users["admin"])
    response = client.post(reverse("configuration:store-add"), {
        "name": "new-shop", "store_hash": "xyz789", "api_base_url": "https://api.bigcommerce.com",
        "timezone": "Europe/Paris", "inventory_location_id": "1", "access_token": TOKEN})
    store = StoreConnection.objects.get(name="new-shop")
    assert response.status_code == 302 and response["Location"] == reverse("configuration:basic", args=[store.pk])
    assert store.access_token == TOKEN and BasicConfiguration.objects.filter(store=store).exists()
    assert_no_token(client.get(response["Location"]))


def test_add_store_errors_are_field_errors_without_token(users):
    client = client_for(users["admin"])
    response = assert_no_token(client.post(reverse("configuration:store-add"), {
        "name": "bad name", "store_hash": "UPPER", "api_base_url": "x", "timezone": "Nowhere",
        "inventory_location_id": "0", "access_token": TOKEN}))
    assert response.status_code == 200
    assert response.content.decode().count("invalid-feedback") >= 5
    assert not StoreConnection.objects.exists()


def test_admin_saves_basic_configuration(users, store, master):
    client = client_for(users["admin"])
    url = reverse("configuration:basic", args=[store.pk])
    response = client.post(url, basic_data(master, eod_time="18:30"))
    assert response.status_code == 302
    configuration = BasicConfiguration.objects.get(store=store)
    assert configuration.default_location == master.location and configuration.eod_time.strftime("%H:%M") == "18:30"
    assert PeriodicTask.objects.filter(name=f"itbc-eod-store-{store.pk}").exists()
    page = client.get(url).content.decode()
    assert "Basic Configuration saved." in page
    assert re.search(r"Next End of Day:\s*<strong data-next-eod>\w{3} \d{4}-\d\d-\d\d 18:30 E[DS]T</strong>", page)
    history = configuration.history.first()
    assert history.history_user == users["admin"]


def test_invalid_post_rerenders_with_field_errors_and_lists_of_the_chosen_division(users, store, master):
    client = client_for(users["admin"])
    response = client.post(reverse("configuration:basic", args=[store.pk]),
                           basic_data(master, default_division=master.other_division.pk, eod_time=""))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter the End of Day time." in html
    assert "Choose a site of the chosen division." in html
    # The site list now offers the other division's site, not the saved division's.
    site_select = re.search(r'<select name="default_site".*?</select>', html, re.S).group(0)
    assert master.other_site.code in site_select and master.site.code not in site_select
    assert BasicConfiguration.objects.get(store=store).default_division is None


@pytest.mark.parametrize("field,value", [("default_location", "sibling_location"), ("default_division", None),
                                         ("default_uom", "other_uom"), ("default_site", "other_site")])
def test_tampered_posts_are_refused(users, store, master, field, value):
    client = client_for(users["admin"])
    bad = getattr(master, value).pk if value else 424242
    response = client.post(reverse("configuration:basic", args=[store.pk]), basic_data(master, **{field: bad}))
    assert response.status_code == 200
    assert field in re.findall(r'id="error_\d+_id_(\w+)"', response.content.decode())
    assert BasicConfiguration.objects.get(store=store).default_division is None


def test_a_store_id_in_the_url_only_changes_that_store(users, store, master):
    other = BasicConfigurationFactory().store
    client = client_for(users["admin"])
    client.post(reverse("configuration:basic", args=[other.pk]), basic_data(master, store=store.pk))
    assert BasicConfiguration.objects.get(store=other).default_division == master.division
    assert BasicConfiguration.objects.get(store=store).default_division is None


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_only_admins_change_configuration(users, store, master, role):
    client = client_for(users[role])
    basic = client.get(reverse("configuration:basic", args=[store.pk])).content.decode()
    assert "Save Configuration" not in basic
    assert 'name="default_division" disabled' in basic or re.search(r'<select name="default_division"[^>]*disabled', basic)
    cart = client.get(reverse("configuration:cart", args=[store.pk])).content.decode()
    assert "Save Configuration" not in cart
    assert client.post(reverse("configuration:basic", args=[store.pk]), basic_data(master)).status_code == 403
    cart_data = {"name": store.name, "store_hash": "changed", "api_base_url": store.api_base_url,
                 "timezone": "UTC", "inventory_location_id": "1", "access_token": "stolen"}
    assert client.post(reverse("configuration:cart", args=[store.pk]), cart_data).status_code == 403
    store.refresh_from_db()
    assert store.store_hash != "changed" and store.access_token == TOKEN
    assert BasicConfiguration.objects.get(store=store).default_division is None


def test_viewer_cannot_test_the_connection(users, store):
    client = client_for(users["viewer"])
    assert client.post(reverse("configuration:connection-test", args=[store.pk])).status_code == 403
    assert b"Test connection</button>" in client.get(reverse("configuration:cart", args=[store.pk])).content
    assert re.search(rb'<button type="submit" class="btn btn-outline-primary" disabled>Test connection',
                     client.get(reverse("configuration:cart", args=[store.pk])).content)


def test_get_only_endpoints_refuse_posts(users, store):
    client = client_for(users["admin"])
    for name in ["sync", "logs", "basic-options"]:
        assert client.post(reverse(f"configuration:{name}", args=[store.pk])).status_code == 405
    assert client.get(reverse("configuration:connection-test", args=[store.pk])).status_code == 405


def test_csrf_is_enforced(users, store, master):
    client = client_for(users["admin"], enforce_csrf_checks=True)
    response = client.post(reverse("configuration:basic", args=[store.pk]), basic_data(master))
    assert response.status_code == 403
    assert client.post(reverse("configuration:cart", args=[store.pk]), {}).status_code == 403
    assert client.post(reverse("configuration:store-add"), {}).status_code == 403
    assert client.post(reverse("configuration:connection-test", args=[store.pk])).status_code == 403
    assert BasicConfiguration.objects.get(store=store).default_division is None
    # With the token from the page the same post goes through.
    page = client.get(reverse("configuration:basic", args=[store.pk])).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(reverse("configuration:basic", args=[store.pk]),
                           {**basic_data(master), "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_cart_configuration_token_is_write_only(users, store):
    client = client_for(users["admin"])
    url = reverse("configuration:cart", args=[store.pk])
    page = assert_no_token(client.get(url)).content.decode()
    assert "Leave blank to keep the saved token" in page and "replace it." in page
    assert re.search(r'<input type="password" name="access_token"[^>]*>', page)
    data = {"name": store.name, "store_hash": store.store_hash, "api_base_url": store.api_base_url,
            "timezone": "UTC", "inventory_location_id": "2", "access_token": ""}
    assert client.post(url, data).status_code == 302
    store.refresh_from_db()
    assert (store.inventory_location_id, store.access_token) == (2, TOKEN)
    # A rejected form does not echo a newly typed token either.
    response = assert_no_token(client.post(url, {**data, "store_hash": "BAD HASH", "access_token": "fresh-secret-1"}))
    assert b"fresh-secret-1" not in response.content and response.status_code == 200
    assert client.post(url, {**data, "access_token": "fresh-secret-2"}).status_code == 302
    store.refresh_from_db()
    assert store.access_token == "fresh-secret-2"
    for tab in TABS:
        body = client.get(reverse(f"configuration:{tab}", args=[store.pk])).content
        assert b"fresh-secret-2" not in body


def test_options_endpoint(users, store, master):
    client = client_for(users["viewer"])
    url = reverse("configuration:basic-options", args=[store.pk])
    data = client.get(url, {"division": master.division.pk, "site": master.site.pk}).json()
    assert {row["id"] for row in data["sites"]} == {master.site.pk, master.sibling_site.pk}
    assert [row["id"] for row in data["uoms"]] == [master.uom.pk]
    assert [row["id"] for row in data["locations"]] == [master.location.pk]
    assert {row["id"] for row in data["divisions"]} == {master.division.pk, master.other_division.pk}
    # A site of another division yields no locations.
    data = client.get(url, {"division": master.division.pk, "site": master.other_site.pk}).json()
    assert data["locations"] == []
    assert client.get(url).json()["sites"] == []
    response = client.get(url, {"division": "1; drop"})
    assert response.status_code == 400 and "division" in response.json()["error"]


def test_logs_tab_shows_history_newest_first(users, store, master):
    client = client_for(users["admin"])
    url = reverse("configuration:basic", args=[store.pk])
    client.post(url, basic_data(master, eod_time="18:30"))
    client.post(url, basic_data(master, eod_time="20:15", default_site=master.sibling_site.pk,
                                default_location=master.sibling_location.pk))
    html = assert_no_token(client.get(reverse("configuration:logs", args=[store.pk]))).content.decode()
    assert "alice-admin" in html
    assert "18:30 &rarr; 20:15" in html
    assert "WH1 &rarr; WH2" in html and "A-01 &rarr; B-01" in html
    assert html.index("20:15") < html.index("— &rarr; 18:30")


def test_out_of_range_ids_are_refused_not_500(users, store, master):
    client = client_for(users["admin"])
    huge = "9" * 25
    response = client.get(reverse("configuration:basic-options", args=[store.pk]), {"division": huge, "site": huge})
    assert response.status_code == 400 and response.json()["error"] == "'division' is larger than any id."
    response = client.post(reverse("configuration:basic", args=[store.pk]),
                           basic_data(master, default_division=huge, default_location=huge))
    assert response.status_code == 200
    assert "That division does not exist" in response.content.decode()
    assert client.get(f"/stores/{huge}/basic/").status_code == 404


def test_a_new_store_hash_needs_a_new_connection_test_before_jobs(users, store, master):
    from plugin.sync.services import job_prerequisite_missing

    BasicConfiguration.objects.filter(store=store).update(
        default_division=master.division, default_site=master.site, default_location=master.location,
        default_uom=master.uom)
    StoreConnection.objects.filter(pk=store.pk).update(connection_ok=True, connection_message="Connected.",
                                                       remote_store_name="Old shop")
    url = reverse("configuration:cart", args=[store.pk])
    data = {"name": store.name, "store_hash": "anotherstore", "api_base_url": store.api_base_url,
            "timezone": store.timezone, "inventory_location_id": "1", "access_token": "token-of-anotherstore"}
    assert client_for(users["admin"]).post(url, data).status_code == 302
    store = StoreConnection.objects.select_related("basic_configuration").get(pk=store.pk)
    assert "Test the store connection first" in job_prerequisite_missing(store=store, job="import_products")
    page = client_for(users["admin"]).get(url).content.decode()
    assert "Connection details changed: test the connection again." in page and "Old shop" not in page


def test_store_hash_of_a_store_with_linked_items_cannot_change(users, store):
    from tests.sync.factories import LinkFactory

    LinkFactory(store=store)
    url = reverse("configuration:cart", args=[store.pk])
    data = {"name": store.name, "store_hash": "anotherstore", "api_base_url": store.api_base_url,
            "timezone": "UTC", "inventory_location_id": "1", "access_token": ""}
    response = client_for(users["admin"]).post(url, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["store_hash"] and f"belong to store {store.store_hash}" in errors["store_hash"][0]
    assert StoreConnection.objects.get(pk=store.pk).store_hash == store.store_hash
    # The rest of the connection may still change.
    assert client_for(users["admin"]).post(url, {**data, "store_hash": store.store_hash}).status_code == 302
    assert StoreConnection.objects.get(pk=store.pk).timezone == "UTC"


@pytest.mark.parametrize("time_zone,moment", [("America/New_York", "9999-12-31T23:59"), ("Asia/Tokyo", "0001-01-01T00:00")])
def test_a_moment_beyond_the_datetime_range_in_utc_is_a_field_error(users, store, master, settings, time_zone, moment):
    # Stored, either would be read back from PostgreSQL outside year 1-9999 and break every page of the store.
    settings.TIME_ZONE = time_zone
    client = client_for(users["admin"], raise_request_exception=False)
    url = reverse("configuration:basic", args=[store.pk])
    response = client.post(url, basic_data(master, last_auto_sync_completed_on=moment))
    assert response.status_code == 200 and "last_auto_sync_completed_on" in response.context["form"].errors
    for tab in TABS:
        assert client.get(reverse(f"configuration:{tab}", args=[store.pk])).status_code == 200, tab


@pytest.mark.parametrize("params,error", [
    ({"division": "abc", "site": "99999999999999999999"}, "'division' must be a number."),
    ({"division": "\u00b2"}, "'division' must be a number."),
    ({"division": "1", "site": "\u00b2"}, "'site' must be a number."),
    ({"division": "-1"}, "'division' must be a number."),
    ({"division": "1", "site": "9" * 5000}, "'site' is larger than any id."),
    ({"division": "0" * 5000 + "1", "site": "9223372036854775808"}, "'site' is larger than any id."),
])
def test_options_endpoint_names_the_bad_parameter(users, store, params, error):
    response = client_for(users["viewer"]).get(reverse("configuration:basic-options", args=[store.pk]), params)
    assert response.status_code == 400 and response.json() == {"error": error}


def test_options_endpoint_takes_the_largest_id(users, store):
    response = client_for(users["viewer"]).get(reverse("configuration:basic-options", args=[store.pk]),
                                               {"division": "9223372036854775807", "site": "9223372036854775807"})
    assert response.status_code == 200 and response.json()["sites"] == [] and response.json()["locations"] == []


@pytest.mark.parametrize("token", ["t\u20acken", "t\u00f6ken", "tok\x07"])
def test_a_token_that_cannot_travel_in_a_header_is_a_field_error(users, store, token):
    url = reverse("configuration:cart", args=[store.pk])
    data = {"name": store.name, "store_hash": store.store_hash, "api_base_url": store.api_base_url,
            "timezone": store.timezone, "inventory_location_id": "1", "access_token": token}
    response = client_for(users["admin"], raise_request_exception=False).post(url, data)
    assert response.status_code == 200
    assert "access_token" in response.context["form"].errors
    assert StoreConnection.objects.get(pk=store.pk).access_token == TOKEN
