"""Acknowledging failures: an operator has seen a failed or partial run, so it leaves the Runs badge and
no longer turns its store's light red or amber."""
from django.db.models import Q
from django.utils import timezone

from .models import SyncRun


def run_acknowledge(*, run: SyncRun, user) -> int:
    """Acknowledge a failed, partial, stale or missed run and the steps run under it (a cycle's or a
    go-live's child runs, whose failure it already reports). Returns how many runs were acknowledged."""
    return (SyncRun.objects
            .filter(Q(pk=run.pk) | Q(options__parent_run=run.pk), status__in=SyncRun.FAILURE_STATUSES,
                    acknowledged_at__isnull=True)
            .update(acknowledged_at=timezone.now(), acknowledged_by=user))


def runs_acknowledge_all(*, user, store=None) -> int:
    """Acknowledge every failure nobody acknowledged yet (of one store when named). One statement."""
    runs = SyncRun.objects.filter(status__in=SyncRun.FAILURE_STATUSES, acknowledged_at__isnull=True)
    if store is not None:
        runs = runs.filter(store=store)
    return runs.update(acknowledged_at=timezone.now(), acknowledged_by=user)
