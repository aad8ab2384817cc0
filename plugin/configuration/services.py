"""Services that change a store's connection and configuration (the only writers of these models)."""
import json
import logging
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from .crypto import redact
from .models import BasicConfiguration, StoreConnection
from .schedules import AUTO_SYNC_TASK, EOD_EXPORT_TASK, auto_sync_periodic_task_name, eod_periodic_task_name

logger = logging.getLogger(__name__)

CONNECTION_FIELDS = ["name", "store_hash", "api_base_url", "timezone", "inventory_location_id"]
# The fields that say which store is reached; with the token, a change to one voids the last test.
CONNECTION_TARGET_FIELDS = ["store_hash", "api_base_url"]
CONNECTION_CHANGED_MESSAGE = "Connection details changed: test the connection again."


@sensitive_variables("data")
@transaction.atomic
def store_connection_create(*, user, data: dict) -> StoreConnection:
    """Create a store connection and its (empty) Basic Configuration. `data` is a validated
    StoreConnectionForm's cleaned_data, access_token included."""
    store = StoreConnection(**{name: data[name] for name in CONNECTION_FIELDS if name in data})
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
        if name in data:
            setattr(store, name, data[name])
    if details_changed:
        store.connection_ok = False
        store.connection_tested_at = None
        store.connection_message = CONNECTION_CHANGED_MESSAGE
        store.remote_store_name = ""
        store.remote_timezone = ""
        store.remote_update_stock_behavior = ""
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


def store_connection_test(*, store: StoreConnection) -> StoreConnection:
    """Read /v2/store and /v3/settings/inventory and record what the store answered."""
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
    return store
