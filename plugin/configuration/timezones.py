"""The timezone lists of the configuration forms: the store's own first, then the common zones, then every
other place-named zone, without the aliases nobody means ("Factory", "localtime", "posixrules", "Etc/GMT+5",
"US/Eastern"...). Only the list shrinks: every name the timezone database knows is still accepted, so a
saved alias or one in a configuration file keeps working, and a name it does not know is a field error."""
import zoneinfo

from django import forms

from .models import KNOWN_TIMEZONES

# Legacy folders of backward-compatible aliases, and the fixed-offset Etc/ zones (whose signs read
# backwards: Etc/GMT+5 is five hours behind UTC).
ALIAS_FOLDERS = ("Etc/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/", "SystemV/", "posix/", "right/")

# Where most stores and warehouses keep their clocks, roughly west to east.
COMMON_TIMEZONES = [
    "UTC",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Vancouver",
    "America/Phoenix",
    "America/Denver",
    "America/Chicago",
    "America/Mexico_City",
    "America/New_York",
    "America/Toronto",
    "America/Halifax",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Pacific/Auckland",
]


def timezone_is_canonical(name: str) -> bool:
    """A zone named for a place (Area/City), or UTC."""
    return name == "UTC" or ("/" in name and not name.startswith(ALIAS_FOLDERS))


CANONICAL_TIMEZONES = sorted(name for name in zoneinfo.available_timezones() if timezone_is_canonical(name))
# Names of no place at all: the machine's own setting, a placeholder, a rules template.
REFUSED_TIMEZONES = frozenset({"Factory", "localtime", "posixrules"})


def store_own_timezone(store) -> str:
    """The store's own timezone as Test connection read it; "" before it is known."""
    if store.remote_timezone in KNOWN_TIMEZONES:
        return store.remote_timezone
    if store.pk and not store.timezone_chosen and store.timezone != "UTC":
        return store.timezone  # followed from an earlier read; the last test failed
    return ""


def timezone_choices(*, blank_label: str, store_timezone: str = "", current: str = "") -> list:
    """Grouped choices: the blank choice, the store's own timezone, the common ones, then all the others.
    `current` (the saved value) is always offered, even when it is an alias, so the form shows it."""
    store_group = [store_timezone] if store_timezone in KNOWN_TIMEZONES else []
    common = [name for name in COMMON_TIMEZONES if name in KNOWN_TIMEZONES and name not in store_group]
    listed = {*store_group, *common}
    rest = sorted({*CANONICAL_TIMEZONES, *([current] if current in KNOWN_TIMEZONES else [])} - listed)
    groups = [("", blank_label)]
    if store_group:
        groups.append(("The store's timezone", [(name, name) for name in store_group]))
    groups.append(("Common timezones", [(name, name) for name in common]))
    groups.append(("All timezones", [(name, name) for name in rest]))
    return groups


class TimezoneChoiceField(forms.ChoiceField):
    """Offers the short grouped list and accepts any place or alias the timezone database knows (or blank)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.Select(attrs={"data-timezone-filter": "true"}))
        super().__init__(**kwargs)

    def valid_value(self, value):
        return value == "" or (value in KNOWN_TIMEZONES and value not in REFUSED_TIMEZONES)
