"""BigCommerce's request quota: a fixed window per store, with the four X-Rate-Limit-* headers."""
from __future__ import annotations

import threading
import time

PLANS = {
    # plan: (requests per window, window in ms)
    "standard": (150, 30_000),
    "plus": (150, 30_000),
    "pro": (450, 30_000),
    "unlimited": (None, 30_000),
}
# What an unlimited store reports as its quota (it is still subject to infrastructure limits).
UNLIMITED_QUOTA = 1_000_000


class RateLimiter:
    def __init__(self, plan: str = "standard", *, quota: int | None = None, window_ms: int | None = None,
                 clock=time.monotonic):
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}; choose one of {', '.join(PLANS)}")
        plan_quota, plan_window = PLANS[plan]
        self.plan = plan
        self.unlimited = plan_quota is None and quota is None
        self.quota = quota or plan_quota or UNLIMITED_QUOTA
        self.window_ms = window_ms or plan_window
        self._clock = clock
        self._lock = threading.Lock()
        self._window_start = clock()
        self._used = 0
        self.refused = 0

    def _roll(self, now: float) -> None:
        if (now - self._window_start) * 1000 >= self.window_ms:
            self._window_start = now
            self._used = 0

    def take(self) -> tuple[bool, dict]:
        """Spend one request; return (allowed, headers)."""
        with self._lock:
            now = self._clock()
            self._roll(now)
            allowed = self.unlimited or self._used < self.quota
            if allowed:
                self._used += 1
            else:
                self.refused += 1
            return allowed, self._headers(now)

    def peek(self) -> dict:
        with self._lock:
            now = self._clock()
            self._roll(now)
            return self._headers(now)

    def _headers(self, now: float) -> dict:
        reset_ms = max(0, int(self.window_ms - (now - self._window_start) * 1000))
        left = self.quota if self.unlimited else max(0, self.quota - self._used)
        return {
            "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
            "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
            "X-Rate-Limit-Requests-Quota": str(self.quota),
            "X-Rate-Limit-Requests-Left": str(left),
        }

    def reset(self) -> None:
        with self._lock:
            self._window_start = self._clock()
            self._used = 0
