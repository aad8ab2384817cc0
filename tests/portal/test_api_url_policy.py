"""Where the saved access token may go: BigCommerce's API over https, or an allow-listed origin; a new
target needs the token typed again."""
import pytest
from django.test import override_settings

from plugin.configuration.forms import TOKEN_AGAIN_MESSAGE, StoreConnectionForm
from plugin.configuration.urlpolicy import api_base_url_problem
from tests.configuration.factories import StoreConnectionFactory

PRODUCTION_LIKE = override_settings(ITBC_API_URL_ALLOWLIST=[])


@PRODUCTION_LIKE
@pytest.mark.parametrize("url", ["https://api.bigcommerce.com", "https://api.bigcommerce.com/",
                                 "https://API.BigCommerce.com", "https://api.bigcommerce.com:443"])
def test_bigcommerce_api_over_https_is_allowed(url):
    assert api_base_url_problem(url) == ""


@PRODUCTION_LIKE
@pytest.mark.parametrize("url,reason", [
    ("http://api.bigcommerce.com", "https"),
    ("https://evil.example", "BigCommerce's API"),
    ("https://api.bigcommerce.com.evil.example", "BigCommerce's API"),
    ("https://api.bigcommerce.com:8443", "BigCommerce's API"),
    ("http://127.0.0.1:8765", "https"),
    ("https://169.254.169.254/latest", "BigCommerce's API"),
    ("https://user:pw@api.bigcommerce.com", "no user name"),
    ("https://api.bigcommerce.com/?x=1", "no query"),
    ("ftp://api.bigcommerce.com", "http(s)"),
    ("https://api.bigcommerce.com:99999", "valid URL"),
])
def test_other_targets_are_refused_in_production(url, reason):
    assert reason in api_base_url_problem(url)


@override_settings(ITBC_API_URL_ALLOWLIST=["http://127.0.0.1", "https://sandbox.example.test:8443"])
def test_the_allow_list_names_origins():
    assert api_base_url_problem("http://127.0.0.1:8765") == ""
    assert api_base_url_problem("http://127.0.0.1") == ""
    assert api_base_url_problem("https://sandbox.example.test:8443/x") == ""
    assert api_base_url_problem("https://sandbox.example.test:9443") != ""
    assert api_base_url_problem("https://127.0.0.1:8765") != ""  # the scheme is part of the origin
    assert api_base_url_problem("http://127.0.0.2:8765") != ""


def _data(store, **overrides):
    data = {"name": store.name, "store_hash": store.store_hash, "api_base_url": store.api_base_url,
            "timezone": store.timezone, "inventory_location_id": "1", "access_token": ""}
    data.update(overrides)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("change", [
    {"api_base_url": "http://127.0.0.1:9999"}, {"store_hash": "otherstore"},
])
def test_a_new_target_needs_the_token_again(change):
    store = StoreConnectionFactory(api_base_url="http://127.0.0.1:8765")
    form = StoreConnectionForm(data=_data(store, **change), instance=store)
    assert not form.is_valid()
    assert form.errors["access_token"] == [TOKEN_AGAIN_MESSAGE]
    form = StoreConnectionForm(data=_data(store, access_token="typed-again", **change), instance=store)
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_other_changes_keep_the_saved_token():
    store = StoreConnectionFactory(api_base_url="http://127.0.0.1:8765")
    form = StoreConnectionForm(data=_data(store, api_base_url="http://127.0.0.1:8765/", name="renamed"),
                               instance=store)
    assert form.is_valid(), form.errors


@pytest.mark.django_db
@PRODUCTION_LIKE
def test_the_cart_page_refuses_an_attacker_url_and_sends_nothing(client, admin_user_role, operator_user):
    import responses

    store = StoreConnectionFactory(api_base_url="https://api.bigcommerce.com")
    client.force_login(admin_user_role)
    with responses.RequestsMock() as mocked:
        response = client.post(f"/stores/{store.pk}/cart/",
                               _data(store, api_base_url="http://attacker.example", access_token=""))
        assert response.status_code == 200
        assert response.context["form"].errors["api_base_url"] == ["The API base URL must use https."]
        assert len(mocked.calls) == 0
    store.refresh_from_db()
    assert store.api_base_url == "https://api.bigcommerce.com"


@pytest.mark.django_db
@PRODUCTION_LIKE
def test_a_saved_url_the_rule_refuses_never_gets_the_token(client, operator_user):
    import responses

    from plugin.bigcommerce.client import client_for_store
    from plugin.bigcommerce.errors import PermanentError

    # Saved around the forms (or before the rule): the client refuses before any request.
    store = StoreConnectionFactory(api_base_url="http://attacker.example", connection_ok=True)
    with pytest.raises(PermanentError, match="not sent to 'http://attacker.example'"):
        client_for_store(store)
    client.force_login(operator_user)
    with responses.RequestsMock() as mocked:  # any request would fail the test: none is registered
        response = client.post(f"/stores/{store.pk}/cart/test/")
        assert len(mocked.calls) == 0
    assert response.status_code == 302
    store.refresh_from_db()
    assert store.connection_ok is False and "must use https" in store.connection_message
