"""django-celery-beat's database scheduler, recording each tick so /healthz can tell that beat is alive."""
import logging
import time

from django.db import connection
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

# A tick comes every few seconds; one database write per this many seconds is plenty.
RECORD_EVERY_SECONDS = 15


class HeartbeatDatabaseScheduler(DatabaseScheduler):
    _heartbeat_recorded = 0.0

    def setup_schedule(self):
        # The daily run-item prune is registered here, once, rather than in a migration: its crontab
        # carries an explicit timezone (UTC) and a running beat sees it after the first start.
        from plugin.sync.retention import retention_schedule_ensure

        try:
            retention_schedule_ensure()
        except Exception:  # noqa: BLE001 - beat still starts; the next start registers it
            logger.warning("Could not register the daily run-item prune", exc_info=True)
        super().setup_schedule()

    def tick(self, *args, **kwargs):
        result = super().tick(*args, **kwargs)
        now = time.monotonic()
        if now - self._heartbeat_recorded >= RECORD_EVERY_SECONDS:
            from .services import BEAT, heartbeat_record

            try:
                heartbeat_record(name=BEAT)
                self._heartbeat_recorded = now
            except Exception:  # noqa: BLE001 - the schedule goes on; /healthz shows the stale tick
                logger.warning("Could not record beat's heartbeat", exc_info=True)
                # A broken database connection is opened afresh at the next tick.
                connection.close_if_unusable_or_obsolete()
        return result
