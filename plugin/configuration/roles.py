"""The three roles and what each may do. Groups are (re)built after every migrate, so a permission
added by a later app or migration reaches its role without a manual step."""
import logging

from django.contrib.auth.models import Group, Permission

logger = logging.getLogger(__name__)

ADMIN = "Admin"
OPERATOR = "Operator"
VIEWER = "Viewer"

# Apps whose every `view_*` permission a Viewer gets.
VIEWABLE_APPS = ["configuration", "intellitrack", "sync", "audit", "django_celery_beat"]

OPERATOR_PERMISSIONS = [
    "configuration.run_jobs",
    "intellitrack.adjust_inventory",
    "intellitrack.pick_order",
    "intellitrack.close_order",
]
# Master data pages: everyone reads (view_*). Operators keep the customers and carriers orders need
# (the vendor's Customers and Carriers features, apart from Companies_Divisions_Sites); Admins write all.
OPERATOR_MASTERDATA_MODELS = ["customer", "shipto", "carrier", "shippingmethod"]
MASTERDATA_MODELS = ["division", "site", "location", "uom", *OPERATOR_MASTERDATA_MODELS]
OPERATOR_PERMISSIONS += [
    f"intellitrack.{action}_{model}" for model in OPERATOR_MASTERDATA_MODELS for action in ("add", "change")
]
ADMIN_PERMISSIONS = OPERATOR_PERMISSIONS + [
    *(f"intellitrack.{action}_{model}" for model in MASTERDATA_MODELS for action in ("add", "change", "delete")),
    "configuration.add_storeconnection",
    "configuration.change_storeconnection",
    "configuration.change_basicconfiguration",
    # Lift a sign-in lockout; create, list and revoke API tokens.
    "axes.view_accessattempt",
    "axes.delete_accessattempt",
    "knox.view_authtoken",
    "knox.add_authtoken",
    "knox.delete_authtoken",
]


def role_needed_sentence(permission: str) -> str:
    """Who may do what `permission` ("configuration.run_jobs") allows, in words for a 403 page: the
    roles that have it, never the codename."""
    if permission in OPERATOR_PERMISSIONS:
        return "Only an Operator or an Admin may do this."
    if permission in ADMIN_PERMISSIONS:
        return "Only an Admin may do this."
    app_label, _, codename = permission.partition(".")
    if app_label in VIEWABLE_APPS and codename.startswith("view_"):
        return "Only an account with a role (Viewer, Operator or Admin) may see this."
    return "Your role does not allow this."


def _permissions(names: list[str]) -> list[Permission]:
    wanted = {tuple(name.split(".", 1)) for name in names}
    found = [
        perm
        for perm in Permission.objects.select_related("content_type").filter(
            codename__in=[codename for _, codename in wanted]
        )
        if (perm.content_type.app_label, perm.codename) in wanted
    ]
    return found


def _view_permissions() -> list[Permission]:
    return list(
        Permission.objects.filter(content_type__app_label__in=VIEWABLE_APPS, codename__startswith="view_")
    )


def roles_ensure() -> dict[str, Group]:
    """Create or refresh the Admin, Operator and Viewer groups."""
    view = _view_permissions()
    wanted = {
        VIEWER: view,
        OPERATOR: view + _permissions(OPERATOR_PERMISSIONS),
        ADMIN: view + _permissions(ADMIN_PERMISSIONS),
    }
    groups = {}
    for name, perms in wanted.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(perms)
        groups[name] = group
    return groups


def roles_ensure_after_migrate(sender, app_config=None, using="default", **kwargs):
    # post_migrate fires once per app; only after the last app has every permission been created.
    from django.apps import apps

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if app_config is None or app_config.label != with_models[-1].label:
        return
    roles_ensure()
