"""Every redirect target that came with a request goes through one safe helper."""
import pytest
from django.test import RequestFactory

from plugin.portal.redirects import safe_redirect_target
from tests.configuration.factories import StoreConnectionFactory

FALLBACK = "/fallback/"


@pytest.mark.parametrize("target,expected", [
    ("/runs/1/", "/runs/1/"),
    ("/stores/?page=2", "/stores/?page=2"),
    ("abc", FALLBACK),  # a bare word would be reversed as a view name by redirect()
    ("configuration:store-list", FALLBACK),
    ("https://evil.example/", FALLBACK),
    ("//evil.example/", FALLBACK),
    ("/\\evil.example/", FALLBACK),
    ("http://testserver/runs/", FALLBACK),  # absolute URLs are not needed: paths only
    ("/runs/\r\nSet-Cookie: x=1", FALLBACK),
    ("/runs/\x00", FALLBACK),
    ("", FALLBACK),
    (None, FALLBACK),
])
def test_safe_redirect_target(target, expected):
    request = RequestFactory().get("/")
    assert safe_redirect_target(request, target, fallback=FALLBACK) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("next_value", ["abc", "https://evil.example/", "//evil.example", "/\\\\evil"])
def test_a_refused_job_with_a_bad_next_goes_to_the_synchronization_tab(client, operator_user, next_value):
    store = StoreConnectionFactory()  # no Basic Configuration saved: the job is refused
    client.force_login(operator_user)
    response = client.post(f"/runs/start/{store.pk}/import_products/", {"next": next_value})
    assert response.status_code == 302
    assert response["Location"] == f"/stores/{store.pk}/sync/"


@pytest.mark.django_db
def test_a_refused_job_returns_to_a_same_site_next(client, operator_user):
    store = StoreConnectionFactory()
    client.force_login(operator_user)
    response = client.post(f"/runs/start/{store.pk}/import_products/", {"next": f"/stores/{store.pk}/basic/"})
    assert response.status_code == 302 and response["Location"] == f"/stores/{store.pk}/basic/"


@pytest.mark.django_db
@pytest.mark.parametrize("next_value,expected", [
    ("abc", "/stores/"), ("https://evil.example/", "/stores/"), ("/runs/", "/runs/"),
])
def test_login_next_goes_through_the_helper(client, django_user_model, roles, next_value, expected):
    user = django_user_model.objects.create_user("nina", password="pw-nina-long-1")
    user.groups.add(roles["Viewer"])
    response = client.post("/accounts/login/", {"username": "nina", "password": "pw-nina-long-1", "next": next_value})
    assert response.status_code == 302 and response["Location"] == expected
