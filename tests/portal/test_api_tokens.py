"""API tokens: stored as a hash, shown once, listed by prefix; Admins create and revoke them on a page."""
import re

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

INVENTORY = "/api/inventory/"


def _admin_client(user):
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_creates_a_token_that_is_shown_once_and_stored_hashed(admin_user_role, viewer_user):
    client = _admin_client(admin_user_role)
    response = client.post("/api/tokens/", {"user": viewer_user.pk})
    assert response.status_code == 201
    token = re.search(r'<code class="fs-6 user-select-all" id="new-token">([^<]+)</code>', response.content.decode())[1]
    row = AuthToken.objects.get(user=viewer_user)
    # The database holds a digest and the first characters only.
    assert token not in (row.digest, row.token_key) and token.startswith(row.token_key)
    assert len(token) > len(row.token_key) + 32
    # Shown once: the list shows the prefix, never the token again.
    listing = client.get("/api/tokens/").content.decode()
    assert token not in listing and row.token_key in listing and viewer_user.username in listing
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(INVENTORY).status_code == 200
    # A token made of the listed prefix alone is not valid.
    api.credentials(HTTP_AUTHORIZATION=f"Token {row.token_key}")
    assert api.get(INVENTORY).status_code == 401


def test_a_revoked_token_no_longer_reads_the_api(admin_user_role, viewer_user):
    row, token = AuthToken.objects.create(user=viewer_user, expiry=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(INVENTORY).status_code == 200
    client = _admin_client(admin_user_role)
    response = client.post("/api/tokens/revoke/", {"token_key": row.token_key, "user": viewer_user.pk})
    assert response.status_code == 302 and response["Location"] == "/api/tokens/"
    assert not AuthToken.objects.filter(user=viewer_user).exists()
    assert api.get(INVENTORY).status_code == 401


@pytest.mark.parametrize("role", ["operator_user", "viewer_user"])
def test_only_an_admin_manages_tokens(request, role, viewer_user):
    row, _ = AuthToken.objects.create(user=viewer_user, expiry=None)
    client = _admin_client(request.getfixturevalue(role))
    assert client.get("/api/tokens/").status_code == 403
    assert client.post("/api/tokens/", {"user": viewer_user.pk}).status_code == 403
    assert client.post("/api/tokens/revoke/", {"token_key": row.token_key, "user": viewer_user.pk}).status_code == 403
    assert AuthToken.objects.filter(user=viewer_user).count() == 1


def test_bad_revoke_input_is_refused_without_a_500(admin_user_role):
    client = _admin_client(admin_user_role)
    for data in ({"token_key": "'; drop", "user": "1"}, {"token_key": "abc", "user": "99999999999999999999"}, {}):
        response = client.post("/api/tokens/revoke/", data)
        assert response.status_code == 302


def test_the_command_creates_lists_and_revokes(viewer_user):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("itbc", "api-token", "create", "--user", viewer_user.username, stdout=out)
    token = out.getvalue().strip()
    listing = io.StringIO()
    call_command("itbc", "api-token", "list", stdout=listing)
    prefix = listing.getvalue().split()[0]
    assert token.startswith(prefix) and token not in listing.getvalue()
    call_command("itbc", "api-token", "revoke", prefix, stdout=io.StringIO())
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/docs/?script="])
def test_users_without_a_role_get_403_on_the_schema_and_docs(django_user_model, path):
    nobody = django_user_model.objects.create_user("nobody", password="pw-nobody-1")
    client = Client()
    client.force_login(nobody)
    assert client.get(path).status_code == 403
    _, token = AuthToken.objects.create(user=nobody, expiry=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(path).status_code == 403
    assert APIClient().get(path).status_code == 401


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_every_role_reads_the_schema_and_docs(client, viewer_user, path):
    client.force_login(viewer_user)
    assert client.get(path).status_code == 200
