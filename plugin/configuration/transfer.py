"""Configuration files: a store's connection settings (never its token) and Basic Configuration as JSON,
master data named by codes so a file moves between installations. Format: docs/configuration-file.md."""
import datetime as dt
import json

from django.db import models, transaction
from django.forms.models import model_to_dict

from plugin.intellitrack.models import UOM, Division, Location, Site

from .forms import BasicConfigurationForm, StoreConnectionForm
from .models import BasicConfiguration, StoreConnection
from .services import basic_configuration_ensure, basic_configuration_update, store_connection_update

FILE_FORMAT = "itbc-store-configuration"
FILE_VERSION = 1

CONNECTION_KEYS = ["store_hash", "api_base_url", "timezone", "inventory_location_id"]
# The watermark belongs to the installation that ran the syncs, so a file never carries it.
BASIC_KEYS = [name for name in BasicConfiguration.EDITABLE_FIELDS if name != "last_auto_sync_completed_on"]
MASTER_DATA_KEYS = ["default_division", "default_site", "default_location", "default_uom"]


class ConfigurationFileError(Exception):
    """The file was refused; `errors` names each problem ("section.key: message")."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def configuration_export(*, store: StoreConnection) -> dict:
    # A store created outside the services may lack its row yet: it then has the defaults.
    configuration = BasicConfiguration.objects.select_related(
        "default_division", "default_site", "default_location", "default_uom"
    ).filter(store=store).first() or BasicConfiguration(store=store)
    basic = {}
    for key in BASIC_KEYS:
        value = getattr(configuration, key)
        if key in MASTER_DATA_KEYS:
            value = value.code if value is not None else None
        elif isinstance(value, dt.time):
            value = value.strftime("%H:%M")
        basic[key] = value
    return {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "store": store.name,
        # timezone "" = the store's (read by Test connection), as on the page.
        "connection": {**{key: getattr(store, key) for key in CONNECTION_KEYS}, "timezone": store.chosen_timezone},
        "basic_configuration": basic,
    }


def _is_whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _expected_json(field) -> tuple[str, object]:
    """What a file must give for `field`: a description and a check of the JSON value."""
    if field.is_relation:
        return "a code (a string)", lambda value: isinstance(value, str)
    if isinstance(field, models.BooleanField):
        return "true or false", lambda value: isinstance(value, bool)
    if isinstance(field, models.IntegerField):
        return "a whole number", _is_whole_number
    if isinstance(field, models.TimeField):
        return 'a time "HH:MM"', lambda value: isinstance(value, str)
    if isinstance(field, models.JSONField):  # order_statuses_to_import, the only JSON field edited
        return "a list of whole numbers", lambda value: isinstance(value, list) and all(map(_is_whole_number, value))
    return "a string", lambda value: isinstance(value, str)


def _value_error(field, value) -> str:
    """Why `value` cannot stand for `field` ("" when its JSON type is right). Checked before the forms see
    it: a form reads the string "no" as a ticked checkbox, and fails outright on a number for a time."""
    if value is None:
        return "" if field.null else "must not be null"
    if isinstance(value, str) and "\x00" in value:
        return "must not contain NUL characters"
    expected, matches = _expected_json(field)
    if matches(value):
        return ""
    return f"must be {expected}{' or null' if field.null else ''}, not {json.dumps(value)[:40]}"


def _section(document: dict, name: str, model, allowed: list[str], errors: list[str]) -> dict:
    """The section's known keys whose values have the right JSON type; every other key is an error."""
    section = document.get(name, {})
    if not isinstance(section, dict):
        errors.append(f"{name}: must be an object")
        return {}
    values = {}
    for key, value in section.items():
        if key not in allowed:
            errors.append(f"{name}.{key}: unknown key")
            continue
        problem = _value_error(model._meta.get_field(key), value)
        if problem:
            errors.append(f"{name}.{key}: {problem}")
        else:
            values[key] = value
    return values


def _master_data_ids(values: dict, errors: list[str]) -> dict:
    """Codes -> ids. A code that names nothing is an error; relations are then checked by the form."""
    ids = {}
    division = site = None
    if "default_division" in values and values["default_division"] not in (None, ""):
        division = Division.objects.filter(code=values["default_division"]).first()
        if division is None:
            errors.append(f"basic_configuration.default_division: no division with code {values['default_division']!r}")
    if "default_site" in values and values["default_site"] not in (None, ""):
        site = Site.objects.filter(division=division, code=values["default_site"]).first() if division else None
        if site is None:
            errors.append(
                f"basic_configuration.default_site: no site with code {values['default_site']!r} in the division"
            )
    if "default_location" in values and values["default_location"] not in (None, ""):
        location = Location.objects.filter(site=site, code=values["default_location"]).first() if site else None
        if location is None:
            errors.append(
                f"basic_configuration.default_location: no location with code {values['default_location']!r} "
                "in the site"
            )
        ids["default_location"] = location.pk if location else None
    if "default_uom" in values and values["default_uom"] not in (None, ""):
        uom = UOM.objects.filter(division=division, code=values["default_uom"]).first() if division else None
        if uom is None:
            errors.append(f"basic_configuration.default_uom: no UOM with code {values['default_uom']!r} in the division")
        ids["default_uom"] = uom.pk if uom else None
    for key, obj in (("default_division", division), ("default_site", site)):
        if key in values:
            ids[key] = obj.pk if obj else None
    for key in ("default_location", "default_uom"):
        if key in values and values[key] in (None, ""):
            ids[key] = None
    return ids


def _form_data(instance_values: dict, overrides: dict) -> dict:
    data = {}
    for key, value in {**instance_values, **overrides}.items():
        if value is None:
            continue  # absent = empty for every field type
        if isinstance(value, dt.time):
            value = value.strftime("%H:%M")
        data[key] = value
    return data


def _form_errors(section: str, form) -> list[str]:
    return [f"{section}.{key}: {message}" for key, messages in form.errors.items() for message in messages]


@transaction.atomic
def configuration_import(*, store: StoreConnection, user, document) -> BasicConfiguration:
    """Validate the whole file with the page's forms, then apply it; any error refuses everything."""
    errors: list[str] = []
    if not isinstance(document, dict):
        raise ConfigurationFileError(["the file must hold a JSON object"])
    if document.get("format") != FILE_FORMAT:
        errors.append(f"format: must be {FILE_FORMAT!r}")
    version = document.get("version")
    if not _is_whole_number(version) or version != FILE_VERSION:
        errors.append(f"version: must be {FILE_VERSION} (got {json.dumps(version)[:40]})")
    if not isinstance(document.get("store", ""), str):
        errors.append("store: must be a string")
    for key in document:
        if key not in ("format", "version", "store", "connection", "basic_configuration"):
            errors.append(f"{key}: unknown key")
    connection = _section(document, "connection", StoreConnection, CONNECTION_KEYS, errors)
    basic = _section(document, "basic_configuration", BasicConfiguration, BASIC_KEYS, errors)
    if errors and not (connection or basic):
        raise ConfigurationFileError(errors)
    code_errors: list[str] = []
    if any(error.startswith(f"basic_configuration.{key}:") for key in MASTER_DATA_KEYS for error in errors):
        # A code of the wrong type leaves the others unresolvable: keep the saved four for the form.
        for key in MASTER_DATA_KEYS:
            basic.pop(key, None)
    else:
        basic.update(_master_data_ids(basic, code_errors))
    errors += code_errors

    saved_connection = {**model_to_dict(store, fields=StoreConnectionForm.Meta.fields), "timezone": store.chosen_timezone}
    connection_form = StoreConnectionForm(data=_form_data(saved_connection, connection), instance=store)
    configuration = basic_configuration_ensure(store=store)  # undone with a refused file
    basic_values = model_to_dict(configuration, fields=BasicConfigurationForm.Meta.fields)
    basic_form = BasicConfigurationForm(data=_form_data(basic_values, basic), instance=configuration)
    connection_ok = connection_form.is_valid()
    basic_ok = basic_form.is_valid()
    if errors or not (connection_ok and basic_ok):
        form_errors = _form_errors("connection", connection_form) + _form_errors("basic_configuration", basic_form)
        if code_errors:
            # An unknown code already explains its master-data fields; the form's follow-on messages
            # about them ("needed together", "not of the division") would only repeat it.
            form_errors = [
                error for error in form_errors
                if not any(error.startswith(f"basic_configuration.{key}:") for key in MASTER_DATA_KEYS)
            ]
        raise ConfigurationFileError(errors + form_errors)
    store = store_connection_update(store=store, user=user, data=connection_form.cleaned_data)
    return basic_configuration_update(store=store, user=user, data=basic_form.cleaned_data)
