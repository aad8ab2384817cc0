"""The job commands print what people read on the pages: job names by their label, never a Python
enum repr (`Job.EOD_EXPORT`, `SyncRun.Job.EOD_EXPORT`, `<Job...>`). Run for real against the sandbox."""
import re

import pytest

from plugin.configuration.forms import BasicConfigurationForm, StoreConnectionForm
from plugin.configuration.services import (
    basic_configuration_update,
    store_connection_create,
    store_connection_test,
)
from plugin.sync.models import SyncRun
from tests.bigcommerce.sandbox_fixtures import SANDBOX_STORE_HASH, SANDBOX_TOKEN

from .conftest import basic_data
from .test_cli_store_test import itbc

pytestmark = pytest.mark.django_db

REPR = re.compile(r"\b(Job|Status|Trigger)\.[A-Z_]+|<[A-Z]\w*[.:]")


def connected_store(server, master):
    form = StoreConnectionForm(data={"name": "shop", "store_hash": SANDBOX_STORE_HASH,
                                     "api_base_url": server.base_url, "inventory_location_id": "1",
                                     "access_token": SANDBOX_TOKEN})
    assert form.is_valid(), form.errors
    store = store_connection_create(user=None, data=form.cleaned_data)
    assert store_connection_test(store=store).connection_ok
    basic = BasicConfigurationForm(data=basic_data(master, auto_sync_enabled="", eod_enabled=""),
                                   instance=store.basic_configuration)
    assert basic.is_valid(), basic.errors
    basic_configuration_update(store=store, user=None, data=basic.cleaned_data)
    return store


def assert_no_repr(text):
    assert not REPR.search(text), text
    assert "Job." not in text and "<" not in text, text


def test_bootstrap_and_end_of_day_print_job_labels(make_sandbox, master):
    server = make_sandbox(products=4, orders=0)
    connected_store(server, master)

    code, out, err = itbc("bootstrap", "--store", "shop")
    assert code == 0, out + err
    assert_no_repr(out + err)
    assert f"{SyncRun.Job.BOOTSTRAP.label}, store shop" in out
    # Each step by name, with its run.
    steps = next(line for line in out.splitlines() if line.strip().startswith("steps:"))
    for job in (SyncRun.Job.IMPORT_PRODUCTS, SyncRun.Job.IMPORT_INVENTORY, SyncRun.Job.IMPORT_CARRIERS):
        assert re.search(re.escape(job.label) + r": run #\d+", steps), steps

    code, out, err = itbc("eod", "--store", "shop", "--dry-run")
    assert code == 0, out + err
    assert_no_repr(out + err)
    assert "End of Day stock snapshot (IntelliTrack -> BigCommerce), store shop" in out
    assert "Status: Succeeded (dry run)" in out
