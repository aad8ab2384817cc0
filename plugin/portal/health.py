"""The health report behind /healthz: each service the portal needs, with its state, for monitors.

States: "up"; "down" (with the reason); "not used" (Redis when REDIS_URL is unset, the embedded mode).
The report is healthy only when every service is up or not used."""
import datetime as dt
import threading

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .jobqueue import CHECK_TIMEOUT_SECONDS, JobQueueUnavailable, broker_ping, redis_ping
from .selectors import heartbeat_at
from .services import BEAT

UP, DOWN, NOT_USED = "up", "down", "not used"
WORKER_PING_SECONDS = 1.0


def database_check() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any database failure means down
        return {"state": DOWN, "error": type(exc).__name__}
    return {"state": UP}


def _redis() -> dict:
    if not getattr(settings, "REDIS_URL", ""):
        return {"state": NOT_USED}
    try:
        redis_ping(timeout=CHECK_TIMEOUT_SECONDS)
    except JobQueueUnavailable as exc:
        # The endpoint is public: the reason, never the service's address.
        return {"state": DOWN, "error": exc.reason}
    return {"state": UP}


def _broker() -> dict:
    try:
        broker_ping(timeout=CHECK_TIMEOUT_SECONDS)
    except JobQueueUnavailable as exc:
        return {"state": DOWN, "error": exc.reason}
    return {"state": UP}


def _worker(broker_up: bool) -> dict:
    if not broker_up:
        return {"state": DOWN, "error": "the broker is down"}
    from itbc_portal.celery import app

    outcome: dict = {}

    def ping():
        try:
            # A connection of its own, never one from the pool that a restarted Redis may have closed.
            with app.connection_for_write() as connection:
                outcome["answers"] = app.control.ping(timeout=WORKER_PING_SECONDS, connection=connection) or []
        except Exception as exc:  # noqa: BLE001 - no answer is the same as a dead worker here
            outcome["error"] = type(exc).__name__

    # Publishing the ping retries while the broker is away: the report waits a bounded time, never longer.
    thread = threading.Thread(target=ping, name="healthz-worker-ping", daemon=True)
    thread.start()
    thread.join(WORKER_PING_SECONDS + CHECK_TIMEOUT_SECONDS)
    if "answers" not in outcome:
        return {"state": DOWN, "error": outcome.get("error", "the broker did not take the ping in time")}
    answers = outcome["answers"]
    workers = sum(len(answer) for answer in answers)
    if not workers:
        return {"state": DOWN, "error": f"no worker answered within {WORKER_PING_SECONDS:g} s"}
    return {"state": UP, "workers": workers}


def _beat(now: dt.datetime) -> dict:
    max_age = int(getattr(settings, "ITBC_HEALTH_BEAT_MAX_AGE_SECONDS", 120))
    try:
        last_tick = heartbeat_at(name=BEAT)
    except Exception as exc:  # noqa: BLE001 - the database is down: reported there
        return {"state": DOWN, "error": type(exc).__name__}
    if last_tick is None:
        return {"state": DOWN, "last_tick": None, "error": "beat has never ticked"}
    age = (now - last_tick).total_seconds()
    report = {"last_tick": last_tick.isoformat(), "age_seconds": round(age, 1)}
    if age > max_age:
        return {"state": DOWN, **report, "error": f"no tick for more than {max_age} s"}
    return {"state": UP, **report}


def health_report() -> tuple[bool, dict]:
    now = timezone.now()
    broker = _broker()
    checks = {
        "database": database_check(),
        "redis": _redis(),
        "broker": broker,
        "worker": _worker(broker["state"] == UP),
        "beat": _beat(now),
    }
    healthy = all(check["state"] in (UP, NOT_USED) for check in checks.values())
    return healthy, {"status": "ok" if healthy else "unavailable", "checked_at": now.isoformat(), "checks": checks}
