"""Reads for the configuration pages: master-data choices, the next End of Day run, store status."""
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from plugin.intellitrack.models import UOM, Division, Location, Site
from plugin.sync.models import StoreItemLink, SyncRun

from .models import BasicConfiguration, StoreConnection

STOCK_BEHAVIOR_ORDER_PLACED = "order_placed"


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


def stock_behavior_mismatch(store: StoreConnection, configuration: BasicConfiguration) -> bool:
    """True when the store's update_stock_behavior (from the last Test connection) disagrees with
    "Stock decreased when order placed"."""
    behavior = store.remote_update_stock_behavior
    if not behavior:
        return False
    return (behavior == STOCK_BEHAVIOR_ORDER_PLACED) != configuration.stock_decreased_when_order_placed


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
    )
