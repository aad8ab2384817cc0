"""The connection's timezone is the store's until a person chooses one: the first successful Test
connection takes it from /v2/store, End of Day's crontab follows, and a difference is flagged."""
import importlib
import io
import json

import pytest
import responses
from django.apps import apps as django_apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import PeriodicTask, PeriodicTasks

from plugin.configuration.forms import BasicConfigurationForm, StoreConnectionForm
from plugin.configuration.models import StoreConnection
from plugin.configuration.schedules import eod_periodic_task_name
from plugin.configuration.services import (
    TIMEZONE_FROM_STORE_REASON,
    basic_configuration_update,
    store_connection_create,
    store_connection_test,
    store_connection_update,
)

from .conftest import basic_data
from .factories import TOKEN, BasicConfigurationFactory, StoreConnectionFactory
from .test_connection_test import answer_store, store_url

pytestmark = pytest.mark.django_db

API = "https://api.bigcommerce.test"


def new_store(**values) -> StoreConnection:
    """A store added as the Add store page adds one: through the form and the service."""
    data = {"name": "shop", "store_hash": "abc123", "api_base_url": API, "inventory_location_id": "1",
            "access_token": TOKEN, **values}
    form = StoreConnectionForm(data=data)
    assert form.is_valid(), form.errors
    return store_connection_create(user=None, data=form.cleaned_data)


def with_end_of_day(store, master, at="18:30", **overrides):
    configuration = store.basic_configuration
    data = basic_data(master, eod_time=at, **overrides)
    form = BasicConfigurationForm(data=data, instance=configuration)
    assert form.is_valid(), form.errors
    basic_configuration_update(store=store, user=None, data=form.cleaned_data)


def eod_crontab(store):
    return PeriodicTask.objects.get(name=eod_periodic_task_name(store.pk)).crontab


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_store_added_without_a_timezone_has_the_stores_until_tested():
    store = new_store()
    assert (store.timezone, store.timezone_chosen) == ("UTC", False)
    store = new_store(name="paris", timezone="Europe/Paris")
    assert (store.timezone, store.timezone_chosen) == ("Europe/Paris", True)


@responses.activate
def test_first_successful_test_takes_the_stores_timezone_and_moves_the_end_of_day_crontab(master, admin_user_role):
    store = new_store()
    with_end_of_day(store, master, at="18:30")
    assert str(eod_crontab(store).timezone) == "UTC"
    beat_change_before = PeriodicTasks.last_change()
    answer_store(responses, store, tz="America/Chicago")

    store = store_connection_test(store=StoreConnection.objects.get(pk=store.pk), user=admin_user_role)

    saved = StoreConnection.objects.get(pk=store.pk)
    assert (saved.timezone, saved.timezone_chosen, saved.remote_timezone) == ("America/Chicago", False,
                                                                              "America/Chicago")
    crontab = eod_crontab(store)
    assert (crontab.hour, crontab.minute, str(crontab.timezone)) == ("18", "30", "America/Chicago")
    # Beat only reloads its schedule when PeriodicTasks says something changed.
    assert PeriodicTasks.last_change() is not None and (
        beat_change_before is None or PeriodicTasks.last_change() > beat_change_before)
    entry = saved.history.order_by("-history_id").first()
    assert (entry.timezone, entry.history_change_reason, entry.history_user) == (
        "America/Chicago", TIMEZONE_FROM_STORE_REASON, admin_user_role)


@responses.activate
def test_a_chosen_timezone_is_kept_and_the_difference_is_flagged_on_every_tab(store, admin_user_role):
    store.timezone_chosen = True  # the factory's America/New_York, as chosen on the page
    store.save()
    answer_store(responses, store, tz="America/Chicago")
    client = client_for(admin_user_role)
    client.post(reverse("configuration:connection-test", args=[store.pk]))
    store.refresh_from_db()
    assert (store.timezone, store.timezone_chosen, store.remote_timezone) == (
        "America/New_York", True, "America/Chicago")
    for tab in ["cart", "basic", "sync"]:
        page = client.get(reverse(f"configuration:{tab}", args=[store.pk])).content.decode()
        assert 'id="timezone-warning"' in page, tab
        assert ("This connection&#x27;s timezone is America/New_York (chosen here), but the store&#x27;s is "
                "America/Chicago. End of Day runs at its time in America/New_York.") in page
    cart = client.get(reverse("configuration:cart", args=[store.pk])).content.decode()
    assert 'id="timezone-differs"' in cart


@responses.activate
def test_no_flag_when_the_timezones_agree(store, admin_user_role):
    answer_store(responses, store, tz="America/Chicago")
    client = client_for(admin_user_role)
    client.post(reverse("configuration:connection-test", args=[store.pk]))
    page = client.get(reverse("configuration:cart", args=[store.pk])).content.decode()
    assert 'id="timezone-warning"' not in page and 'id="timezone-differs"' not in page
    assert "Timezone set to the store&#x27;s: America/Chicago (was America/New_York)." in page


@responses.activate
def test_an_end_of_day_timezone_other_than_the_stores_is_flagged(store, master, admin_user_role):
    answer_store(responses, store, tz="America/Chicago")
    store_connection_test(store=store)
    with_end_of_day(StoreConnection.objects.get(pk=store.pk), master, eod_timezone="Asia/Tokyo")
    page = client_for(admin_user_role).get(reverse("configuration:basic", args=[store.pk])).content.decode()
    assert ("End of Day runs at its time in Asia/Tokyo (chosen on Basic Configuration), not in the store&#x27;s "
            "timezone America/Chicago.") in page


@responses.activate
def test_the_unchosen_timezone_follows_the_store_at_later_tests_and_a_failed_test_keeps_it(store, master):
    with_end_of_day(store, master)
    answer_store(responses, store, tz="America/Chicago")
    store_connection_test(store=store)
    responses.reset()
    responses.get(store_url(store, "/v2/store"), json={"title": "down"}, status=503)
    store = store_connection_test(store=StoreConnection.objects.get(pk=store.pk))
    assert not store.connection_ok
    assert StoreConnection.objects.get(pk=store.pk).timezone == "America/Chicago"
    assert str(eod_crontab(store).timezone) == "America/Chicago"
    responses.reset()
    answer_store(responses, store, tz="Europe/Berlin")  # the merchant moved the store
    store_connection_test(store=StoreConnection.objects.get(pk=store.pk))
    assert StoreConnection.objects.get(pk=store.pk).timezone == "Europe/Berlin"
    assert str(eod_crontab(store).timezone) == "Europe/Berlin"


@responses.activate
def test_a_timezone_this_installation_does_not_know_is_not_taken_and_is_flagged(store, admin_user_role):
    answer_store(responses, store, tz="Mars/Olympus_Mons")
    client = client_for(admin_user_role)
    client.post(reverse("configuration:connection-test", args=[store.pk]))
    store.refresh_from_db()
    assert store.timezone == "America/New_York" and store.remote_timezone == "Mars/Olympus_Mons"
    page = client.get(reverse("configuration:sync", args=[store.pk])).content.decode()
    assert "is not one this installation knows" in page


@responses.activate
def test_the_form_offers_the_stores_timezone_as_its_blank_choice_and_a_choice_sticks(store, admin_user_role):
    answer_store(responses, store, tz="America/Chicago")
    store_connection_test(store=store)
    client = client_for(admin_user_role)
    page = client.get(reverse("configuration:cart", args=[store.pk])).content.decode()
    assert '<option value="" selected>the store&#x27;s timezone (America/Chicago)</option>' in page

    post = {"name": store.name, "store_hash": store.store_hash, "api_base_url": store.api_base_url,
            "inventory_location_id": "1", "access_token": "", "timezone": "Europe/London"}
    response = client.post(reverse("configuration:cart", args=[store.pk]), post)
    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.timezone, store.timezone_chosen) == ("Europe/London", True)
    page = client.get(reverse("configuration:cart", args=[store.pk])).content.decode()
    assert '<option value="Europe/London" selected>Europe/London</option>' in page
    store_connection_test(store=store)  # a chosen timezone is not overridden
    assert StoreConnection.objects.get(pk=store.pk).timezone == "Europe/London"

    # Back to blank: the store's timezone as last read, at once.
    client.post(reverse("configuration:cart", args=[store.pk]), {**post, "timezone": ""})
    store.refresh_from_db()
    assert (store.timezone, store.timezone_chosen) == ("America/Chicago", False)


def test_a_new_stores_form_explains_the_blank_choice():
    form = StoreConnectionForm()
    assert form.fields["timezone"].choices[0] == ("", "the store's timezone (read by Test connection; UTC until then)")
    assert form.initial["timezone"] == ""


def test_changing_other_connection_details_leaves_the_timezone_choice_alone():
    store = new_store(timezone="Asia/Tokyo")
    data = {"name": store.name, "store_hash": store.store_hash, "api_base_url": API,
            "inventory_location_id": "4", "access_token": "", "timezone": "Asia/Tokyo"}
    form = StoreConnectionForm(data=data, instance=store)
    assert form.is_valid(), form.errors
    store = store_connection_update(store=store, user=None, data=form.cleaned_data)
    saved = StoreConnection.objects.get(pk=store.pk)
    assert (saved.timezone, saved.timezone_chosen, saved.inventory_location_id) == ("Asia/Tokyo", True, 4)


def test_the_configuration_file_carries_the_choice_not_the_stores_timezone(tmp_path):
    source = BasicConfigurationFactory(store=StoreConnectionFactory(name="source", timezone="America/Chicago",
                                                                    timezone_chosen=False)).store
    out = io.StringIO()
    call_command("itbc", "config", "export", "--store", source.name, stdout=out)
    document = json.loads(out.getvalue())
    assert document["connection"]["timezone"] == ""
    target = BasicConfigurationFactory(store=StoreConnectionFactory(
        name="target", store_hash=source.store_hash, timezone="Asia/Tokyo", timezone_chosen=True)).store
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    call_command("itbc", "config", "import", "--store", target.name, str(path), stdout=io.StringIO())
    target.refresh_from_db()
    assert target.timezone_chosen is False  # the store's, from the next Test connection on


def test_the_migration_keeps_chosen_timezones_and_frees_the_old_default():
    migration = importlib.import_module("plugin.configuration.migrations.0003_store_timezone_chosen")
    old_default = StoreConnectionFactory(name="old-default", timezone="UTC", timezone_chosen=True)
    chosen = StoreConnectionFactory(name="chosen", timezone="Europe/Paris", timezone_chosen=False)
    StoreConnection.objects.filter(pk=old_default.pk).update(timezone_chosen=False)
    migration.mark_chosen_timezones(django_apps, None)
    assert StoreConnection.objects.get(pk=old_default.pk).timezone_chosen is False
    assert StoreConnection.objects.get(pk=chosen.pk).timezone_chosen is True
