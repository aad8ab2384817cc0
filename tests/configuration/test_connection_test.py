"""Test connection: what the store answered is recorded and shown, failures are clear messages,
and the token never reaches a page. First against recorded answers, then against the sandbox store."""
import re
import socket

import pytest
import responses
from django.test import Client
from django.urls import reverse

from plugin.configuration.services import store_connection_test

from .factories import TOKEN

pytestmark = pytest.mark.django_db

API = "https://api.bigcommerce.test"


def store_url(store, path):
    return f"{API}/stores/{store.store_hash}{path}"


def admin_client(user):
    client = Client()
    client.force_login(user)
    return client


def answer_store(rsps, store, *, behavior="order_placed", name="Demo Shop", tz="America/Chicago"):
    rsps.get(store_url(store, "/v2/store"), json={"id": store.store_hash, "name": name,
                                                   "timezone": {"name": tz, "raw_offset": -21600}})
    rsps.get(store_url(store, "/v3/settings/inventory"), json={"data": {"update_stock_behavior": behavior},
                                                                "meta": {}})


@responses.activate
def test_success_is_recorded_and_shown(store, admin_user_role):
    answer_store(responses, store, behavior="order_placed")
    client = admin_client(admin_user_role)
    response = client.post(reverse("configuration:connection-test", args=[store.pk]))
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.connection_ok and store.connection_tested_at
    assert (store.remote_store_name, store.remote_timezone, store.remote_update_stock_behavior) == (
        "Demo Shop", "America/Chicago", "order_placed")
    assert responses.calls[0].request.headers["X-Auth-Token"] == TOKEN
    page = client.get(response["Location"]).content.decode()
    assert TOKEN not in page
    assert "Connected to Demo Shop." in page
    assert re.search(r'id="remote-update-stock-behavior">order_placed<', page)
    assert 'id="stock-behavior-warning"' not in page  # the flag is on by default: they agree


@responses.activate
def test_mismatch_with_stock_decreased_when_order_placed_warns(store, admin_user_role):
    answer_store(responses, store, behavior="order_completed_or_shipped")
    client = admin_client(admin_user_role)
    client.post(reverse("configuration:connection-test", args=[store.pk]))
    for tab in ["cart", "basic", "sync"]:
        page = client.get(reverse(f"configuration:{tab}", args=[store.pk])).content.decode()
        assert 'id="stock-behavior-warning"' in page
        assert "when an order is completed or shipped" in page
    configuration = store.basic_configuration
    configuration.stock_decreased_when_order_placed = False
    configuration.save()
    page = client.get(reverse("configuration:cart", args=[store.pk])).content.decode()
    assert 'id="stock-behavior-warning"' not in page


@pytest.mark.parametrize("status,expected", [
    (401, "refused the access token"),
    (403, "refused the access token"),
    (404, "no store with this store hash"),
    (500, "temporarily unavailable"),
])
@responses.activate
def test_http_failures_are_clear_messages(store, admin_user_role, status, expected):
    responses.get(store_url(store, "/v2/store"), json={"title": f"token {TOKEN} rejected", "status": status},
                  status=status)
    client = admin_client(admin_user_role)
    response = client.post(reverse("configuration:connection-test", args=[store.pk]), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert expected in page and "Test connection failed" in page
    assert TOKEN not in page
    store.refresh_from_db()
    assert not store.connection_ok and TOKEN not in store.connection_message
    assert store.history.count() == 1  # a test result is not a configuration change


def test_unreachable_host(store, admin_user_role):
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store.api_base_url = f"http://127.0.0.1:{port}"
    store.save()
    response = admin_client(admin_user_role).post(reverse("configuration:connection-test", args=[store.pk]),
                                                  follow=True)
    assert response.status_code == 200
    assert f"Could not reach http://127.0.0.1:{port}" in response.content.decode()
    assert TOKEN not in response.content.decode()


@responses.activate
def test_a_later_failure_clears_the_previous_answers(store):
    answer_store(responses, store)
    assert store_connection_test(store=store).connection_ok
    responses.replace(responses.GET, store_url(store, "/v2/store"), status=401, json={"title": "no"})
    store = store_connection_test(store=store)
    assert not store.connection_ok and store.remote_update_stock_behavior == ""


def test_operator_may_test_the_connection(store, operator_user):
    with responses.RequestsMock() as rsps:
        answer_store(rsps, store)
        response = admin_client(operator_user).post(reverse("configuration:connection-test", args=[store.pk]))
    assert response.status_code == 302


# -------------------------------------------------------------------------- against the sandbox store


def _point_at(store, sandbox, *, token=None, store_hash=None):
    store.api_base_url = sandbox.base_url
    store.store_hash = store_hash or sandbox.store_hash
    store.access_token = token or sandbox.token
    store.save()
    return store


@pytest.mark.parametrize("behavior,warns", [("order_placed", False), ("order_completed_or_shipped", True)])
def test_sandbox_store_settings(store, admin_user_role, make_sandbox, behavior, warns):
    sandbox = make_sandbox(plan="unlimited", products=5, orders=0, update_stock_behavior=behavior)
    _point_at(store, sandbox)
    client = admin_client(admin_user_role)
    client.post(reverse("configuration:connection-test", args=[store.pk]))
    store.refresh_from_db()
    assert store.connection_ok, store.connection_message
    assert store.remote_update_stock_behavior == behavior
    assert store.remote_store_name
    page = client.get(reverse("configuration:cart", args=[store.pk])).content.decode()
    assert ('id="stock-behavior-warning"' in page) is warns
    assert sandbox.token not in page


def test_sandbox_bad_token_and_wrong_hash(store, admin_user_role, make_sandbox):
    sandbox = make_sandbox(plan="unlimited", products=5, orders=0)
    client = admin_client(admin_user_role)
    _point_at(store, sandbox, token="wrong-token-123")
    page = client.post(reverse("configuration:connection-test", args=[store.pk]), follow=True).content.decode()
    assert "refused the access token" in page and "wrong-token-123" not in page
    _point_at(store, sandbox, store_hash="nosuchstore")
    page = client.post(reverse("configuration:connection-test", args=[store.pk]), follow=True).content.decode()
    assert "Test connection failed" in page and sandbox.token not in page
