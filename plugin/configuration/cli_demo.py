"""Demo set-up used by `make run`: an admin login printed once, and a store connection that points
at the local sandbox store."""
import secrets

from django.contrib.auth import get_user_model
from django.forms.models import model_to_dict

from plugin.intellitrack.models import Location

from .cli import read_access_token
from .forms import BasicConfigurationForm, StoreConnectionForm
from .models import StoreConnection
from .roles import ADMIN, roles_ensure
from .selectors import default_uom_choices
from .services import basic_configuration_update, store_connection_create, store_connection_update

DEMO_ADMIN_USERNAME = "admin"
DEMO_STORE_NAME = "demo"


def register(subparsers, command):
    admin = subparsers.add_parser("demo-admin", help="Create the demo admin login (printed once).")
    admin.set_defaults(handler=handle_demo_admin)

    store = subparsers.add_parser(
        "demo-store",
        help="Create or refresh the demo store connection (token from $BIGCOMMERCE_ACCESS_TOKEN or stdin).",
    )
    store.add_argument("--name", default=DEMO_STORE_NAME)
    store.add_argument("--api-url", required=True)
    store.add_argument("--store-hash", required=True)
    store.add_argument("--timezone", default="", help="Default: the store's timezone, read by Test connection.")
    store.set_defaults(handler=handle_demo_store)


def handle_demo_admin(command, options) -> int:
    user_model = get_user_model()
    if user_model.objects.filter(username=DEMO_ADMIN_USERNAME).exists():
        command.stdout.write(
            f"Log in as '{DEMO_ADMIN_USERNAME}' (its password was printed on the first start; "
            f"`python manage.py changepassword {DEMO_ADMIN_USERNAME}` sets a new one)."
        )
        return 0
    password = secrets.token_urlsafe(12)
    user = user_model.objects.create_superuser(username=DEMO_ADMIN_USERNAME, email="", password=password)
    user.groups.add(roles_ensure()[ADMIN])
    banner = "=" * 60
    command.stdout.write(
        f"{banner}\n  itbc admin login (shown only this once)\n"
        f"  username: {DEMO_ADMIN_USERNAME}\n  password: {password}\n{banner}"
    )
    return 0


def _demo_defaults() -> dict | None:
    """The first location whose division also has a UOM: where the demo store's data lands."""
    location = (
        Location.objects.select_related("site__division").order_by("site__division__code", "site__code", "code")
        .filter(site__division__uoms__isnull=False).first()
    )
    if location is None:
        return None
    division = location.site.division
    return {
        "default_division": division.pk,
        "default_site": location.site_id,
        "default_location": location.pk,
        "default_uom": default_uom_choices(division.pk).order_by("code").values_list("pk", flat=True).first(),
    }


def handle_demo_store(command, options) -> int:
    """Idempotent: `make run` calls it on every start with the sandbox store's URL and token."""
    token = read_access_token(command)
    store = StoreConnection.objects.filter(name=options["name"]).first()
    data = {
        "name": options["name"],
        "store_hash": options["store_hash"],
        "api_base_url": options["api_url"],
        "timezone": store.chosen_timezone if store else options["timezone"],
        "inventory_location_id": store.inventory_location_id if store else 1,
        "access_token": token,
    }
    form = StoreConnectionForm(data=data, instance=store)
    if not form.is_valid():
        for field_name, messages in form.errors.items():
            for message in messages:
                command.stderr.write(f"{field_name}: {message}")
        return 2
    if store is None:
        store = store_connection_create(user=None, data=form.cleaned_data)
        command.stdout.write(f"Demo store {store.name} added, pointing at {store.api_base_url}.")
    elif [name for name in form.changed_data if name != "access_token"] or (token and token != store.access_token):
        store = store_connection_update(store=store, user=None, data=form.cleaned_data)
        command.stdout.write(f"Demo store {store.name} now points at {store.api_base_url}.")
    else:
        command.stdout.write(f"Demo store {store.name} is up to date.")
    configuration = store.basic_configuration
    defaults = _demo_defaults()
    if configuration.default_division_id is None and defaults:
        values = model_to_dict(configuration, fields=BasicConfigurationForm.Meta.fields)
        values.update(defaults)
        basic = BasicConfigurationForm(data={k: v for k, v in values.items() if v is not None}, instance=configuration)
        if basic.is_valid():
            basic_configuration_update(store=store, user=None, data=basic.cleaned_data)
            command.stdout.write("Demo store defaults set to the first division, site, location and UOM.")
        else:
            command.stderr.write(f"Demo store defaults left empty: {basic.errors.as_text()}")
    return 0
