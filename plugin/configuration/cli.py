"""`manage.py itbc store ...` and `manage.py itbc config ...`: set up and move stores without the browser.

The access token is read from BIGCOMMERCE_ACCESS_TOKEN or standard input, never from an argument,
so it does not end up in shell history or the process list."""
import json
import os
import sys

from django.core.management.base import CommandError

from .forms import StoreConnectionForm
from .models import BIGCOMMERCE_API_URL, StoreConnection
from .services import store_connection_check, store_connection_create
from .transfer import ConfigurationFileError, configuration_export, configuration_import

TOKEN_ENV = "BIGCOMMERCE_ACCESS_TOKEN"


def register(subparsers, command):
    store = subparsers.add_parser("store", help="Add and list BigCommerce store connections.")
    store_actions = store.add_subparsers(dest="store_action", metavar="ACTION", required=True)

    add = store_actions.add_parser(
        "add",
        help=f"Connect a store. The access token comes from ${TOKEN_ENV} or standard input.",
        description=f"Connect a store. The access token is read from ${TOKEN_ENV}, else from standard input.",
    )
    add.add_argument("--name", required=True)
    add.add_argument("--store-hash", required=True)
    add.add_argument("--api-url", default=BIGCOMMERCE_API_URL, help="Default: %(default)s")
    add.add_argument("--timezone", default="",
                     help="Default: the store's timezone, read by `itbc store test` (UTC until then).")
    add.add_argument("--location-id", type=int, default=1, help="BigCommerce inventory location id (default 1).")
    add.set_defaults(handler=store_add)

    listing = store_actions.add_parser("list", help="List the connected stores.")
    listing.set_defaults(handler=store_list)

    test = store_actions.add_parser(
        "test",
        help="Test a store's connection, as the page's Test connection button does (exit 1 when it fails).",
        description="Read the store's details and inventory settings with the saved connection, record them "
        "as the page's Test connection button does, and print what it found. Exits 0 when connected, 1 otherwise.",
    )
    test.add_argument("--store", required=True, metavar="NAME")
    test.set_defaults(handler=store_test)

    config = subparsers.add_parser("config", help="Export or import a store's configuration file (JSON).")
    config_actions = config.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    export = config_actions.add_parser("export", help="Write a store's configuration as JSON (no token).")
    export.add_argument("--store", required=True, metavar="NAME")
    export.add_argument("--output", metavar="FILE", help="Default: standard output.")
    export.set_defaults(handler=config_export)
    import_ = config_actions.add_parser("import", help="Apply a configuration file to a store, all or nothing.")
    import_.add_argument("--store", required=True, metavar="NAME")
    import_.add_argument("file", metavar="FILE", help="A file written by `itbc config export` ('-' = stdin).")
    import_.set_defaults(handler=config_import)


def read_access_token(command) -> str:
    token = os.environ.get(TOKEN_ENV, "")
    if token:
        return token.strip()
    if sys.stdin.isatty():
        command.stderr.write(f"Access token (or set {TOKEN_ENV}): ", ending="")
    try:
        return sys.stdin.readline().strip()
    except UnicodeDecodeError:
        raise CommandError("The access token on standard input is not UTF-8 text.", returncode=2) from None


def _store(command, name):
    store = StoreConnection.objects.filter(name=name).first()
    if store is None:
        command.stderr.write(f"No store named {name!r}. `manage.py itbc store list` shows them.")
    return store


def store_add(command, options) -> int:
    token = read_access_token(command)
    form = StoreConnectionForm(
        data={
            "name": options["name"],
            "store_hash": options["store_hash"],
            "api_base_url": options["api_url"],
            "timezone": options["timezone"],
            "inventory_location_id": options["location_id"],
            "access_token": token,
        }
    )
    if not form.is_valid():
        for field_name, messages in form.errors.items():
            for message in messages:
                command.stderr.write(f"{field_name}: {message}")
        return 2
    store = store_connection_create(user=None, data=form.cleaned_data)
    command.stdout.write(f"Store {store.name} added (id {store.pk}).")
    return 0


def store_list(command, options) -> int:
    stores = StoreConnection.objects.select_related("basic_configuration").order_by("name")
    rows = [("NAME", "STORE HASH", "TIMEZONE", "API BASE URL", "TOKEN")]
    rows += [(s.name, s.store_hash, s.timezone if s.timezone_chosen else f"{s.timezone} (the store's)",
              s.api_base_url, "saved" if s.has_token else "missing") for s in stores]
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        command.stdout.write("  ".join(str(value).ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())
    return 0


def store_test(command, options) -> int:
    store = _store(command, options["store"])
    if store is None:
        return 1
    outcome = store_connection_check(store=store)
    for level, text in outcome.messages:
        if level == "error":
            command.stderr.write(text)
        else:
            command.stdout.write(text if level in ("success", "info") else f"Warning: {text}")
    if not outcome.ok:
        return 1
    store = outcome.store
    command.stdout.write(f"Store timezone: {store.remote_timezone or '-'}; this connection's: {store.timezone}"
                         + ("" if store.timezone_chosen else " (the store's)"))
    command.stdout.write(f"Update stock behavior: {store.remote_update_stock_behavior or '-'}")
    return 0


def config_export(command, options) -> int:
    store = _store(command, options["store"])
    if store is None:
        return 2
    text = json.dumps(configuration_export(store=store), indent=2, sort_keys=False) + "\n"
    if options.get("output"):
        try:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            command.stderr.write(f"Cannot write {options['output']}: {exc.strerror}")
            return 2
        command.stderr.write(f"Configuration of {store.name} written to {options['output']}.")
    else:
        command.stdout.write(text, ending="")
    return 0


def _read_json(name: str):
    """The JSON document in file `name` ('-' = standard input), read as UTF-8 (a byte-order mark is allowed)."""
    if name == "-":
        stream = getattr(sys.stdin, "buffer", None)
        raw = stream.read() if stream is not None else sys.stdin.read().encode("utf-8")
    else:
        with open(name, "rb") as handle:
            raw = handle.read()
    return json.loads(raw.decode("utf-8-sig"))


def config_import(command, options) -> int:
    store = _store(command, options["store"])
    if store is None:
        return 2
    source = "standard input" if options["file"] == "-" else options["file"]
    try:
        document = _read_json(options["file"])
    except OSError as exc:
        command.stderr.write(f"Cannot read {options['file']}: {exc.strerror}")
        return 2
    except UnicodeDecodeError as exc:
        command.stderr.write(f"{source} is not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at position {exc.start}.")
        return 2
    except json.JSONDecodeError as exc:
        command.stderr.write(f"{source} is not JSON: {exc}")
        return 2
    except RecursionError:
        command.stderr.write(f"{source} is refused: its JSON nests too deeply.")
        return 2
    except ValueError:
        # json raises a bare ValueError only for an integer longer than Python converts.
        command.stderr.write(f"{source} is refused: it holds a number with too many digits.")
        return 2
    try:
        configuration_import(store=store, user=None, document=document)
    except ConfigurationFileError as exc:
        command.stderr.write(f"Refused {source}; nothing was changed:")
        for error in exc.errors:
            command.stderr.write(f"  {error}")
        return 2
    command.stdout.write(f"Configuration of {store.name} imported from {source}.")
    return 0
