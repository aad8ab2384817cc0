"""The OpenAPI schema is valid, documents every endpoint, and its docs load no asset from outside."""

import io
import re

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from openapi_spec_validator import validate
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates():
    out = io.StringIO()
    # --fail-on-warn turns any schema warning (an untyped field, a guessed parameter) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    validate(schema)
    assert schema["openapi"].startswith("3.")


def test_schema_endpoint_serves_a_valid_document(operator_user):
    client = APIClient()
    client.force_authenticate(operator_user)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    paths = schema["paths"]
    assert {"get"} <= set(paths["/api/inventory/"])
    assert {"post"} <= set(paths["/api/inventory/adjustments/"])
    assert {"get"} <= set(paths["/api/picking-orders/"])
    assert {"post"} <= set(paths["/api/picks/"])
    order_params = {param["name"] for param in paths["/api/picking-orders/"]["get"]["parameters"]}
    assert {"status", "store_order_id"} <= order_params
    inventory_params = {param["name"] for param in paths["/api/inventory/"]["get"]["parameters"]}
    assert {"division", "site", "location", "item"} <= inventory_params
    assert "knoxApiToken" in schema["components"]["securitySchemes"]


def test_schema_and_docs_need_a_login():
    client = APIClient()
    assert client.get("/api/schema/").status_code in (401, 403)
    assert client.get("/api/docs/").status_code in (401, 403)


def test_swagger_ui_loads_its_assets_from_this_site(client, operator_user):
    client.force_login(operator_user)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    # The start-up script is a file of its own (no inline script, for the Content-Security-Policy).
    assert "<script>" not in html
    assert '<script src="/api/docs/?script="></script>' in html
    script = client.get("/api/docs/", {"script": ""})
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
    sources = [source for source in re.findall(r'(?:src|href)="([^"]+)"', html) if source != "/api/docs/?script="]
    assert any(source.endswith("swagger-ui-bundle.js") for source in sources), sources
    # No CDN: every asset is a path on this site, shipped in an installed package.
    for source in sources:
        assert source.startswith(settings.STATIC_URL) or source.startswith("/" + settings.STATIC_URL), source
        assert finders.find(source.split(settings.STATIC_URL, 1)[1]), source
