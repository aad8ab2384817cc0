"""Writers of the portal's own records: heartbeats and sign-in lockouts."""
import logging

from django.utils import timezone

from .models import Heartbeat

logger = logging.getLogger(__name__)

BEAT = "beat"


def heartbeat_record(*, name: str, at=None) -> Heartbeat:
    heartbeat, _ = Heartbeat.objects.update_or_create(name=name, defaults={"at": at or timezone.now()})
    return heartbeat


def lockout_reset(*, username: str, by=None) -> int:
    """Forget every failed sign-in of `username` (from any address), which lifts its lockout. Returns the
    number of records removed."""
    from axes.utils import reset

    removed = reset(username=username)
    logger.info("Sign-in lockout of %r reset by %s (%s records)", username, by or "a command", removed)
    return removed
