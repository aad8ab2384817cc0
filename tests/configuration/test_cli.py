import io
import json

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from plugin.configuration.models import BasicConfiguration, StoreConnection
from plugin.configuration.transfer import FILE_FORMAT

from .conftest import basic_data
from .factories import TOKEN

pytestmark = pytest.mark.django_db


def itbc(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("itbc", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_store_add_reads_the_token_from_the_environment(monkeypatch):
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", TOKEN)
    monkeypatch.setattr("sys.stdin", io.StringIO("not-this-one\n"))
    code, out, err = itbc("store", "add", "--name", "shop", "--store-hash", "abc123", "--timezone", "Europe/Paris",
                          "--api-url", "http://127.0.0.1:9/", "--location-id", "3")
    assert code == 0, err
    store = StoreConnection.objects.get(name="shop")
    assert (store.access_token, store.timezone, store.api_base_url, store.inventory_location_id) == (
        TOKEN, "Europe/Paris", "http://127.0.0.1:9/", 3)
    assert BasicConfiguration.objects.filter(store=store).exists()
    assert TOKEN not in out + err


def test_store_add_reads_the_token_from_stdin(monkeypatch):
    monkeypatch.delenv("BIGCOMMERCE_ACCESS_TOKEN", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(TOKEN + "\n"))
    code, out, err = itbc("store", "add", "--name", "shop", "--store-hash", "abc123")
    assert code == 0, err
    store = StoreConnection.objects.get(name="shop")
    assert store.access_token == TOKEN and store.api_base_url == "https://api.bigcommerce.com"


def test_store_add_has_no_token_argument():
    code, out, err = itbc("store", "add", "--help")
    assert "--token" not in out and "--access-token" not in out


def test_store_add_validates_like_the_page(monkeypatch):
    monkeypatch.delenv("BIGCOMMERCE_ACCESS_TOKEN", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    code, out, err = itbc("store", "add", "--name", "bad name", "--store-hash", "UPPER", "--timezone", "Nowhere")
    assert code == 2
    for field in ["name:", "store_hash:", "timezone:", "access_token:"]:
        assert field in err
    assert not StoreConnection.objects.exists()


def test_store_list(store):
    code, out, err = itbc("store", "list")
    assert code == 0
    assert store.name in out and store.store_hash in out and "saved" in out
    assert TOKEN not in out


def configured(store, master, user=None):
    from plugin.configuration.forms import BasicConfigurationForm
    from plugin.configuration.services import basic_configuration_update

    form = BasicConfigurationForm(data=basic_data(master, eod_time="18:30", eod_timezone="Europe/Berlin",
                                                   sync_interval_minutes="20"),
                                  instance=store.basic_configuration)
    assert form.is_valid(), form.errors
    return basic_configuration_update(store=store, user=user, data=form.cleaned_data)


def test_export_names_master_data_by_code_and_leaves_out_the_token(store, master, tmp_path):
    configured(store, master)
    target = tmp_path / "config.json"
    code, out, err = itbc("config", "export", "--store", store.name, "--output", str(target))
    assert code == 0, err
    text = target.read_text()
    assert TOKEN not in text and "access_token" not in text
    document = json.loads(text)
    assert (document["format"], document["version"]) == (FILE_FORMAT, 1)
    basic = document["basic_configuration"]
    assert (basic["default_division"], basic["default_site"], basic["default_location"], basic["default_uom"]) == (
        "MAIN", "WH1", "A-01", "EA")
    assert basic["eod_time"] == "18:30" and basic["order_statuses_to_import"] == [11]
    code, out, err = itbc("config", "export", "--store", store.name)
    assert json.loads(out) == document


def test_round_trip_into_another_store_with_other_ids(store, master, tmp_path):
    from .factories import BasicConfigurationFactory

    configured(store, master)
    target = tmp_path / "config.json"
    itbc("config", "export", "--store", store.name, "--output", str(target))
    # A second connection to the same store (same store hash and API URL): the saved token may stay.
    other = BasicConfigurationFactory(store__name="other-store", store__store_hash=store.store_hash).store
    code, out, err = itbc("config", "import", "--store", other.name, str(target))
    assert code == 0, err
    source, copy = BasicConfiguration.objects.get(store=store), BasicConfiguration.objects.get(store=other)
    for name in ["default_division", "default_site", "default_location", "default_uom", "eod_time", "eod_timezone",
                 "sync_interval_minutes", "order_statuses_to_import", "auto_sync_enabled", "eod_enabled"]:
        assert getattr(copy, name) == getattr(source, name), name
    assert StoreConnection.objects.get(pk=other.pk).access_token == TOKEN
    # The import goes through the service, so the schedules follow.
    assert PeriodicTask.objects.get(name=f"itbc-eod-store-{other.pk}").crontab.hour == "18"
    code, out, err = itbc("config", "export", "--store", other.name)
    exported = json.loads(out)
    original = json.loads(target.read_text())
    assert exported["basic_configuration"] == original["basic_configuration"]


def test_import_that_changes_the_store_hash_is_refused_until_the_token_is_entered_again(store, master, tmp_path):
    from .factories import BasicConfigurationFactory

    configured(store, master)
    target = tmp_path / "config.json"
    itbc("config", "export", "--store", store.name, "--output", str(target))
    other = BasicConfigurationFactory(store__name="other-store").store
    code, out, err = itbc("config", "import", "--store", other.name, str(target))
    assert code == 2
    assert "access_token: Enter the access token again" in err
    saved = StoreConnection.objects.get(pk=other.pk)
    assert saved.store_hash == other.store_hash != store.store_hash


def test_invalid_file_is_refused_listing_each_error_and_changing_nothing(store, master, tmp_path):
    configured(store, master)
    before = BasicConfiguration.objects.get(store=store)
    history_count = before.history.count()
    code, out, _ = itbc("config", "export", "--store", store.name)
    document = json.loads(out)
    document["basic_configuration"].update(
        {"default_location": "NOPE", "sync_interval_minutes": 0, "eod_time": None,
         "order_statuses_to_import": [11, 99], "surprise": 1})
    document["connection"]["timezone"] = "Mars/Base"
    target = tmp_path / "bad.json"
    target.write_text(json.dumps(document))
    code, out, err = itbc("config", "import", "--store", store.name, str(target))
    assert code == 2
    assert "nothing was changed" in err
    assert "basic_configuration.surprise: unknown key" in err
    assert "basic_configuration.default_location: no location with code 'NOPE'" in err
    for expected in ["basic_configuration.sync_interval_minutes:", "basic_configuration.eod_time:",
                     "basic_configuration.order_statuses_to_import:", "connection.timezone:"]:
        assert expected in err
    assert "needed together" not in err
    after = BasicConfiguration.objects.get(store=store)
    assert after.history.count() == history_count
    assert (after.sync_interval_minutes, after.eod_time) == (before.sync_interval_minutes, before.eod_time)
    assert StoreConnection.objects.get(pk=store.pk).timezone == store.timezone


def test_location_of_another_site_is_refused(store, master, tmp_path):
    configured(store, master)
    code, out, _ = itbc("config", "export", "--store", store.name)
    document = json.loads(out)
    document["basic_configuration"]["default_location"] = "B-01"  # exists, but in WH2
    target = tmp_path / "bad.json"
    target.write_text(json.dumps(document))
    code, out, err = itbc("config", "import", "--store", store.name, str(target))
    assert code == 2 and "no location with code 'B-01' in the site" in err


@pytest.mark.parametrize("content,expected", [
    ("{not json", "is not JSON"),
    ('{"format": "other", "version": 7}', "format: must be"),
    ("[1, 2]", "must hold a JSON object"),
])
def test_malformed_files(store, tmp_path, content, expected):
    target = tmp_path / "bad.json"
    target.write_text(content)
    code, out, err = itbc("config", "import", "--store", store.name, str(target))
    assert code == 2 and expected in err


def test_unknown_store_and_missing_file(store, tmp_path):
    assert itbc("config", "export", "--store", "nope")[0] == 2
    code, out, err = itbc("config", "import", "--store", store.name, str(tmp_path / "missing.json"))
    assert code == 2 and "Cannot read" in err


def test_demo_store_is_created_once_and_follows_the_sandbox(monkeypatch, master):
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", "sandbox-token-1")
    code, out, err = itbc("demo-store", "--api-url", "http://127.0.0.1:8765", "--store-hash", "demo1234")
    assert code == 0, err
    store = StoreConnection.objects.get(name="demo")
    assert (store.api_base_url, store.store_hash, store.access_token) == (
        "http://127.0.0.1:8765", "demo1234", "sandbox-token-1")
    configuration = BasicConfiguration.objects.get(store=store)
    assert configuration.default_division == master.division
    assert configuration.default_location.site == configuration.default_site
    assert configuration.default_uom.division == master.division
    assert not configuration.auto_sync_enabled
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", "sandbox-token-2")
    code, out, err = itbc("demo-store", "--api-url", "http://127.0.0.1:9999", "--store-hash", "demo1234")
    assert code == 0, err
    assert StoreConnection.objects.count() == 1
    store.refresh_from_db()
    assert (store.api_base_url, store.access_token) == ("http://127.0.0.1:9999", "sandbox-token-2")
    assert "sandbox-token" not in out + err


def test_demo_store_rerun_without_changes_changes_nothing(monkeypatch, master):
    monkeypatch.setenv("BIGCOMMERCE_ACCESS_TOKEN", "sandbox-token-1")
    itbc("demo-store", "--api-url", "http://127.0.0.1:8765", "--store-hash", "demo1234")
    history = StoreConnection.objects.get(name="demo").history.count()
    code, out, err = itbc("demo-store", "--api-url", "http://127.0.0.1:8765", "--store-hash", "demo1234")
    assert code == 0 and "up to date" in out
    assert StoreConnection.objects.get(name="demo").history.count() == history


def test_import_from_standard_input(store, master, monkeypatch):
    configured(store, master)
    code, out, _ = itbc("config", "export", "--store", store.name)
    document = json.loads(out)
    document["basic_configuration"]["sync_interval_minutes"] = 45
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(document)))
    code, out, err = itbc("config", "import", "--store", store.name, "-")
    assert code == 0, err
    assert "standard input" in out
    assert BasicConfiguration.objects.get(store=store).sync_interval_minutes == 45


def test_import_cannot_move_a_store_with_linked_items_to_another_store_hash(store, master, tmp_path):
    from tests.sync.factories import LinkFactory

    configured(store, master)
    LinkFactory(store=store)
    code, out, _ = itbc("config", "export", "--store", store.name)
    document = json.loads(out)
    document["connection"]["store_hash"] = "anotherstore"
    target = tmp_path / "moved.json"
    target.write_text(json.dumps(document))
    code, out, err = itbc("config", "import", "--store", store.name, str(target))
    assert code == 2 and "connection.store_hash:" in err and f"belong to store {store.store_hash}" in err
    assert StoreConnection.objects.get(pk=store.pk).store_hash == store.store_hash


def test_import_keeps_the_eod_time_to_the_minute(store, master, tmp_path):
    import datetime as dt

    configured(store, master)
    code, out, _ = itbc("config", "export", "--store", store.name)
    document = json.loads(out)
    document["basic_configuration"]["eod_time"] = "18:00:30"
    target = tmp_path / "seconds.json"
    target.write_text(json.dumps(document))
    code, out, err = itbc("config", "import", "--store", store.name, str(target))
    assert code == 0, err
    assert BasicConfiguration.objects.get(store=store).eod_time == dt.time(18, 0)
    assert PeriodicTask.objects.get(name=f"itbc-eod-store-{store.pk}").crontab.minute == "0"


@pytest.mark.parametrize("section,key,value,expected", [
    ("basic_configuration", "eod_time", 5, 'must be a time "HH:MM" or null, not 5'),
    ("basic_configuration", "sync_enabled", "off", 'must be true or false, not "off"'),
    ("basic_configuration", "allow_writes_to_bigcommerce", "no", 'must be true or false, not "no"'),
    ("basic_configuration", "sync_enabled", None, "must not be null"),
    ("basic_configuration", "eod_timezone", None, "must not be null"),
    ("basic_configuration", "sync_interval_minutes", "20", 'must be a whole number, not "20"'),
    ("basic_configuration", "sync_interval_minutes", True, "must be a whole number, not true"),
    ("basic_configuration", "order_statuses_to_import", [11, "2"], 'must be a list of whole numbers, not [11, "2"]'),
    ("basic_configuration", "default_division", {"code": "MAIN"}, "must be a code (a string) or null"),
    ("basic_configuration", "default_site", "WH\u00002", "must not contain NUL characters"),
    ("connection", "store_hash", 5, "must be a string, not 5"),
    ("connection", "inventory_location_id", 10**30, "Ensure this value is less than or equal to 2147483647."),
    ("connection", "inventory_location_id", "2", 'must be a whole number, not "2"'),
    ("connection", "timezone", None, "must not be null"),
])
def test_values_of_the_wrong_type_are_refused_by_name(store, master, tmp_path, section, key, value, expected):
    configured(store, master)
    before = BasicConfiguration.objects.get(store=store)
    history_count = before.history.count()
    code, out, _ = itbc("config", "export", "--store", store.name)
    document = json.loads(out)
    document[section][key] = value
    target = tmp_path / "typed.json"
    target.write_text(json.dumps(document))
    code, out, err = itbc("config", "import", "--store", store.name, str(target))
    assert code == 2 and "nothing was changed" in err
    assert f"{section}.{key}: {expected}" in err, err
    after = BasicConfiguration.objects.get(store=store)
    assert after.history.count() == history_count
    assert (after.sync_enabled, after.allow_writes_to_bigcommerce, after.eod_time) == (True, False, before.eod_time)
    assert StoreConnection.objects.get(pk=store.pk).store_hash == store.store_hash


@pytest.mark.parametrize("content,expected", [
    (b'{"format": "itbc-store-configuration", "version": 1, "store": "caf\xe9"}',
     "is not UTF-8 text: byte 0xe9 at position 66"),
    (b"[" * 100000, "nests too deeply"),
    (b'{"version": ' + b"7" * 5000 + b"}", "a number with too many digits"),
    (b'{"format": "itbc-store-configuration", "version": true}', "version: must be 1 (got true)"),
    (b'{"format": "itbc-store-configuration", "version": 1, "store": 5}', "store: must be a string"),
    (b'{"format": "itbc-store-configuration", "version": 1, "connection": [1]}', "connection: must be an object"),
])
def test_unreadable_files_are_refused_without_a_traceback(store, tmp_path, content, expected):
    target = tmp_path / "bad.json"
    target.write_bytes(content)
    code, out, err = itbc("config", "import", "--store", store.name, str(target))
    assert code == 2 and expected in err, err


def test_a_byte_order_mark_is_allowed(store, master, tmp_path):
    configured(store, master)
    code, out, _ = itbc("config", "export", "--store", store.name)
    target = tmp_path / "bom.json"
    target.write_bytes(b"\xef\xbb\xbf" + out.replace('"sync_interval_minutes": 20', '"sync_interval_minutes": 30').encode())
    code, out, err = itbc("config", "import", "--store", store.name, str(target))
    assert code == 0, err
    assert BasicConfiguration.objects.get(store=store).sync_interval_minutes == 30


def test_non_utf8_standard_input_is_refused(store, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"store": "\xff"}'), encoding="utf-8"))
    code, out, err = itbc("config", "import", "--store", store.name, "-")
    assert code == 2 and "standard input is not UTF-8 text: byte 0xff" in err


def test_a_store_without_its_configuration_row_exports_and_imports(tmp_path):
    from .factories import StoreConnectionFactory

    bare = StoreConnectionFactory(name="bare")  # made outside the services: no Basic Configuration yet
    code, out, err = itbc("config", "export", "--store", "bare")
    assert code == 0, err
    document = json.loads(out)
    assert document["basic_configuration"]["sync_interval_minutes"] == 15
    document["basic_configuration"]["sync_interval_minutes"] = 30
    target = tmp_path / "bare.json"
    target.write_text(json.dumps(document))
    code, out, err = itbc("config", "import", "--store", "bare", str(target))
    assert code == 0, err
    assert BasicConfiguration.objects.get(store=bare).sync_interval_minutes == 30


def test_a_refused_import_leaves_a_store_without_its_row_as_it_was(tmp_path):
    from .factories import StoreConnectionFactory

    bare = StoreConnectionFactory(name="bare")
    target = tmp_path / "bad.json"
    target.write_text(json.dumps({"format": FILE_FORMAT, "version": 1, "basic_configuration": {"sync_interval_minutes": 0}}))
    code, out, err = itbc("config", "import", "--store", "bare", str(target))
    assert code == 2 and "basic_configuration.sync_interval_minutes:" in err
    assert not BasicConfiguration.objects.filter(store=bare).exists()


def test_export_to_an_unwritable_place(store, tmp_path):
    code, out, err = itbc("config", "export", "--store", store.name, "--output", str(tmp_path / "missing" / "x.json"))
    assert code == 2 and "Cannot write" in err and "No such file or directory" in err


def test_store_add_refuses_a_token_that_is_not_utf8(monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.delenv("BIGCOMMERCE_ACCESS_TOKEN", raising=False)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"tok\xff\n"), encoding="utf-8"))
    with pytest.raises(CommandError, match="not UTF-8 text") as refused:
        itbc("store", "add", "--name", "shop", "--store-hash", "abc123")
    assert refused.value.returncode == 2
    assert not StoreConnection.objects.exists()


def test_store_add_refuses_undecodable_bytes_a_terminal_passes_on(monkeypatch):
    # Python reads a UTF-8 terminal with surrogateescape: a stray byte arrives as a lone surrogate.
    monkeypatch.delenv("BIGCOMMERCE_ACCESS_TOKEN", raising=False)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"tok\xff\n"), encoding="utf-8",
                                                      errors="surrogateescape"))
    code, out, err = itbc("store", "add", "--name", "shop", "--store-hash", "abc123")
    assert code == 2 and "access_token: An access token holds letters, digits and ASCII punctuation only." in err
    assert not StoreConnection.objects.exists()
