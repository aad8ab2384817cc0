"""One run at a time per store and job.

With Redis (settings.REDIS_URL), the worker executing a run holds a lock that expires unless the run's
heartbeat renews it, so a dead worker frees its job after LOCK_TTL_SECONDS. Without Redis the same
guarantee comes from the database alone: a partial unique constraint allows one queued-or-running run
per store and job, and only one worker can move a run from queued to running (see runs.run_start)."""
import logging

from django.conf import settings

logger = logging.getLogger(__name__)

LOCK_TTL_SECONDS = 45  # renewed by the run keeper every quarter (sync.runs.RunKeeper)
_clients: dict = {}


def _redis():
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    if url not in _clients:
        import redis

        _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    return _clients[url]


def lock_key(*, store_id: int, job: str) -> str:
    return f"itbc:sync:lock:{store_id}:{job}"


def lock_ttl_seconds() -> int:
    return int(getattr(settings, "ITBC_RUN_LOCK_TTL_SECONDS", LOCK_TTL_SECONDS))


def lock_holder(*, store_id: int, job: str) -> int | None:
    """The id of the run holding the Redis lock, or None (free, or no Redis)."""
    client = _redis()
    if client is None:
        return None
    value = client.get(lock_key(store_id=store_id, job=job))
    return int(value) if value else None


class JobLock:
    """The lock a worker holds while it executes `run_id`. `acquire()` is False when another run holds it."""

    def __init__(self, *, store_id: int, job: str, run_id: int):
        self.store_id, self.job, self.run_id = store_id, job, run_id
        client = _redis()
        self._lock = (
            client.lock(lock_key(store_id=store_id, job=job), timeout=lock_ttl_seconds(), thread_local=False)
            if client is not None
            else None
        )
        self.held = False

    @property
    def uses_redis(self) -> bool:
        return self._lock is not None

    def acquire(self) -> bool:
        if self._lock is None:
            # The database constraint and the queued -> running transition do the work.
            self.held = True
            return True
        self.held = bool(self._lock.acquire(blocking=False, token=str(self.run_id)))
        return self.held

    def renew(self) -> None:
        """Push the expiry back to a full TTL (called with every heartbeat)."""
        if self._lock is None or not self.held:
            return
        from redis.exceptions import LockError

        try:
            self._lock.reacquire()
        except LockError:
            # The lock expired and someone else may hold it now: keep going, the run row still guards.
            logger.warning("Lock for store %s job %s was lost by run %s", self.store_id, self.job, self.run_id)
            self.held = False

    def release(self) -> None:
        if self._lock is None or not self.held:
            self.held = False
            return
        from redis.exceptions import LockError

        try:
            self._lock.release()
        except LockError:
            pass
        self.held = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
        return False
