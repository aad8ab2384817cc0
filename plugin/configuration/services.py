"""Services that change a store's connection and configuration (the only writers of these models)."""
import json
import logging
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from .crypto import redact
from .models import KNOWN_TIMEZONES, BasicConfiguration, StoreConnection
from .schedules import AUTO_SYNC_TASK, EOD_EXPORT_TASK, auto_sync_periodic_task_name, eod_periodic_task_name
from .selectors import stock_behavior_warning, timezone_warnings

logger = logging.getLogger(__name__)

CONNECTION_FIELDS = ["name", "store_hash", "api_base_url", "timezone", "inventory_location_id"]
# The fields that say which store is reached; with the token, a change to one voids the last test.
CONNECTION_TARGET_FIELDS = ["store_hash", "api_base_url"]
CONNECTION_CHANGED_MESSAGE = "Connection details changed: test the connection again."
TIMEZONE_FROM_STORE_REASON = "Timezone taken from the store"


def _timezone_apply(store: StoreConnection, chosen: str, *, fallback: str) -> None:
    """The form's timezone choice onto `store`: a name is a person's choice and is kept; "" is the
    store's timezone, as last read from the store, else `fallback` until a Test connection reads it."""
    if chosen:
        store.timezone, store.timezone_chosen = chosen, True
    else:
        remote = store.remote_timezone
        store.timezone = remote if remote in KNOWN_TIMEZONES else fallback
        store.timezone_chosen = False


@sensitive_variables("data")
@transaction.atomic
def store_connection_create(*, user, data: dict) -> StoreConnection:
    """Create a store connection and its (empty) Basic Configuration. `data` is a validated
    StoreConnectionForm's cleaned_data, access_token included."""
    store = StoreConnection(**{name: data[name] for name in CONNECTION_FIELDS if name in data and name != "timezone"})
    _timezone_apply(store, data.get("timezone") or "", fallback=StoreConnection._meta.get_field("timezone").default)
    store.access_token = data["access_token"]
    store._history_user = user
    store._change_reason = "Store added"
    store.save()
    configuration = BasicConfiguration(store=store, updated_by=user)
    configuration._history_user = user
    configuration._change_reason = "Store added"
    configuration.save()
    logger.info("store %s added by %s", store.name, user or "a command")
    return store


@sensitive_variables("data", "token", "saved")
@transaction.atomic
def store_connection_update(*, store: StoreConnection, user, data: dict) -> StoreConnection:
    """Apply a validated StoreConnectionForm. A blank access_token keeps the saved one. A new store hash,
    API base URL or token voids the last connection test: jobs wait until the new details are tested."""
    # The form has already copied the new values onto `store`: compare with the saved row.
    saved = StoreConnection.objects.select_for_update().get(pk=store.pk)
    token = data.get("access_token") or ""
    details_changed = bool(token and token != saved.access_token) or any(
        name in data and data[name] != getattr(saved, name) for name in CONNECTION_TARGET_FIELDS
    )
    for name in CONNECTION_FIELDS:
        if name in data and name != "timezone":
            setattr(store, name, data[name])
    if details_changed:
        store.connection_ok = False
        store.connection_tested_at = None
        store.connection_message = CONNECTION_CHANGED_MESSAGE
        store.remote_store_name = ""
        store.remote_timezone = ""
        store.remote_update_stock_behavior = ""
    if "timezone" in data:
        # Blank ("the store's timezone") keeps the one in use until a Test connection reads the store's.
        _timezone_apply(store, data["timezone"] or "", fallback=saved.timezone)
    else:
        store.timezone, store.timezone_chosen = saved.timezone, saved.timezone_chosen
    store._history_user = user
    if token:
        store.access_token = token
        # The token itself is kept out of history; the entry still says it was replaced.
        store._change_reason = "Access token replaced"
    store.save()
    # The store's timezone is the EOD timezone when none is set: keep the crontab in step.
    configuration = BasicConfiguration.objects.filter(store=store).first()
    if configuration is not None:
        configuration.store = store
        store_schedules_sync(configuration=configuration)
    return store


def basic_configuration_ensure(*, store: StoreConnection) -> BasicConfiguration:
    """The store's Basic Configuration row, created empty when a store was made outside the services."""
    configuration, _ = BasicConfiguration.objects.get_or_create(store=store)
    return configuration


@transaction.atomic
def basic_configuration_update(*, store: StoreConnection, user, data: dict) -> BasicConfiguration:
    """Save validated Basic Configuration values and rewrite the store's schedules."""
    configuration, _ = BasicConfiguration.objects.select_for_update().get_or_create(store=store)
    configuration.store = store
    for name, value in data.items():
        setattr(configuration, name, value)
    configuration.updated_by = user
    configuration._history_user = user
    configuration.save()
    store_schedules_sync(configuration=configuration)
    return configuration


def _periodic_task_put(*, name: str, task: str, store_id: int, crontab=None, interval=None) -> PeriodicTask:
    periodic_task = PeriodicTask.objects.filter(name=name).first() or PeriodicTask(name=name)
    periodic_task.task = task
    periodic_task.kwargs = json.dumps({"store_id": store_id})
    periodic_task.crontab = crontab
    periodic_task.interval = interval
    periodic_task.solar = None
    periodic_task.clocked = None
    periodic_task.one_off = False
    periodic_task.enabled = True
    # save() (never queryset.update) so the signal bumps PeriodicTasks and a running beat reloads.
    periodic_task.save()
    return periodic_task


def _periodic_task_remove(name: str) -> None:
    for periodic_task in PeriodicTask.objects.filter(name=name):
        periodic_task.delete()


def store_schedules_sync(*, configuration: BasicConfiguration) -> dict:
    """Write (or remove) the store's End of Day crontab and auto-sync interval in django-celery-beat."""
    store_id = configuration.store_id
    auto_sync_on = configuration.sync_enabled and configuration.auto_sync_enabled
    eod_on = auto_sync_on and configuration.eod_enabled and configuration.eod_time is not None
    result = {"eod": None, "auto_sync": None}

    if eod_on:
        eod_time = configuration.eod_time
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=str(eod_time.minute),
            hour=str(eod_time.hour),
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=ZoneInfo(configuration.effective_eod_timezone),
        )
        result["eod"] = _periodic_task_put(
            name=eod_periodic_task_name(store_id), task=EOD_EXPORT_TASK, store_id=store_id, crontab=crontab
        )
    else:
        _periodic_task_remove(eod_periodic_task_name(store_id))

    if auto_sync_on:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=configuration.sync_interval_minutes, period=IntervalSchedule.MINUTES
        )
        result["auto_sync"] = _periodic_task_put(
            name=auto_sync_periodic_task_name(store_id), task=AUTO_SYNC_TASK, store_id=store_id, interval=interval
        )
    else:
        _periodic_task_remove(auto_sync_periodic_task_name(store_id))
    return result


def _connection_error_message(exc: Exception, store: StoreConnection) -> str:
    from plugin.bigcommerce import errors

    if isinstance(exc, errors.AuthError):
        reason = "BigCommerce refused the access token. Check that it is right and has the needed scopes."
    elif isinstance(exc, errors.NotFoundError):
        reason = "BigCommerce knows no store with this store hash. Check the store hash and API base URL."
    elif isinstance(exc, errors.ConnectionFailedError):
        reason = f"Could not reach {store.api_base_url}. Check the API base URL and the network."
    elif isinstance(exc, errors.RateLimitedError):
        reason = "BigCommerce asked us to slow down (rate limit). Try again in a minute."
    elif isinstance(exc, errors.TransientError):
        reason = "BigCommerce is temporarily unavailable. Try again later."
    else:
        reason = "BigCommerce answered with an error."
    detail = str(exc)
    token = store.access_token or ""
    if token and token in detail:
        detail = detail.replace(token, "********")
    detail = redact(detail)
    return f"{reason} ({type(exc).__name__}: {detail})"[:500] if detail else reason[:500]


def store_connection_test(*, store: StoreConnection, user=None) -> StoreConnection:
    """Read /v2/store and /v3/settings/inventory and record what the store answered. A connection
    whose timezone nobody chose takes the store's, and the End of Day schedule follows it."""
    from plugin.bigcommerce import errors
    from plugin.bigcommerce.client import client_for_store

    store.connection_tested_at = timezone.now()
    try:
        # Interactive: fail fast rather than keep the person waiting through the full retry policy.
        client = client_for_store(store, max_retries=1, max_rate_limit_waits=1, timeout=(5, 15))
        info = client.get_store()
        inventory_settings = client.get_inventory_settings()
    except errors.BigCommerceError as exc:
        store.connection_ok = False
        store.connection_message = _connection_error_message(exc, store)
        store.remote_store_name = ""
        store.remote_timezone = ""
        store.remote_update_stock_behavior = ""
        logger.warning("connection test of store %s failed: %s", store.name, type(exc).__name__)
    else:
        store.connection_ok = True
        store.connection_message = "Connected."
        store.remote_store_name = str(info.get("name") or "")[:200]
        remote_timezone = info.get("timezone") or {}
        store.remote_timezone = str(
            remote_timezone.get("name", "") if isinstance(remote_timezone, dict) else remote_timezone
        )[:64]
        store.remote_update_stock_behavior = str(inventory_settings.get("update_stock_behavior") or "")[:40]
    # A test result is not a configuration change: keep it out of the history.
    store.skip_history_when_saving = True
    try:
        store.save(
            update_fields=[
                "connection_tested_at",
                "connection_ok",
                "connection_message",
                "remote_store_name",
                "remote_timezone",
                "remote_update_stock_behavior",
                "updated_at",
            ]
        )
    finally:
        del store.skip_history_when_saving
    if store.connection_ok:
        store_timezone_follow(store=store, user=user)
    return store


@transaction.atomic
def store_timezone_follow(*, store: StoreConnection, user=None) -> bool:
    """Make the store's timezone (as the last Test connection read it) the connection's, unless a person
    chose one, and move the End of Day crontab with it. True when the timezone changed."""
    saved = StoreConnection.objects.select_for_update().get(pk=store.pk)
    remote = saved.remote_timezone
    if saved.timezone_chosen or remote not in KNOWN_TIMEZONES or saved.timezone == remote:
        return False
    previous = saved.timezone
    store.timezone = saved.timezone = remote
    # A change of when End of Day runs: recorded in the history like one made on the page.
    saved._history_user = user
    saved._change_reason = TIMEZONE_FROM_STORE_REASON
    saved.save(update_fields=["timezone", "updated_at"])
    store.updated_at = saved.updated_at
    configuration = BasicConfiguration.objects.filter(store=saved).first()
    if configuration is not None:
        configuration.store = saved
        store_schedules_sync(configuration=configuration)
    logger.info("store %s: timezone %s taken from the store (was %s)", saved.name, remote, previous)
    return True


@dataclass
class ConnectionTestOutcome:
    """What "Test connection" (the page's button and `itbc store test`) tells the person, in order:
    (level, text) with level "success", "info", "warning" or "error"."""

    store: StoreConnection
    messages: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.store.connection_ok


def store_connection_check(*, store: StoreConnection, user=None) -> ConnectionTestOutcome:
    """Run the connection test and say what it found: the result, a timezone taken from the store,
    and the differences between the store and this configuration that the pages flag."""
    timezone_before = store.timezone
    store = store_connection_test(store=store, user=user)
    outcome = ConnectionTestOutcome(store=store)
    if not store.connection_ok:
        outcome.messages.append(("error", f"Test connection failed: {store.connection_message}"))
        return outcome
    outcome.messages.append(("success", f"Connected to {store.remote_store_name or store.name}."))
    if store.timezone != timezone_before:
        outcome.messages.append(
            ("info", f"Timezone set to the store's: {store.timezone} (was {timezone_before}). "
                     "End of Day runs at its time there.")
        )
    configuration = BasicConfiguration.objects.filter(store=store).first()
    if configuration is not None:
        configuration.store = store
        outcome.messages += [("warning", text) for text in timezone_warnings(store, configuration)]
        behavior_warning = stock_behavior_warning(store, configuration)
        if behavior_warning:
            outcome.messages.append(("warning", behavior_warning))
    return outcome
