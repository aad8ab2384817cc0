"""`manage.py itbc store test --store NAME`: the page's Test connection from the command line, against
the sandbox store over HTTP: same service, same messages; exit 0 when connected, 1 otherwise."""
import io

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from plugin.configuration.models import StoreConnection
from tests.bigcommerce.sandbox_fixtures import SANDBOX_STORE_HASH, SANDBOX_TOKEN

from .factories import BasicConfigurationFactory, StoreConnectionFactory

pytestmark = pytest.mark.django_db


def itbc(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("itbc", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def sandbox_store(server, *, name="shop", token=SANDBOX_TOKEN, **values) -> StoreConnection:
    return BasicConfigurationFactory(store=StoreConnectionFactory(
        name=name, api_base_url=server.base_url, store_hash=SANDBOX_STORE_HASH, access_token=token,
        timezone="UTC", **values)).store


def test_success_prints_what_the_store_answered_and_records_it(make_sandbox):
    server = make_sandbox(products=2, orders=0)
    store = sandbox_store(server)
    code, out, err = itbc("store", "test", "--store", "shop")
    assert code == 0, err
    assert "Connected to Sandbox Store." in out
    assert "Timezone set to the store's: America/Chicago (was UTC)." in out
    assert "Update stock behavior: order_placed" in out
    store.refresh_from_db()
    assert (store.connection_ok, store.remote_timezone, store.timezone, store.remote_update_stock_behavior) == (
        True, "America/Chicago", "America/Chicago", "order_placed")
    assert err == ""


def test_the_command_and_the_button_say_the_same(make_sandbox, admin_user_role):
    server = make_sandbox(products=2, orders=0, update_stock_behavior="order_completed_or_shipped")
    page_store = sandbox_store(server, name="page")
    sandbox_store(server, name="cli")
    client = Client()
    client.force_login(admin_user_role)
    response = client.post(reverse("configuration:connection-test", args=[page_store.pk]))
    page_messages = [str(message) for message in get_messages(response.wsgi_request)]
    page = client.get(reverse("configuration:cart", args=[page_store.pk])).content.decode()

    code, out, err = itbc("store", "test", "--store", "cli")
    assert code == 0, err
    assert page_messages == ["Connected to Sandbox Store.",
                             "Timezone set to the store's: America/Chicago (was UTC). End of Day runs at its time there."]
    for message in page_messages:
        assert message in out
    # The stock-setting check: the page keeps it on every tab; the command prints it as a warning.
    warning = [line for line in out.splitlines() if line.startswith("Warning: ")]
    assert len(warning) == 1 and "when an order is completed or shipped" in warning[0]
    assert "End of Day and auto sync compute with what the store does" in warning[0]
    assert 'id="stock-behavior-warning"' in page


def test_failure_exits_1_with_the_pages_message(make_sandbox):
    server = make_sandbox(products=2, orders=0)
    store = sandbox_store(server, token="wrong-token")
    code, out, err = itbc("store", "test", "--store", "shop")
    assert code == 1
    assert err.startswith("Test connection failed: BigCommerce refused the access token.")
    assert "wrong-token" not in out + err
    store.refresh_from_db()
    assert not store.connection_ok and store.timezone == "UTC"


def test_an_unreachable_store_exits_1():
    BasicConfigurationFactory(store=StoreConnectionFactory(name="away", api_base_url="http://127.0.0.1:9"))
    code, out, err = itbc("store", "test", "--store", "away")
    assert code == 1
    assert "Could not reach http://127.0.0.1:9" in err


def test_an_unknown_store_is_one_line_and_exit_1():
    code, out, err = itbc("store", "test", "--store", "nowhere")
    assert code == 1
    assert err.strip() == "No store named 'nowhere'. `manage.py itbc store list` shows them."
    assert "Traceback" not in out + err and out == ""


def test_store_list_says_whose_timezone_it_is():
    StoreConnectionFactory(name="follows", timezone="America/Chicago", timezone_chosen=False)
    StoreConnectionFactory(name="chosen", timezone="Asia/Tokyo", timezone_chosen=True)
    code, out, err = itbc("store", "list")
    assert code == 0
    assert "America/Chicago (the store's)" in out
    assert "Asia/Tokyo" in out and "Asia/Tokyo (the store's)" not in out
