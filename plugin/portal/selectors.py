"""Readers of the portal's own records: heartbeats and sign-in lockouts."""
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from .models import Heartbeat


def heartbeat_at(*, name: str) -> datetime | None:
    return Heartbeat.objects.filter(name=name).values_list("at", flat=True).first()


@dataclass(frozen=True)
class SignInFailures:
    username: str
    ip_address: str
    failures: int
    last_attempt: datetime
    locked: bool


def lockout_list() -> list[SignInFailures]:
    """Failed sign-ins per username and address (django-axes' records), the locked ones first."""
    from axes.conf import settings as axes_settings
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt

    limit = axes_settings.AXES_FAILURE_LIMIT
    cool_off = get_cool_off()
    now = timezone.now()
    rows = []
    for attempt in AccessAttempt.objects.order_by("-attempt_time")[:500]:
        expired = cool_off is not None and attempt.attempt_time + cool_off <= now
        rows.append(
            SignInFailures(
                username=attempt.username or "",
                ip_address=attempt.ip_address or "",
                failures=attempt.failures_since_start,
                last_attempt=attempt.attempt_time,
                locked=attempt.failures_since_start >= limit and not expired,
            )
        )
    return sorted(rows, key=lambda row: (not row.locked, -row.last_attempt.timestamp()))


def trusted_proxy_count() -> int:
    return int(getattr(settings, "ITBC_TRUSTED_PROXY_COUNT", 0) or 0)
