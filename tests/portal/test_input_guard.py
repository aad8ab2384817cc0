"""NUL characters and bytes that are not UTF-8 are refused with 400 on every route, the admin included."""
import json

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.test", "pw-root")
    client.force_login(user)
    return client


def _changelists():
    return sorted(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    )


@pytest.mark.parametrize("query", ["q=%00", "q=a%00b", "o=%00", "p=%00", "q=%FF", "q=%C3%28", "%00=1"])
def test_every_admin_changelist_refuses_bad_input(superuser_client, query):
    urls = _changelists()
    assert len(urls) >= 20
    answers = {url: superuser_client.get(f"{url}?{query}").status_code for url in urls}
    assert set(answers.values()) == {400}, answers


def test_admin_changelists_still_answer_good_input(superuser_client):
    for url in _changelists():
        assert superuser_client.get(f"{url}?q=caf%C3%A9").status_code == 200, url


@pytest.mark.parametrize("body", [
    "username=ro%00ot&password=x", "username=%FF%FE&password=x", "username=root&password=a%00",
])
def test_form_posts_with_bad_bytes_are_refused_before_any_view(client, body):
    for url in ("/accounts/login/", "/admin/login/"):
        response = client.post(url, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 400, url
        assert b"NUL character or text that is not UTF-8" in response.content


def test_multipart_field_with_a_nul_is_refused(client):
    response = client.post("/accounts/login/", {"username": "ro\x00ot", "password": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize("raw", [
    b'{"reason": "a\\u0000b"}', b'{"reason": "a\x00b"}', b'{"reason": "\xff"}',
])
def test_api_json_with_a_nul_or_bad_bytes_is_a_json_400(client, raw):
    response = client.generic("POST", "/api/inventory/adjustments/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request: the request holds a NUL character or text that is not UTF-8."}


def test_a_nul_in_the_path_is_refused(client):
    assert client.get("/stores/%00/").status_code == 400


def test_ordinary_requests_pass(client):
    assert client.get("/accounts/login/?next=/stores/%C3%A9/").status_code == 200
    response = client.generic("POST", "/api/inventory/adjustments/", json.dumps({"reason": "ok"}),
                              content_type="application/json")
    assert response.status_code == 401  # reached the API, which wants a token
