"""Shared pieces for the client tests: a fake clock whose sleep moves time, and a client factory."""
import json

from plugin.bigcommerce.client import BigCommerceClient
from plugin.bigcommerce.ratelimit import RateBudget

BASE_URL = "https://api.bigcommerce.com"
STORE_HASH = "abc123"
TOKEN = "tok-Zq81-never-in-logs"
V2 = f"{BASE_URL}/stores/{STORE_HASH}/v2"
V3 = f"{BASE_URL}/stores/{STORE_HASH}/v3"


class FakeTime:
    """`clock` and `sleep` for a client: sleeping moves the clock, and every sleep is recorded."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def make_client(fake_time: FakeTime | None = None, **kwargs) -> BigCommerceClient:
    fake_time = fake_time or FakeTime()
    kwargs.setdefault("budget", RateBudget(STORE_HASH))
    return BigCommerceClient(base_url=BASE_URL + "/", store_hash=STORE_HASH, access_token=TOKEN,
                             sleep=fake_time.sleep, clock=fake_time.clock, **kwargs)


def rate_headers(left: int, reset_ms: int = 20000, quota: int = 150, window_ms: int = 30000) -> dict:
    return {
        "X-Rate-Limit-Requests-Left": str(left),
        "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
        "X-Rate-Limit-Requests-Quota": str(quota),
        "X-Rate-Limit-Time-Window-Ms": str(window_ms),
    }


def v3_page(data: list, page: int, total_pages: int, per_page: int, total: int | None = None) -> dict:
    return {
        "data": data,
        "meta": {"pagination": {
            "total": total if total is not None else per_page * total_pages,
            "count": len(data), "per_page": per_page, "current_page": page, "total_pages": total_pages,
            "links": {"current": f"?page={page}&limit={per_page}"},
        }},
    }


def sent_json(call) -> object:
    return json.loads(call.request.body)
