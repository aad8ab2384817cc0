"""The portal's own 403, 404 and 500 pages with DEBUG off: in the portal's look, without URL patterns,
settings or tracebacks; JSON 404s under /api/; and static files served by the app itself with the
settings `make run` uses."""
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import path

from itbc_portal.urls import handler403, handler404, handler500  # noqa: F401  (this module is a URLconf too)
from itbc_portal.urls import urlpatterns as portal_urlpatterns
from plugin.portal import errors

SECRET_IN_A_LOCAL = "hunter2-the-token-in-a-local-variable"


def _raising_view(request):
    token = SECRET_IN_A_LOCAL  # noqa: F841  (a 500 page with DEBUG on would show it)
    raise RuntimeError("the database fell over at " + settings.SECRET_KEY)


# Used as ROOT_URLCONF by the 500 test: the portal's own routes and handlers plus a view that raises.
urlpatterns = [*portal_urlpatterns, path("test-only/raise/", _raising_view)]

STYLED = b"vendor/bootstrap/css/bootstrap.min.css"


def test_debug_is_off_in_the_tests():
    assert settings.DEBUG is False


@pytest.mark.django_db
def test_a_404_is_styled_and_lists_no_url_patterns(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content
    assert b"Page not found" in body
    assert b"There is no page at <code>/no-such-page/</code>" in body
    assert STYLED in body and b"itbc/itbc.css" in body
    for internal in (b"URLconf", b"healthz", b"admin/", b"hooks/bigcommerce", b"Traceback"):
        assert internal not in body


@pytest.mark.django_db
def test_a_404_raised_by_a_view_shows_its_reason(client, viewer_user):
    client.force_login(viewer_user)
    response = client.get("/stores/987654/basic/")
    assert response.status_code == 404
    assert b"No such store." in response.content
    assert b"Go to the start page" in response.content


@pytest.mark.django_db
def test_a_404_under_the_api_stays_json(client):
    response = client.get("/api/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_a_500_is_styled_and_shows_no_settings_or_traceback():
    client = Client(raise_request_exception=False)
    response = client.get("/test-only/raise/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body
    assert STYLED.decode() in body
    for internal in (settings.SECRET_KEY, SECRET_IN_A_LOCAL, "RuntimeError", "Traceback", "DATABASES",
                     "the database fell over"):
        assert internal not in body


def test_the_500_page_needs_neither_the_database_nor_the_request():
    # No `db` fixture: any query here would fail the test.
    response = errors.server_error(None)
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert STYLED in response.content


def test_a_500_page_that_cannot_render_falls_back_to_plain_html(monkeypatch):
    def broken(name):
        raise ValueError("Missing staticfiles manifest entry")

    monkeypatch.setattr(errors.loader, "get_template", broken)
    response = errors.server_error(None)
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content


@pytest.mark.django_db
def test_a_user_without_a_role_gets_a_styled_403_saying_whom_to_ask(client, django_user_model):
    django_user_model.objects.create_superuser(username="root-rita", password="x", email="")
    django_user_model.objects.create_superuser(username="gone-gary", password="x", email="", is_active=False)
    newcomer = django_user_model.objects.create_user(username="nina-new", password="x")
    client.force_login(newcomer)

    response = client.get("/stores/")

    assert response.status_code == 403
    body = response.content.decode()
    assert "Your account has no role yet" in body
    assert "signed in as <strong>nina-new</strong>" in body
    assert "Admin, Operator, Viewer" in body
    assert "Ask an administrator of this portal" in body
    # An account without a role is not told who the administrators are.
    assert "root-rita" not in body and "gone-gary" not in body
    assert "createsuperuser" not in body  # there is an administrator
    assert STYLED.decode() in body
    assert "Log out" in body  # the portal's navigation bar, as on every page
    assert "Go to the start page" not in body  # the start page would refuse them too


@pytest.mark.django_db
def test_a_403_without_any_administrator_says_how_to_make_one(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="nina-new", password="x"))
    body = client.get("/stores/").content.decode()
    assert "python manage.py createsuperuser" in body


@pytest.mark.django_db
def test_a_403_for_a_role_that_may_not_shows_the_reason(client, viewer_user):
    client.force_login(viewer_user)
    response = client.get("/stores/add/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "You may not do this" in body
    assert "Only an Admin may do this." in body
    assert "configuration." not in body and "storeconnection" not in body  # no permission codename
    assert "no role yet" not in body


@pytest.mark.django_db
def test_a_403_names_the_role_needed_in_words(client, viewer_user):
    from plugin.configuration.roles import role_needed_sentence

    assert role_needed_sentence("configuration.run_jobs") == "Only an Operator or an Admin may do this."
    assert role_needed_sentence("knox.add_authtoken") == "Only an Admin may do this."
    assert "Viewer" in role_needed_sentence("sync.view_syncrun")
    from django.urls import reverse

    from plugin.sync.models import SyncRun
    from tests.sync.factories import RunFactory

    run = RunFactory(status=SyncRun.Status.FAILED)
    client.force_login(viewer_user)
    response = client.post(reverse("sync:run-acknowledge", args=[run.pk]))
    assert response.status_code == 403
    body = response.content.decode()
    assert "Only an Operator or an Admin may do this." in body
    assert "run_jobs" not in body
    assert STYLED.decode() in body


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


@pytest.fixture
def make_run_web_server(tmp_path):
    """The web server as `make run` starts it (local settings, runserver, no DJANGO_DEBUG), on a free port
    with its own SQLite file."""
    env_file = Path(settings.BASE_DIR) / ".env"
    if env_file.exists() and "DJANGO_DEBUG" in env_file.read_text():
        pytest.skip(".env sets DJANGO_DEBUG: this test checks the default")
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_DEBUG"}
    env.update({"DJANGO_SETTINGS_MODULE": "itbc_portal.settings.local",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}", "REDIS_URL": ""})
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("the web server did not start")
            time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=20)


@pytest.mark.slow
def test_make_run_serves_static_files_with_debug_off(make_run_web_server):
    status, content_type, body = _get(f"{make_run_web_server}/static/itbc/itbc.css")
    assert (status, content_type.split(";")[0]) == (200, "text/css")
    assert b".itbc-" in body
    status, content_type, body = _get(f"{make_run_web_server}/static/vendor/bootstrap/css/bootstrap.min.css")
    assert (status, content_type.split(";")[0]) == (200, "text/css")
    assert b"Bootstrap" in body[:500]

    # DEBUG is off: the 404 is the portal's page, not Django's list of URL patterns.
    status, _, body = _get(f"{make_run_web_server}/no-such-page/")
    assert status == 404
    assert b"Page not found" in body and b"URLconf" not in body and b"healthz" not in body


@pytest.mark.django_db
def test_a_form_sent_without_its_csrf_token_gets_the_styled_403(viewer_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(viewer_user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "This form has expired" in body
    assert STYLED.decode() in body
    assert "CSRF cookie not set" not in body  # Django's reason, for the log, not the page
