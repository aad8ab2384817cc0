"""Each role against each page and action: Viewer reads, Operator runs jobs, Admin configures."""
import pytest
import responses
from django.test import Client
from django.urls import reverse

from .conftest import basic_data

pytestmark = pytest.mark.django_db

READ = ["store-list", "basic", "cart", "sync", "logs", "basic-options"]
# action -> roles allowed
ACTIONS = {
    "store-add": {"admin"},
    "save-basic": {"admin"},
    "save-cart": {"admin"},
    "connection-test": {"admin", "operator"},
}


def request_for(action, store, master):
    if action == "store-add":
        return reverse("configuration:store-add"), {
            "name": "added", "store_hash": "h1", "api_base_url": "https://api.bigcommerce.test", "timezone": "UTC",
            "inventory_location_id": "1", "access_token": "t0ken"}
    if action == "save-basic":
        return reverse("configuration:basic", args=[store.pk]), basic_data(master)
    if action == "save-cart":
        return reverse("configuration:cart", args=[store.pk]), {
            "name": store.name, "store_hash": "h2", "api_base_url": store.api_base_url, "timezone": "UTC",
            "inventory_location_id": "1", "access_token": "token-of-h2"}
    return reverse("configuration:connection-test", args=[store.pk]), {}


@pytest.fixture
def users(admin_user_role, operator_user, viewer_user):
    return {"admin": admin_user_role, "operator": operator_user, "viewer": viewer_user}


@pytest.mark.parametrize("role", ["admin", "operator", "viewer"])
def test_every_role_reads_every_page(users, store, role):
    client = Client()
    client.force_login(users[role])
    for name in READ:
        url = reverse(f"configuration:{name}") if name == "store-list" else reverse(f"configuration:{name}",
                                                                                     args=[store.pk])
        assert client.get(url).status_code == 200, name


@pytest.mark.parametrize("role", ["admin", "operator", "viewer"])
@pytest.mark.parametrize("action", sorted(ACTIONS))
@responses.activate
def test_actions_per_role(users, store, master, role, action):
    responses.get(f"{store.api_base_url}/stores/{store.store_hash}/v2/store", json={"name": "x", "timezone": {}})
    responses.get(f"{store.api_base_url}/stores/{store.store_hash}/v3/settings/inventory",
                  json={"data": {"update_stock_behavior": "order_placed"}})
    client = Client()
    client.force_login(users[role])
    url, data = request_for(action, store, master)
    response = client.post(url, data)
    if role in ACTIONS[action]:
        assert response.status_code == 302, response.content[:500]
    else:
        assert response.status_code == 403
        assert len(responses.calls) == 0
    store.refresh_from_db()
    assert (store.store_hash == "h2") is (action == "save-cart" and role == "admin")
    assert (store.basic_configuration.default_division_id is not None) is (action == "save-basic" and role == "admin")
