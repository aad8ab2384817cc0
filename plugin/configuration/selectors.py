"""Reads for the configuration pages: master-data choices, the next End of Day run, store status."""
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from plugin.intellitrack.models import UOM, Division, Location, Site
from plugin.sync.models import StoreItemLink, SyncRun

from .models import KNOWN_TIMEZONES, BasicConfiguration, StoreConnection

STOCK_BEHAVIOR_ORDER_PLACED = "order_placed"
STOCK_BEHAVIOR_TEXT = {
    STOCK_BEHAVIOR_ORDER_PLACED: "when an order is placed",
    "order_completed_or_shipped": "when an order is completed or shipped",
}


def store_get(*, pk) -> StoreConnection | None:
    return StoreConnection.objects.select_related("basic_configuration").filter(pk=pk).first()


def store_has_item_links(*, store: StoreConnection) -> bool:
    """True when store products or variants are linked to IntelliTrack items (their ids are this store's)."""
    return StoreItemLink.objects.filter(store=store).exists()


def default_uom_choices(division_id: int | None):
    """UOMs that may be the Default UOM: one store unit is one IntelliTrack unit, so only UOMs of the
    division whose each-count is 1 qualify."""
    return UOM.objects.filter(division_id=division_id, each_count=1)


def master_data_options(*, division_id: int | None, site_id: int | None) -> dict:
    """Choices for the dependent drop-downs: every division, and the UOMs and sites of the chosen
    division, and the locations of the chosen site (only when that site belongs to the division)."""

    def rows(queryset):
        return [{"id": obj.pk, "label": str(obj)} for obj in queryset]

    return {
        "divisions": rows(Division.objects.all()),
        "uoms": rows(default_uom_choices(division_id)) if division_id else [],
        "sites": rows(Site.objects.filter(division_id=division_id)) if division_id else [],
        "locations": rows(Location.objects.filter(site_id=site_id, site__division_id=division_id))
        if division_id and site_id
        else [],
    }


def _local_occurrence(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    """`at` on `day` in `tz`, as a real instant. A wall time skipped by a spring-forward gap is taken
    with the offset before the change (02:30 becomes 03:30 daylight time); in the repeated hour of a
    fall-back the first occurrence is used (PEP 495 fold=0)."""
    naive_local = dt.datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz)
    return naive_local.astimezone(dt.UTC).astimezone(tz)


def next_eod_run(configuration: BasicConfiguration, now: dt.datetime | None = None) -> dt.datetime | None:
    """The next End of Day run as an aware datetime in the EOD timezone, or None when EOD is off."""
    if not (
        configuration.sync_enabled
        and configuration.auto_sync_enabled
        and configuration.eod_enabled
        and configuration.eod_time
    ):
        return None
    tz = ZoneInfo(configuration.effective_eod_timezone)
    now = now or timezone.now()
    today = now.astimezone(tz).date()
    for offset in range(0, 3):
        candidate = _local_occurrence(today + dt.timedelta(days=offset), configuration.eod_time, tz)
        if candidate > now:
            return candidate
    return None  # unreachable: one of three consecutive days is always later than now


@dataclass
class StoreStatus:
    last_success: SyncRun | None
    errors_since_success: list[SyncRun] = field(default_factory=list)
    error_count: int = 0
    next_eod: dt.datetime | None = None
    eod_timezone: str = ""
    stock_behavior_mismatch: bool = False
    stock_behavior_warning: str = ""
    timezone_warnings: list[str] = field(default_factory=list)
    last_cycle: SyncRun | None = None


def stock_behavior_mismatch(store: StoreConnection, configuration: BasicConfiguration) -> bool:
    """True when the store's update_stock_behavior (as last read: by Test connection, or by End of Day
    and the auto-sync cycle at their start) disagrees with "Stock decreased when order placed"."""
    behavior = store.remote_update_stock_behavior
    if not behavior:
        return False
    return (behavior == STOCK_BEHAVIOR_ORDER_PLACED) != configuration.stock_decreased_when_order_placed


def _stock_behavior_read_at(store: StoreConnection):
    """When End of Day or an auto sync cycle last read the store's stock setting (None: never)."""
    from plugin.sync.models import StoreSyncState

    return StoreSyncState.objects.filter(store=store).values_list("stock_behavior_read_at", flat=True).first()


def stock_behavior_warning(store: StoreConnection, configuration: BasicConfiguration) -> str:
    """The warning the pages and `itbc store test` give when the store and the saved flag disagree."""
    if not stock_behavior_mismatch(store, configuration):
        return ""
    behavior = store.remote_update_stock_behavior
    does = STOCK_BEHAVIOR_TEXT.get(behavior, f"as {behavior!r} says")
    flag = "on" if configuration.stock_decreased_when_order_placed else "off"
    read_at = _stock_behavior_read_at(store) or store.connection_tested_at
    when = f", read {timezone.localtime(read_at):%Y-%m-%d %H:%M %Z}" if read_at else ""
    return (
        f"The store decreases stock {does} (update_stock_behavior {behavior}{when}), but "
        f"\"Stock decreased when order placed\" is {flag} here. End of Day and auto sync compute with what "
        "the store does; change the setting on Basic Configuration so the two agree."
    )


def timezone_warnings(store: StoreConnection, configuration: BasicConfiguration) -> list[str]:
    """Where the timezone End of Day runs in differs from the store's own (as the last Test connection
    read it). Nothing to say before the store's timezone is known."""
    remote = store.remote_timezone
    if not remote:
        return []
    warnings = []
    runs_in_connection_timezone = not configuration.eod_timezone
    if store.timezone != remote:
        if store.timezone_chosen:
            text = f"This connection's timezone is {store.timezone} (chosen here), but the store's is {remote}."
            if runs_in_connection_timezone:
                text += f" End of Day runs at its time in {store.timezone}."
        elif remote not in KNOWN_TIMEZONES:
            text = (f"The store's timezone {remote!r} is not one this installation knows, so this connection "
                    f"uses {store.timezone}: choose a timezone on the Shopping Cart Configuration tab.")
        else:
            text = (f"The store's timezone is {remote}, but this connection still uses {store.timezone}: "
                    "Test connection takes the store's, or choose one on the Shopping Cart Configuration tab.")
        warnings.append(text)
    if configuration.eod_timezone and configuration.eod_timezone != remote:
        warnings.append(f"End of Day runs at its time in {configuration.eod_timezone} (chosen on Basic "
                        f"Configuration), not in the store's timezone {remote}.")
    return warnings


def store_timezone_choice_label(store: StoreConnection) -> str:
    """The blank choice of the connection's timezone: the store's, named when known."""
    if store.remote_timezone in KNOWN_TIMEZONES:
        return f"the store's timezone ({store.remote_timezone})"
    if store.pk and not store.timezone_chosen and store.timezone != "UTC":
        return f"the store's timezone ({store.timezone})"  # as read before; the last test failed
    return "the store's timezone (read by Test connection; UTC until then)"


def store_status(store: StoreConnection, *, now: dt.datetime | None = None, error_limit: int = 10) -> StoreStatus:
    configuration = store.basic_configuration
    last_success = (
        SyncRun.objects.filter(store=store, status=SyncRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-created_at", "-id")
        .first()
    )
    errors = SyncRun.objects.filter(store=store, status__in=[SyncRun.Status.FAILED, SyncRun.Status.PARTIAL])
    if last_success is not None:
        since = last_success.finished_at or last_success.created_at
        errors = errors.filter(Q(finished_at__gt=since) | Q(finished_at__isnull=True, created_at__gt=since))
    errors = errors.order_by("-created_at", "-id")
    return StoreStatus(
        last_success=last_success,
        errors_since_success=list(errors[:error_limit]),
        error_count=errors.count(),
        next_eod=next_eod_run(configuration, now=now),
        eod_timezone=configuration.effective_eod_timezone,
        stock_behavior_mismatch=stock_behavior_mismatch(store, configuration),
        stock_behavior_warning=stock_behavior_warning(store, configuration),
        timezone_warnings=timezone_warnings(store, configuration),
        last_cycle=SyncRun.objects.filter(store=store, job=SyncRun.Job.AUTO_SYNC).order_by("-created_at", "-id").first(),
    )
