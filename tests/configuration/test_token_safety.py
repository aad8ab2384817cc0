"""The access token never leaves the server: not on error pages, not in logs."""
import logging

import pytest
import responses
from django.test import Client, override_settings
from django.urls import reverse

from plugin.configuration.crypto import RedactTokensFilter, TokenSafeExceptionReporterFilter

from .factories import TOKEN

pytestmark = pytest.mark.django_db

NEW_TOKEN = "freshly-typed-secret-4242"


def cart_post(store):
    return {"name": store.name, "store_hash": store.store_hash, "api_base_url": store.api_base_url,
            "timezone": store.timezone, "inventory_location_id": "1", "access_token": NEW_TOKEN}


@pytest.mark.parametrize("debug", [True, False])
def test_error_page_hides_the_token(store, admin_user_role, monkeypatch, debug):
    def explode(*, store, user, data):
        token = data["access_token"]  # noqa: F841  (a local the traceback would show)
        raise RuntimeError("boom while saving")

    monkeypatch.setattr("plugin.configuration.views.store_connection_update", explode)
    client = Client(raise_request_exception=False)
    client.force_login(admin_user_role)
    with override_settings(DEBUG=debug):
        response = client.post(reverse("configuration:cart", args=[store.pk]), cart_post(store))
    assert response.status_code == 500
    body = response.content.decode()
    if debug:
        assert "boom while saving" in body  # it is the technical page, with frames and POST data
    assert NEW_TOKEN not in body and TOKEN not in body


def test_error_report_text_hides_the_token_in_dicts_and_locals(rf):
    from django.views.debug import ExceptionReporter

    request = rf.post("/stores/1/cart/", {"access_token": NEW_TOKEN, "name": "shop"})

    def failing(data, bearer):
        raise ValueError("failed")

    try:
        failing({"access_token": NEW_TOKEN, "nested": {"token": NEW_TOKEN}}, TOKEN)
    except ValueError as exc:
        reporter = ExceptionReporter(request, type(exc), exc, exc.__traceback__)
        reporter.filter = TokenSafeExceptionReporterFilter()
        text = reporter.get_traceback_text()
    assert NEW_TOKEN not in text
    assert "failed" in text


def test_redact_filter_masks_token_shapes():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "headers %s", ({"X-Auth-Token": "abc123secret"},), None)
    record.args = ("X-Auth-Token: abc123secret",)
    RedactTokensFilter().filter(record)
    assert "abc123secret" not in record.getMessage()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "access_token=abc123secret", None, None)
    RedactTokensFilter().filter(record)
    assert "abc123secret" not in record.getMessage()


@responses.activate
def test_nothing_logs_the_token(store, admin_user_role, caplog):
    responses.get(f"{store.api_base_url}/stores/{store.store_hash}/v2/store", status=401,
                  json={"title": f"invalid token {TOKEN}"})
    client = Client()
    client.force_login(admin_user_role)
    with caplog.at_level(logging.DEBUG):
        client.post(reverse("configuration:connection-test", args=[store.pk]))
        client.post(reverse("configuration:cart", args=[store.pk]), cart_post(store))
        client.post(reverse("configuration:cart", args=[store.pk]), {**cart_post(store), "store_hash": "BAD X"})
    assert caplog.records
    for record in caplog.records:
        assert TOKEN not in record.getMessage() and NEW_TOKEN not in record.getMessage()
