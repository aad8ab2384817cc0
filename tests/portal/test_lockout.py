"""Sign-in lockout by username and address together; the address from X-Forwarded-For only behind a
trusted proxy; an Admin lifts a lockout from the portal."""
import pytest
from django.conf import settings
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

PASSWORD = "right-password-9"
LOGIN = "/accounts/login/"


@pytest.fixture
def people(django_user_model, roles):
    users = {}
    for name in ("alice", "bob"):
        users[name] = django_user_model.objects.create_user(name, password=PASSWORD)
        users[name].groups.add(roles["Viewer"])
    return users


def sign_in(username, password, **meta):
    return Client(**meta).post(LOGIN, {"username": username, "password": password})


def fail_until_locked(username, **meta):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(username, "wrong", **meta)


def signed_in(response) -> bool:
    return response.status_code == 302


def test_one_user_locked_from_one_address_leaves_other_users_and_addresses_alone(people):
    fail_until_locked("alice", REMOTE_ADDR="203.0.113.5")
    assert sign_in("alice", PASSWORD, REMOTE_ADDR="203.0.113.5").status_code == 429
    # The combination is locked, nothing else: another user from the same address, and the same user
    # from another address, still sign in (the admin sign-in too).
    assert signed_in(sign_in("bob", PASSWORD, REMOTE_ADDR="203.0.113.5"))
    assert signed_in(sign_in("alice", PASSWORD, REMOTE_ADDR="203.0.113.6"))
    admin_login = Client(REMOTE_ADDR="203.0.113.5").post("/admin/login/", {"username": "bob", "password": PASSWORD})
    assert admin_login.status_code in (200, 302) and admin_login.status_code != 429


def test_failures_below_the_limit_do_not_lock(people):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in("alice", "wrong", REMOTE_ADDR="203.0.113.5")
    assert signed_in(sign_in("alice", PASSWORD, REMOTE_ADDR="203.0.113.5"))


@override_settings(ITBC_TRUSTED_PROXY_COUNT=0)
def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(people):
    # Behind an untrusted hop every client shares the connecting address: the header cannot move a
    # locked user to a fresh address.
    fail_until_locked("alice", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert sign_in("alice", PASSWORD, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429
    assert signed_in(sign_in("bob", PASSWORD, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1"))


@override_settings(ITBC_TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_the_client_address_comes_from_the_header(people):
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    fail_until_locked("alice", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert sign_in("alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy).status_code == 429
    # A client's own X-Forwarded-For value is to the left of what the proxy appends: it changes nothing.
    spoofed = sign_in("alice", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.7", **proxy)
    assert spoofed.status_code == 429
    # Another office behind the same proxy is another address.
    assert signed_in(sign_in("alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy))


@override_settings(ITBC_TRUSTED_PROXY_COUNT=2)
def test_a_request_that_skipped_a_trusted_proxy_uses_the_connecting_address():
    from django.test import RequestFactory

    from plugin.portal.client_address import client_address

    factory = RequestFactory()
    one_hop = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert client_address(one_hop) == "10.0.0.2"
    two_hops = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.7, 10.0.0.1")
    assert client_address(two_hops) == "198.51.100.7"
    garbage = factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-ip, x")
    assert client_address(garbage) == "10.0.0.2"


def test_an_admin_unlocks_a_user_from_the_portal(people, admin_user_role):
    fail_until_locked("alice", REMOTE_ADDR="203.0.113.5")
    admin = Client()
    admin.force_login(admin_user_role)
    page = admin.get("/security/lockouts/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "alice" in html and "203.0.113.5" in html and "Locked out" in html
    response = admin.post("/security/lockouts/", {"username": "alice"})
    assert response.status_code == 302 and response["Location"] == "/security/lockouts/"
    assert signed_in(sign_in("alice", PASSWORD, REMOTE_ADDR="203.0.113.5"))
    assert "Locked out" not in admin.get("/security/lockouts/").content.decode()


@pytest.mark.parametrize("role", ["operator_user", "viewer_user"])
def test_only_an_admin_sees_or_lifts_lockouts(people, request, role):
    fail_until_locked("alice", REMOTE_ADDR="203.0.113.5")
    client = Client()
    client.force_login(request.getfixturevalue(role))
    assert client.get("/security/lockouts/").status_code == 403
    assert client.post("/security/lockouts/", {"username": "alice"}).status_code == 403
    assert sign_in("alice", PASSWORD, REMOTE_ADDR="203.0.113.5").status_code == 429


def test_the_unlock_command_of_django_axes_also_works(people):
    from django.core.management import call_command

    fail_until_locked("alice", REMOTE_ADDR="203.0.113.5")
    call_command("axes_reset_username", "alice")
    assert signed_in(sign_in("alice", PASSWORD, REMOTE_ADDR="203.0.113.5"))


def test_the_admin_pages_are_in_the_menu_of_an_admin_only(client, admin_user_role, viewer_user):
    client.force_login(admin_user_role)
    html = client.get("/stores/").content.decode()
    assert 'href="/security/lockouts/"' in html and 'href="/api/tokens/"' in html
    client.force_login(viewer_user)
    html = client.get("/stores/").content.decode()
    assert 'href="/security/lockouts/"' not in html and 'href="/api/tokens/"' not in html
