"""The request budget of one BigCommerce store, shared by every client that talks to it.

BigCommerce gives a store one quota per time window for all its API accounts together and reports it in
the `X-Rate-Limit-*` headers of every answer. A budget remembers the last report, hands out one request
at a time (`acquire`), and spreads the remaining requests over the rest of the window once fewer than
`pace_below` of the quota are left, so the quota is never run down to zero. With Redis the state lives
in one hash per store and is changed by Lua scripts, so workers in several processes share it; without
Redis it lives in this process, behind a lock. When Redis cannot be reached, a Redis budget keeps
working on its own in-process state, so an outage slows sharing down but never fails a request.

Times are integer milliseconds handed in by the caller (`now_ms`), so a client with an injected clock
drives the budget with the same clock."""
import logging
import math
import threading
from dataclasses import dataclass

from django.conf import settings
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DEFAULT_RESERVE = 2
DEFAULT_PACE_BELOW = 0.2
# The state outlives a window by far; it only saves the first requests of a new worker from guessing.
STATE_TTL_SECONDS = 600


@dataclass(frozen=True)
class Grant:
    """The answer of `acquire`: `granted` True means "send after waiting `wait_ms`"; False means "wait
    `wait_ms`, then ask again" (the window is used up)."""

    granted: bool
    wait_ms: int


class RateBudget:
    """In-process budget for one store. Thread-safe; shared by clients that hold the same instance."""

    def __init__(self, store_hash: str, *, reserve: int = DEFAULT_RESERVE, pace_below: float = DEFAULT_PACE_BELOW):
        self.store_hash = store_hash
        self.reserve = reserve
        self.pace_below = pace_below
        self._lock = threading.Lock()
        self._state: dict = {"left": None, "reset_at": None, "quota": None, "window": None, "next_at": 0}

    def acquire(self, now_ms: int) -> Grant:
        with self._lock:
            state = self._state
            if state["reset_at"] is not None and now_ms >= state["reset_at"]:
                # The window has rolled over: assume the full quota until an answer says otherwise.
                state["left"] = state["quota"]
                state["reset_at"] = now_ms + state["window"] if state["window"] else None
                state["next_at"] = 0
            left = state["left"]
            if left is None:
                return Grant(True, 0)
            if left <= self.reserve:
                wait = state["reset_at"] - now_ms if state["reset_at"] is not None else 1000
                return Grant(False, max(1, math.ceil(wait)))
            start = max(now_ms, state["next_at"])
            left -= 1
            state["left"] = left
            quota = state["quota"]
            if quota and state["reset_at"] is not None and left < quota * self.pace_below:
                usable = max(1, left - self.reserve + 1)
                state["next_at"] = start + max(0, state["reset_at"] - start) / usable
            else:
                state["next_at"] = start
            return Grant(True, math.ceil(start - now_ms))

    def record(self, now_ms: int, *, left: int, reset_ms: int, quota: int | None = None,
               window_ms: int | None = None, limited: bool = False) -> None:
        """Take in what an answer's headers said. `limited` (a 429) replaces the state outright."""
        with self._lock:
            state = self._state
            new_reset = now_ms + reset_ms
            if quota:
                state["quota"] = quota
            if window_ms:
                state["window"] = window_ms
            half_window = (state["window"] or 0) / 2
            old_reset = state["reset_at"]
            if limited or state["left"] is None or old_reset is None or new_reset > old_reset + half_window:
                state["left"] = left
                state["reset_at"] = new_reset
            elif new_reset < old_reset - half_window:
                return  # a late answer from a window that is already over
            else:
                state["left"] = min(state["left"], left)
                state["reset_at"] = new_reset

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self._state)


# KEYS[1] = state hash. ARGV = now_ms, reserve, pace_below, ttl. Returns {granted (0/1), wait_ms}.
_ACQUIRE_LUA = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local reserve = tonumber(ARGV[2])
local pace_below = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local s = redis.call('HMGET', key, 'left', 'reset_at', 'quota', 'window', 'next_at')
local left = tonumber(s[1])
local reset_at = tonumber(s[2])
local quota = tonumber(s[3])
local window = tonumber(s[4])
local next_at = tonumber(s[5]) or 0
if reset_at and now >= reset_at then
  left = quota
  if window then reset_at = now + window else reset_at = nil end
  next_at = 0
  redis.call('HDEL', key, 'left', 'reset_at')
  if left then redis.call('HSET', key, 'left', left) end
  if reset_at then redis.call('HSET', key, 'reset_at', reset_at) end
  redis.call('HSET', key, 'next_at', 0)
end
if not left then
  return {1, 0}
end
if left <= reserve then
  local wait = 1000
  if reset_at then wait = reset_at - now end
  return {0, math.max(1, math.ceil(wait))}
end
local start = math.max(now, next_at)
left = left - 1
if quota and reset_at and left < quota * pace_below then
  local usable = math.max(1, left - reserve + 1)
  next_at = start + math.max(0, reset_at - start) / usable
else
  next_at = start
end
redis.call('HSET', key, 'left', left, 'next_at', next_at)
redis.call('EXPIRE', key, ttl)
return {1, math.ceil(start - now)}
"""

# KEYS[1] = state hash. ARGV = now_ms, left, reset_ms, quota (0 = unknown), window (0 = unknown), limited, ttl.
_RECORD_LUA = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local left = tonumber(ARGV[2])
local new_reset = now + tonumber(ARGV[3])
local quota = tonumber(ARGV[4])
local window = tonumber(ARGV[5])
local limited = ARGV[6] == '1'
local ttl = tonumber(ARGV[7])
if quota > 0 then redis.call('HSET', key, 'quota', quota) end
if window > 0 then redis.call('HSET', key, 'window', window) end
local s = redis.call('HMGET', key, 'left', 'reset_at', 'window')
local old_left = tonumber(s[1])
local old_reset = tonumber(s[2])
local half_window = (tonumber(s[3]) or 0) / 2
if limited or (not old_left) or (not old_reset) or new_reset > old_reset + half_window then
  redis.call('HSET', key, 'left', left, 'reset_at', new_reset)
elseif new_reset < old_reset - half_window then
  return 0
else
  redis.call('HSET', key, 'left', math.min(old_left, left), 'reset_at', new_reset)
end
redis.call('EXPIRE', key, ttl)
return 1
"""


class RedisRateBudget(RateBudget):
    """The same budget, kept in Redis so every worker process on the store shares it."""

    KEY_PREFIX = "itbc:bigcommerce:rate-budget:"

    def __init__(self, redis_client, store_hash: str, *, reserve: int = DEFAULT_RESERVE,
                 pace_below: float = DEFAULT_PACE_BELOW):
        super().__init__(store_hash, reserve=reserve, pace_below=pace_below)
        self._redis = redis_client
        self.key = self.KEY_PREFIX + store_hash
        self._acquire = redis_client.register_script(_ACQUIRE_LUA)
        self._record = redis_client.register_script(_RECORD_LUA)
        self._warned = False

    def _redis_failed(self, exc: RedisError) -> None:
        if not self._warned:
            self._warned = True
            logger.warning(
                "Redis unreachable for the rate budget of store %s (%s); pacing within this process only",
                self.store_hash,
                type(exc).__name__,
            )

    def acquire(self, now_ms: int) -> Grant:
        try:
            granted, wait = self._acquire(
                keys=[self.key], args=[int(now_ms), self.reserve, self.pace_below, STATE_TTL_SECONDS]
            )
        except RedisError as exc:
            self._redis_failed(exc)
            return super().acquire(now_ms)
        return Grant(bool(granted), int(wait))

    def record(self, now_ms: int, *, left: int, reset_ms: int, quota: int | None = None,
               window_ms: int | None = None, limited: bool = False) -> None:
        # The in-process state is kept too, so a fallback starts from the last answer, not from nothing.
        super().record(now_ms, left=left, reset_ms=reset_ms, quota=quota, window_ms=window_ms, limited=limited)
        try:
            self._record(
                keys=[self.key],
                args=[int(now_ms), int(left), int(reset_ms), int(quota or 0), int(window_ms or 0),
                      "1" if limited else "0", STATE_TTL_SECONDS],
            )
        except RedisError as exc:
            self._redis_failed(exc)

    def snapshot(self) -> dict:
        raw = self._redis.hgetall(self.key)
        state = {k.decode(): float(v) for k, v in raw.items()}
        return {name: state.get(name) for name in ("left", "reset_at", "quota", "window", "next_at")}

    def clear(self) -> None:
        self._redis.delete(self.key)


_local_budgets: dict[str, RateBudget] = {}
_local_lock = threading.Lock()
_redis_clients: dict[str, object] = {}


def _redis_for(url: str):
    import redis

    client = _redis_clients.get(url)
    if client is None:
        client = _redis_clients[url] = redis.Redis.from_url(url)
    return client


def rate_budget_for(store_hash: str) -> RateBudget:
    """The budget every client of this store should share: in Redis when REDIS_URL is set, else one
    per process."""
    if settings.REDIS_URL:
        return RedisRateBudget(_redis_for(settings.REDIS_URL), store_hash)
    with _local_lock:
        budget = _local_budgets.get(store_hash)
        if budget is None:
            budget = _local_budgets[store_hash] = RateBudget(store_hash)
        return budget
