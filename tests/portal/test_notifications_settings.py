"""Notification recipients on the Basic Configuration tab (validated, audited, in configuration files) and
the "Send test email" button: sent through Django's locmem backend, or the mail server's refusal told as a
sentence (a local server that refuses the sign-in, a port nothing listens on)."""
import html
import socket
import socketserver
import threading

import pytest
from django.core import mail
from django.urls import reverse

from plugin.audit.selectors import configuration_history
from plugin.configuration.forms import BasicConfigurationForm
from plugin.configuration.models import BasicConfiguration
from plugin.configuration.transfer import configuration_export, configuration_import
from tests.configuration import conftest as configuration_fixtures

pytestmark = pytest.mark.django_db

# The Basic Configuration tests' store and master data, and their POST data for a valid form.
master = configuration_fixtures.master
store = configuration_fixtures.store
basic_data = configuration_fixtures.basic_data

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.EMAIL_BACKEND = LOCMEM
    settings.ITBC_PORTAL_URL = "https://itbc.example.com"


def recipients_field_errors(store, master, value):
    form = BasicConfigurationForm(data=basic_data(master, notification_recipients=value),
                                  instance=store.basic_configuration)
    assert not form.is_valid()
    return form.errors["notification_recipients"]


def test_each_bad_address_is_its_own_field_error(store, master):
    errors = recipients_field_errors(store, master, "ops@example.com; bob@\nalice.example.com, x@@y.com")
    assert errors == [
        "\u201cbob@\u201d is not an email address.",
        "\u201calice.example.com\u201d is not an email address.",
        "\u201cx@@y.com\u201d is not an email address.",
    ]


def test_too_many_addresses_is_a_field_error(store, master):
    many = ", ".join(f"person{n}@example.com" for n in range(21))
    assert recipients_field_errors(store, master, many) == ["Give at most 20 addresses (21 given)."]


def test_addresses_are_saved_one_each_in_the_order_given(store, master):
    form = BasicConfigurationForm(
        data=basic_data(master, notification_recipients=" Ops@Example.com\r\nlead@example.com;ops@example.com,,"),
        instance=store.basic_configuration)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["notification_recipients"] == "Ops@Example.com, lead@example.com"


def test_an_admin_saves_recipients_on_the_page_and_the_change_is_in_the_history(
        client, admin_user_role, store, master):
    client.force_login(admin_user_role)
    url = reverse("configuration:basic", args=[store.pk])
    bad = client.post(url, basic_data(master, notification_recipients="ops@example.com, nobody"))
    assert bad.status_code == 200
    assert "\u201cnobody\u201d is not an email address." in html.unescape(bad.content.decode())
    assert BasicConfiguration.objects.get(store=store).notification_recipients == ""

    saved = client.post(url, basic_data(master, notification_recipients="ops@example.com\nlead@example.com"))
    assert saved.status_code == 302
    assert BasicConfiguration.objects.get(store=store).notification_recipient_list == ["ops@example.com",
                                                                                        "lead@example.com"]
    changes = [change for entry in configuration_history(store=store) for change in entry.changes
               if change.label == "Notification recipients"]
    assert [(change.before, change.after) for change in changes] == [("—", "ops@example.com, lead@example.com")]
    page = client.get(url).content.decode()
    assert "ops@example.com, lead@example.com</textarea>" in page
    assert 'form="notification-test-form"' in page and 'id="notification-test-form"' in page


def test_a_viewer_sees_the_recipients_but_no_test_button(client, viewer_user, store):
    BasicConfiguration.objects.filter(store=store).update(notification_recipients="ops@example.com")
    client.force_login(viewer_user)
    page = client.get(reverse("configuration:basic", args=[store.pk])).content.decode()
    assert "ops@example.com</textarea>" in page
    assert "Send test email" not in page
    response = client.post(reverse("configuration:notification-test", args=[store.pk]))
    assert response.status_code == 403 and mail.outbox == []


def test_recipients_travel_in_configuration_files(store, master, admin_user_role):
    configuration_import(store=store, user=admin_user_role, document={
        "format": "itbc-store-configuration", "version": 1,
        "basic_configuration": {"notification_recipients": "ops@example.com; lead@example.com"}})
    assert configuration_export(store=store)["basic_configuration"]["notification_recipients"] == \
        "ops@example.com, lead@example.com"


def press_test_button(client, user, store):
    client.force_login(user)
    response = client.post(reverse("configuration:notification-test", args=[store.pk]), follow=True)
    assert response.redirect_chain == [(reverse("configuration:basic", args=[store.pk]), 302)]
    return html.unescape(response.content.decode())


def test_the_test_button_sends_one_mail_to_the_saved_recipients(client, admin_user_role, store):
    BasicConfiguration.objects.filter(store=store).update(notification_recipients="ops@example.com, lead@example.com")
    page = press_test_button(client, admin_user_role, store)
    assert "Test email sent to ops@example.com, lead@example.com." in page
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ops@example.com", "lead@example.com"]
    assert message.subject == "[itbc] main-store: Test email"
    assert "sent by alice-admin" in message.body
    assert "https://itbc.example.com" + reverse("configuration:basic", args=[store.pk]) in message.body


def test_the_test_button_without_saved_recipients_says_what_to_do(client, admin_user_role, store):
    page = press_test_button(client, admin_user_role, store)
    assert "No notification recipients are saved for this store" in page
    assert mail.outbox == []


def test_the_console_backend_says_the_mail_went_to_the_log(client, admin_user_role, store, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    BasicConfiguration.objects.filter(store=store).update(notification_recipients="ops@example.com")
    page = press_test_button(client, admin_user_role, store)
    assert "written to the portal's log: no mail server is configured" in page


class _RefusingSignIn(socketserver.StreamRequestHandler):
    """An SMTP server that offers AUTH and refuses every user name and password."""

    def handle(self):
        self.wfile.write(b"220 mail.test ESMTP\r\n")
        for line in self.rfile:
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                self.wfile.write(b"250-mail.test\r\n250 AUTH PLAIN LOGIN\r\n")
            elif command.startswith(b"AUTH"):
                self.wfile.write(b"535 5.7.8 Authentication credentials invalid\r\n")
            elif command.startswith(b"QUIT"):
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def refusing_mail_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _RefusingSignIn)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def smtp_settings(settings, port, *, user="", password=""):
    settings.EMAIL_BACKEND = SMTP
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = user, password
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5


def test_a_refused_sign_in_is_told_as_a_sentence(client, admin_user_role, store, settings,
                                                 refusing_mail_server):
    smtp_settings(settings, refusing_mail_server, user="itbc", password="s3cret-pass")
    BasicConfiguration.objects.filter(store=store).update(notification_recipients="ops@example.com")
    page = press_test_button(client, admin_user_role, store)
    assert (f"The test email was not sent: The mail server at 127.0.0.1:{refusing_mail_server} refused the user "
            "name or password (EMAIL_HOST_USER, EMAIL_HOST_PASSWORD).") in page
    assert "s3cret-pass" not in page


def test_a_mail_server_nobody_runs_is_told_as_a_sentence(client, admin_user_role, store, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    smtp_settings(settings, port)
    BasicConfiguration.objects.filter(store=store).update(notification_recipients="ops@example.com")
    page = press_test_button(client, admin_user_role, store)
    assert (f"The test email was not sent: Nothing accepts connections at 127.0.0.1:{port}: check EMAIL_HOST "
            "and EMAIL_PORT.") in page
