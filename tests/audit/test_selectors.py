import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plugin.audit.selectors import configuration_history
from plugin.configuration.forms import BasicConfigurationForm
from plugin.configuration.services import basic_configuration_update, store_connection_update
from tests.configuration.conftest import basic_data
from tests.configuration.factories import TOKEN

pytestmark = pytest.mark.django_db


def save(store, user, data):
    form = BasicConfigurationForm(data=data, instance=store.basic_configuration)
    assert form.is_valid(), form.errors
    return basic_configuration_update(store=store, user=user, data=form.cleaned_data)


def changes(entry):
    return {change.label: (change.before, change.after) for change in entry.changes}


def test_history_shows_who_and_human_values(store, master, admin_user_role, operator_user):
    save(store, admin_user_role, basic_data(master, eod_time="18:30"))
    data = basic_data(master, eod_time="07:05", create_item_using="name", default_site=master.sibling_site.pk,
                      default_location=master.sibling_location.pk)
    data["order_statuses_to_import"] = ["9", "11"]
    save(store, operator_user, data)
    entries = configuration_history(store=store)
    newest = entries[0]
    assert newest.who == "oscar-operator" and newest.section == "Basic Configuration"
    assert newest.action == "changed"
    assert changes(newest) == {
        "End of day time": ("18:30", "07:05"),
        "Create item using": ("SKU", "Product name (variants: name plus option values)"),
        "Default site": ("WH1", "WH2"),
        "Default location": ("A-01", "B-01"),
        "Order statuses to import": ("Awaiting Fulfillment", "Awaiting Shipment, Awaiting Fulfillment"),
    }
    first_save = entries[1]
    assert first_save.who == "alice-admin"
    assert changes(first_save)["Default division"] == ("—", "MAIN")
    assert changes(first_save)["Auto sync"] == ("off", "on")
    assert [entry.when for entry in entries] == sorted((entry.when for entry in entries), reverse=True)


def test_connection_history_leaves_the_token_out(store, admin_user_role):
    data = {"name": store.name, "store_hash": "changedhash", "api_base_url": store.api_base_url,
            "timezone": "UTC", "inventory_location_id": 1}
    store_connection_update(store=store, user=admin_user_role, data={**data, "access_token": "brand-new-token"})
    entry = configuration_history(store=store)[0]
    assert entry.section == "Shopping Cart Configuration" and entry.reason == "Access token replaced"
    assert changes(entry)["Store hash"][1] == "changedhash"
    assert changes(entry)["Timezone"] == ("America/New_York", "UTC")
    text = repr(configuration_history(store=store))
    assert "brand-new-token" not in text and TOKEN not in text
    assert not hasattr(store.history.model, "access_token")


def test_history_reads_a_fixed_number_of_queries(store, master, admin_user_role):
    for minute in range(5):
        save(store, admin_user_role, basic_data(master, eod_time=f"18:0{minute}"))
    with CaptureQueriesContext(connection) as few:
        configuration_history(store=store)
    for minute in range(5):
        save(store, admin_user_role, basic_data(master, eod_time=f"19:0{minute}"))
    with CaptureQueriesContext(connection) as many:
        assert len(configuration_history(store=store)) == 12
    assert len(many) == len(few)


def test_logs_tab_is_paginated(store, master, admin_user_role, client):
    for minute in range(25):
        save(store, admin_user_role, basic_data(master, eod_time=f"18:{minute:02d}"))
    client.force_login(admin_user_role)
    first = client.get(f"/stores/{store.pk}/logs/").content.decode()
    assert "Page 1 of 2" in first and "18:23 &rarr; 18:24" in first and "18:00 &rarr; 18:01" not in first
    second = client.get(f"/stores/{store.pk}/logs/?page=2").content.decode()
    assert "18:00 &rarr; 18:01" in second
    assert client.get(f"/stores/{store.pk}/logs/?page=abc").status_code == 200
