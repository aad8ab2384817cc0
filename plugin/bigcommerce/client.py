"""The one place that talks HTTP to a BigCommerce store (or the sandbox store: only the base URL differs).

It owns authentication, timeouts, paging, the shared rate budget, retries where repeating a request is
safe, BigCommerce's batch limits, and the translation of HTTP failures into `errors`' typed exceptions.
Log lines carry the method, path, status and elapsed time only; the access token never leaves the
session's headers."""
import datetime
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from .errors import (
    AuthError,
    BigCommerceError,
    ConnectionFailedError,
    NotFoundError,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
    TransientError,
    ValidationError,
)
from .ratelimit import RateBudget, rate_budget_for

logger = logging.getLogger(__name__)

USER_AGENT = "itbc/0.1 (IntelliTrack for BigCommerce)"

# BigCommerce's batch limits; none of them is in the OpenAPI files, so the client enforces them.
ADJUSTMENT_BATCH_SIZE = 2000
VARIANT_BATCH_SIZE = 50
PRODUCT_BATCH_SIZE = 10
V3_PAGE_LIMIT = 250
V2_PAGE_LIMIT = 250
INVENTORY_PAGE_LIMIT = 1000  # the inventory endpoints allow up to 1000 items a page
MAX_STOCK_LEVEL = 2_147_483_647
TRACKING_NUMBER_MAX = 50
COMMENTS_MAX = 65535

# Answers after which an idempotent request (every GET, the absolute stock set, the batch PUTs, the order
# status PUT, a hook DELETE) is sent again, with backoff, up to max_retries; BigCommerce applies nothing
# twice for those. A request that is not idempotent is never repeated after one of them.
RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})
# The query that makes an order carry its lines (GET /v2/orders and /v2/orders/{id}).
ORDER_LINES_INCLUDE = {"include": "consignments.line_items", "consignment_structure": "object"}
ITEM_IDENTIFIERS = ("sku", "variant_id", "product_id")
MAX_BUDGET_WAITS = 200  # a guard against a clock that never moves; each wait lasts until the window resets

_RATE_HEADERS = {
    "left": "X-Rate-Limit-Requests-Left",
    "reset_ms": "X-Rate-Limit-Time-Reset-Ms",
    "quota": "X-Rate-Limit-Requests-Quota",
    "window_ms": "X-Rate-Limit-Time-Window-Ms",
}


def _int_header(headers, name: str) -> int | None:
    # requests' headers are case-insensitive already; this also survives a plain dict in tests.
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name.lower():
                value = candidate
                break
    if value is None:
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _nothing_was_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the store: the connection itself failed."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(exc, requests.exceptions.ReadTimeout):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        return isinstance(reason, (NewConnectionError, ConnectTimeoutError))
    return False


def _query_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(str(_query_value(v)) for v in value)
    return value


def _query(filters: dict) -> dict:
    """Filters as BigCommerce spells them: `sku__in=[...]` becomes `sku:in=a,b`, booleans lower-case."""
    params = {}
    for key, value in filters.items():
        if value is None:
            continue
        if key.endswith("__in"):
            key = key[:-4] + ":in"
        params[key] = _query_value(value)
    return params


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _error_detail(payload) -> tuple[str, dict]:
    """BigCommerce's explanation and errors map from any of its error shapes (v3 object, v3 batch,
    v2 array)."""
    if isinstance(payload, list):
        messages = [str(e.get("message") or e.get("title") or "") for e in payload if isinstance(e, dict)]
        return "; ".join(m for m in messages if m), {str(index): m for index, m in enumerate(messages)}
    if isinstance(payload, dict):
        if "batch_errors" in payload:
            batch = payload.get("batch_errors") or []
            titles = [str(e.get("title", "")) for e in batch if isinstance(e, dict)]
            return "; ".join(t for t in titles if t) or "batch refused", {"batch_errors": batch}
        errors = payload.get("errors")
        title = str(payload.get("title") or payload.get("message") or payload.get("detail") or "")
        if isinstance(errors, dict):
            return title, errors
        if isinstance(errors, list):
            return title, {str(i): e for i, e in enumerate(errors)}
        return title, {}
    return "", {}


def order_line_items(order: dict) -> list[dict]:
    """Every order product an order fetched with `include_lines=True` carries, from all its consignments
    (shipping, pickups, downloads, gift certificates), in consignment order. Links (`{"url", "resource"}`)
    are skipped. An order fetched without `include_lines` has no consignments: the answer is []."""
    consignments = order.get("consignments")
    if not isinstance(consignments, dict):
        return []
    groups = [consignments.get("shipping"), consignments.get("pickups"), consignments.get("downloads"),
              (consignments.get("email") or {}).get("gift_certificates")]
    lines: list[dict] = []
    for group in groups:
        for consignment in group or []:
            items = consignment.get("line_items") if isinstance(consignment, dict) else None
            if isinstance(items, dict):  # a single link where the spec's example shows one
                items = [items]
            lines.extend(item for item in items or [] if isinstance(item, dict) and "id" in item)
    return lines


class BigCommerceClient:
    """A BigCommerce store's REST API (v2 and v3) for one store hash.

    `budget` is the store's shared `RateBudget`; without one the client keeps a private budget.
    `sleep` and `clock` (seconds, like `time.sleep` / `time.time`) are injectable so tests never wait."""

    def __init__(self, *, base_url: str, store_hash: str, access_token: str, budget: RateBudget | None = None,
                 timeout=(5, 30), max_retries: int = 4, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
                 max_rate_limit_waits: int = 5, backoff_base: float = 0.5, backoff_cap: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.store_hash = store_hash
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_rate_limit_waits = max_rate_limit_waits
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.budget = budget if budget is not None else RateBudget(store_hash)
        self._sleep = sleep
        self._clock = clock
        self._token = str(access_token or "")
        # f"{method} {path}" (path after /stores/{hash}, ids kept, no query) -> attempts the store received:
        # every attempt answered with any status (429 and 5xx included) plus every attempt whose answer was
        # lost after sending (they may have reached the store; `requests_unanswered` counts those alone).
        # An attempt that never connected is not counted. Diff copies around a job to count its requests.
        self.requests_received: Counter = Counter()
        self.requests_unanswered: Counter = Counter()
        self._count_lock = threading.Lock()
        self._session = session or requests.Session()
        self._session.headers.update({
            "X-Auth-Token": self._token,
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        })

    def __repr__(self):
        return f"<BigCommerceClient {self.base_url} store={self.store_hash}>"

    # ----------------------------------------------------------------------------------------- HTTP core

    def url(self, api: str, path: str) -> str:
        return f"{self.base_url}/stores/{self.store_hash}/{api}{path}"

    def _count(self, key: str, *, answered: bool) -> None:
        with self._count_lock:
            self.requests_received[key] += 1
            if not answered:
                self.requests_unanswered[key] += 1

    def received(self, method: str, path: str) -> int:
        """How many `method` requests to `path` (e.g. "/v3/inventory/adjustments/absolute") the store
        received from this client so far, attempts included."""
        return self.requests_received[f"{method.upper()} {path}"]

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "********") if self._token else text

    def _wait_for_budget(self) -> None:
        for _ in range(MAX_BUDGET_WAITS):
            grant = self.budget.acquire(self._now_ms())
            if grant.wait_ms > 0:
                self._sleep(grant.wait_ms / 1000)
            if grant.granted:
                return
        raise RateLimitedError(f"The request budget of store {self.store_hash} never freed up.")

    def _record_rate_headers(self, response: requests.Response) -> tuple[int | None, int | None]:
        values = {name: _int_header(response.headers, header) for name, header in _RATE_HEADERS.items()}
        if values["left"] is not None and values["reset_ms"] is not None:
            self.budget.record(self._now_ms(), left=values["left"], reset_ms=values["reset_ms"],
                               quota=values["quota"], window_ms=values["window_ms"])
        return values["left"], values["reset_ms"]

    def _request(self, method: str, api: str, path: str, *, params: dict | None = None, body=None,
                 idempotent: bool) -> tuple[int, object]:
        """Send one request with waits and retries; return (status, parsed JSON or None)."""
        url = self.url(api, path)
        log_path = urlsplit(url).path
        count_key = f"{method} /{api}{path}"
        attempt = 0
        rate_limit_waits = 0
        # Whether an earlier try of this request may have been carried out although its answer was lost.
        maybe_applied = False
        while True:
            self._wait_for_budget()
            started = time.monotonic()
            try:
                response = self._session.request(method, url, params=params, json=body, timeout=self.timeout)
            except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                    requests.exceptions.InvalidSchema):
                # A malformed base URL never gets better by waiting.
                raise ConnectionFailedError(f"The store's API base URL {self.base_url!r} is not a valid URL.",
                                            method=method, path=log_path) from None
            except requests.RequestException as exc:
                elapsed_ms = int((time.monotonic() - started) * 1000)
                unsent = _nothing_was_sent(exc)
                if not unsent:
                    self._count(count_key, answered=False)
                logger.warning("%s %s failed (%s) after %dms", method, log_path, type(exc).__name__, elapsed_ms)
                if (unsent or idempotent) and attempt < self.max_retries:
                    attempt += 1
                    maybe_applied = maybe_applied or not unsent
                    self._sleep(self._backoff(attempt))
                    continue
                what = f"{method} {log_path}"
                if unsent:
                    raise ConnectionFailedError(
                        f"Could not connect to the store at {self.base_url} ({type(exc).__name__}).",
                        method=method, path=log_path) from None
                if idempotent:
                    raise TransientError(f"{what} got no answer ({type(exc).__name__}).",
                                         method=method, path=log_path) from None
                raise OutcomeUnknownError(
                    f"{what} was sent but no answer came back ({type(exc).__name__}); it may have been applied.",
                    method=method, path=log_path) from None

            elapsed_ms = int((time.monotonic() - started) * 1000)
            status = response.status_code
            self._count(count_key, answered=True)
            logger.debug("%s %s %s %dms", method, log_path, status, elapsed_ms)
            left, reset_ms = self._record_rate_headers(response)

            if status == 429:
                # BigCommerce applies nothing on a 429, so every method may wait and repeat.
                if rate_limit_waits >= self.max_rate_limit_waits:
                    raise RateLimitedError(f"{method} {log_path} was still rate limited after "
                                           f"{rate_limit_waits} waits.", status=429, method=method, path=log_path)
                rate_limit_waits += 1
                retry_after = _int_header(response.headers, "X-Retry-After")
                if reset_ms is None and retry_after is not None:
                    reset_ms = retry_after * 1000
                logger.warning("%s %s rate limited; waiting %sms", method, log_path, reset_ms)
                if reset_ms is not None:
                    self.budget.record(self._now_ms(), left=0, reset_ms=reset_ms, limited=True)
                else:
                    # A 429 without the headers means platform load: back off progressively.
                    self._sleep(min(60.0, 2.0 ** (rate_limit_waits - 1)))
                continue

            if status in RETRYABLE_STATUSES and idempotent and attempt < self.max_retries:
                attempt += 1
                maybe_applied = True
                logger.warning("%s %s %s; retry %d", method, log_path, status, attempt)
                self._sleep(self._backoff(attempt))
                continue

            payload = None
            if response.content and status != 204:
                try:
                    payload = response.json()
                except ValueError:
                    if status < 400:
                        if idempotent and attempt < self.max_retries:
                            attempt += 1
                            self._sleep(self._backoff(attempt))
                            continue
                        error_class = TransientError if idempotent else OutcomeUnknownError
                        raise error_class(f"{method} {log_path} answered {status} with a body that is not JSON.",
                                          status=status, method=method, path=log_path) from None
            if status == 404 and method == "DELETE" and maybe_applied:
                # An earlier try removed it and its answer was lost: what was asked for is done.
                logger.info("%s %s found nothing on a retry; counted as done", method, log_path)
                return status, None
            if status >= 400:
                raise self._error_for(status, payload, method=method, path=log_path, idempotent=idempotent)
            return status, payload

    def _error_for(self, status: int, payload, *, method: str, path: str, idempotent: bool) -> BigCommerceError:
        detail, errors = _error_detail(payload)
        message = self._redact(f"BigCommerce answered {status} to {method} {path}" + (f": {detail}" if detail else "."))
        if self._token and payload is not None and self._token in json.dumps(payload):
            payload = json.loads(self._redact(json.dumps(payload)))  # an echoed token stays out of the error
        common = {"status": status, "method": method, "path": path, "body": payload}
        if status in (401, 403):
            return AuthError(message, **common)
        if status == 404:
            return NotFoundError(message, **common)
        if status in (400, 413, 422):
            return ValidationError(message, errors=errors, **common)
        if status in (501, 507):
            return PermanentError(message, **common)
        if status >= 500:
            return TransientError(message, **common) if idempotent else OutcomeUnknownError(message, **common)
        return PermanentError(message, **common)

    def _get(self, api: str, path: str, params: dict | None = None):
        return self._request("GET", api, path, params=params, idempotent=True)[1]

    def _object(self, payload, method: str, api: str, path: str, *, member: str = "", kind=dict) -> dict:
        """`payload` (or its `member`) if it has the shape BigCommerce gives it; an empty answer is {}.
        Anything else comes from a server that is not BigCommerce, so retrying will not help."""
        if payload is None:
            return {}
        value = payload.get(member) if isinstance(payload, dict) and member else payload
        if not isinstance(payload, dict) or not isinstance(value, (kind, type(None))):
            where = urlsplit(self.url(api, path)).path
            raise PermanentError(
                f"{method} {where} did not answer a JSON object; is the API base URL a BigCommerce store?",
                method=method, path=where)
        return payload

    def _get_object(self, api: str, path: str, params: dict | None = None) -> dict:
        return self._object(self._get(api, path, params), "GET", api, path)

    # -------------------------------------------------------------------------------------------- paging

    def _iter_v3_pages(self, path: str, params: dict, limit: int) -> Iterator[list[dict]]:
        page = 1
        while True:
            payload = self._object(self._get("v3", path, {**params, "page": page, "limit": limit}),
                                   "GET", "v3", path, member="data", kind=list)
            data = payload.get("data") or []
            if data:
                yield data
            pagination = (payload.get("meta") or {}).get("pagination") or {}
            total_pages = pagination.get("total_pages")
            if not data:
                return
            if total_pages is not None:
                if page >= int(total_pages):
                    return
            elif len(data) < limit:
                return
            page += 1

    def _iter_v2_pages(self, path: str, params: dict, limit: int) -> Iterator[list[dict]]:
        page = 1
        while True:
            payload = self._get("v2", path, {**params, "page": page, "limit": limit})
            # v2 answers an empty collection with 204 (no body) or an empty array.
            rows = payload if isinstance(payload, list) else []
            if rows:
                yield rows
            if len(rows) < limit:
                return
            page += 1

    def _collect(self, pages: Iterable[list[dict]]) -> list[dict]:
        rows: list[dict] = []
        for page in pages:
            rows.extend(page)
        return rows

    # ----------------------------------------------------------------------------------- store, settings

    def get_store(self) -> dict:
        return self._get_object("v2", "/store")

    def get_time(self) -> dict:
        return self._get_object("v2", "/time")

    def get_inventory_settings(self, *, channel_id: int | None = None) -> dict:
        params = {"channel_id": channel_id} if channel_id is not None else None
        payload = self._get("v3", "/settings/inventory", params)
        return self._object(payload, "GET", "v3", "/settings/inventory", member="data").get("data") or {}

    # ------------------------------------------------------------------------------------ catalog, stock

    def iter_product_pages(self, *, include_variants: bool = True, limit: int = V3_PAGE_LIMIT,
                           **filters) -> Iterator[list[dict]]:
        params = _query(filters)
        if include_variants:
            includes = [part for part in str(params.get("include", "")).split(",") if part]
            if "variants" not in includes:
                includes.append("variants")
            params["include"] = ",".join(includes)
        return self._iter_v3_pages("/catalog/products", params, limit)

    def iter_variant_pages(self, *, limit: int = V3_PAGE_LIMIT, **filters) -> Iterator[list[dict]]:
        return self._iter_v3_pages("/catalog/variants", _query(filters), limit)

    def iter_inventory_item_pages(self, *, location_id: int | None = None, limit: int = INVENTORY_PAGE_LIMIT,
                                  **filters) -> Iterator[list[dict]]:
        path = "/inventory/items" if location_id is None else f"/inventory/locations/{int(location_id)}/items"
        return self._iter_v3_pages(path, _query(filters), limit)

    def list_locations(self, **filters) -> list[dict]:
        return self._collect(self._iter_v3_pages("/inventory/locations", _query(filters), V3_PAGE_LIMIT))

    @staticmethod
    def _check_adjustment_items(items: list[dict], *, absolute: bool) -> None:
        errors = {}
        for index, item in enumerate(items):
            identifiers = [key for key in ITEM_IDENTIFIERS if item.get(key) not in (None, "")]
            if len(identifiers) != 1:
                errors[f"items[{index}]"] = "needs exactly one of sku, variant_id or product_id"
            if not isinstance(item.get("location_id"), int) or isinstance(item.get("location_id"), bool):
                errors[f"items[{index}].location_id"] = "must be an integer"
            quantity = item.get("quantity")
            if not isinstance(quantity, int) or isinstance(quantity, bool):
                errors[f"items[{index}].quantity"] = "must be an integer"
            elif absolute and not 0 <= quantity <= MAX_STOCK_LEVEL:
                errors[f"items[{index}].quantity"] = f"must be between 0 and {MAX_STOCK_LEVEL}"
            elif abs(quantity) > MAX_STOCK_LEVEL:
                errors[f"items[{index}].quantity"] = f"must not exceed {MAX_STOCK_LEVEL}"
        if errors:
            raise ValidationError("Adjustment items refused before sending.", errors=errors)

    def _adjust(self, method: str, path: str, items: list[dict], reason: str, *, idempotent: bool) -> list[str]:
        transaction_ids: list[str] = []
        for index, chunk in enumerate(_chunks(list(items), ADJUSTMENT_BATCH_SIZE)):
            body = {"items": chunk}
            if reason:
                body["reason"] = reason
            try:
                _, payload = self._request(method, "v3", path, body=body, idempotent=idempotent)
            except BigCommerceError as exc:
                exc.completed = list(transaction_ids)
                exc.chunk_index = index
                raise
            transaction_ids.append(str((payload or {}).get("transaction_id", "")))
        return transaction_ids

    def adjust_absolute(self, items: list[dict], *, reason: str = "") -> list[str]:
        """Set stock levels; one transaction id per chunk of 2000 items (chunk k = items[2000k:2000k+2000]).
        Setting a level twice is harmless, so failed sends are retried."""
        self._check_adjustment_items(items, absolute=True)
        return self._adjust("PUT", "/inventory/adjustments/absolute", items, reason, idempotent=True)

    def adjust_relative(self, items: list[dict], *, reason: str = "") -> list[str]:
        """Add to or take from stock levels. Never repeated after it may have been applied: an unknown
        outcome raises OutcomeUnknownError with the transaction ids of the chunks before it."""
        self._check_adjustment_items(items, absolute=False)
        return self._adjust("POST", "/inventory/adjustments/relative", items, reason, idempotent=False)

    def _batch_put(self, path: str, records: list[dict], size: int) -> list[dict]:
        updated: list[dict] = []
        for index, chunk in enumerate(_chunks(list(records), size)):
            try:
                _, payload = self._request("PUT", "v3", path, body=chunk, idempotent=True)
            except BigCommerceError as exc:
                exc.completed = list(updated)
                exc.chunk_index = index
                raise
            updated.extend((payload or {}).get("data") or [])
        return updated

    def update_variants(self, variants: list[dict]) -> list[dict]:
        """Batch-update variants (each needs its `id`), 50 a request. Returns the updated variants."""
        missing = {f"[{i}].id": "required" for i, v in enumerate(variants) if not v.get("id")}
        if missing:
            raise ValidationError("Variants refused before sending.", errors=missing)
        return self._batch_put("/catalog/variants", variants, VARIANT_BATCH_SIZE)

    def update_products(self, products: list[dict]) -> list[dict]:
        """Batch-update products (each needs its `id`), 10 a request. Returns the updated products."""
        missing = {f"[{i}].id": "required" for i, p in enumerate(products) if not p.get("id")}
        if missing:
            raise ValidationError("Products refused before sending.", errors=missing)
        return self._batch_put("/catalog/products", products, PRODUCT_BATCH_SIZE)

    # -------------------------------------------------------------------------------------------- orders

    def iter_order_pages(self, *, include_lines: bool = False, limit: int = V2_PAGE_LIMIT,
                         **filters) -> Iterator[list[dict]]:
        """Pages of orders. With `include_lines`, each order carries `consignments` (object structure):
        `{"pickups": [...], "shipping": [{"id": order address id, ..., "line_items": [order products]}],
        "downloads": [...], "email": {"gift_certificates": [...]}}`; `order_line_items(order)` flattens it."""
        params = _query(filters)
        if include_lines:
            params.update(ORDER_LINES_INCLUDE)
        return self._iter_v2_pages("/orders", params, limit)

    def get_order(self, order_id, *, include_lines: bool = False) -> dict:
        """One order; with `include_lines` it carries its lines in `consignments` as `iter_order_pages`."""
        return self._get_object("v2", f"/orders/{int(order_id)}", dict(ORDER_LINES_INCLUDE) if include_lines else None)

    def get_orders_count(self, **filters) -> int:
        payload = self._get_object("v2", "/orders/count", _query(filters))
        return int(payload.get("count") or 0)

    def get_order_counts_by_status(self, **filters) -> dict[int, int]:
        """{status id: orders} for the filters, from one request (the count endpoint lists every status)."""
        payload = self._get_object("v2", "/orders/count", _query(filters))
        counts = {}
        for status in payload.get("statuses") or []:
            if isinstance(status, dict) and status.get("id") is not None:
                counts[int(status["id"])] = int(status.get("count") or 0)
        return counts

    def list_order_products(self, order_id) -> list[dict]:
        return self._collect(self._iter_v2_pages(f"/orders/{int(order_id)}/products", {}, V2_PAGE_LIMIT))

    def list_order_shipping_addresses(self, order_id) -> list[dict]:
        return self._collect(
            self._iter_v2_pages(f"/orders/{int(order_id)}/shipping_addresses", {}, V2_PAGE_LIMIT)
        )

    def list_order_shipments(self, order_id) -> list[dict]:
        return self._collect(self._iter_v2_pages(f"/orders/{int(order_id)}/shipments", {}, V2_PAGE_LIMIT))

    def create_shipment(self, order_id, *, order_address_id: int, items: list[dict], tracking_number: str = "",
                        shipping_provider: str = "", tracking_carrier: str = "", comments: str = "",
                        tracking_link: str = "", shipping_method: str = "") -> dict:
        """Create one shipment. The spec marks nothing required, so the client checks the fields itself.
        Never repeated after it may have been applied: read `list_order_shipments` before sending again."""
        errors = {}
        if not isinstance(order_address_id, int) or isinstance(order_address_id, bool) or order_address_id <= 0:
            errors["order_address_id"] = "required, a positive integer"
        if not items:
            errors["items"] = "required, at least one item"
        for index, item in enumerate(items or []):
            for field in ("order_product_id", "quantity"):
                value = item.get(field)
                if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                    errors[f"items[{index}].{field}"] = "required, a positive integer"
        if len(tracking_number) > TRACKING_NUMBER_MAX:
            errors["tracking_number"] = f"at most {TRACKING_NUMBER_MAX} characters"
        if len(tracking_link) > 500:
            errors["tracking_link"] = "at most 500 characters"
        if len(comments) > COMMENTS_MAX:
            errors["comments"] = f"at most {COMMENTS_MAX} characters"
        if errors:
            raise ValidationError("Shipment refused before sending.", errors=errors)
        body = {
            "order_address_id": order_address_id,
            "items": [{"order_product_id": i["order_product_id"], "quantity": i["quantity"]} for i in items],
        }
        optional = {"tracking_number": tracking_number, "shipping_provider": shipping_provider,
                    "tracking_carrier": tracking_carrier, "comments": comments,
                    "tracking_link": tracking_link, "shipping_method": shipping_method}
        body.update({key: value for key, value in optional.items() if value})
        return self._request("POST", "v2", f"/orders/{int(order_id)}/shipments", body=body, idempotent=False)[1] or {}

    def update_order_status(self, order_id, status_id: int) -> dict:
        return self._request("PUT", "v2", f"/orders/{int(order_id)}", body={"status_id": int(status_id)},
                             idempotent=True)[1] or {}

    def list_order_statuses(self) -> list[dict]:
        return self._get("v2", "/order_statuses") or []

    # ------------------------------------------------------------------------------------------ shipping

    def list_shipping_zones(self) -> list[dict]:
        return self._get("v2", "/shipping/zones") or []

    def list_shipping_methods(self, zone_id) -> list[dict]:
        return self._get("v2", f"/shipping/zones/{int(zone_id)}/methods") or []

    # ------------------------------------------------------------------------------------------ webhooks

    def list_hooks(self, **filters) -> list[dict]:
        return self._collect(self._iter_v3_pages("/hooks", _query(filters), V3_PAGE_LIMIT))

    def create_hook(self, *, scope: str, destination: str, is_active: bool = True,
                    headers: dict[str, str] | None = None) -> dict:
        body = {"scope": scope, "destination": destination, "is_active": is_active}
        if headers:
            body["headers"] = headers
        payload = self._request("POST", "v3", "/hooks", body=body, idempotent=False)[1] or {}
        return payload.get("data") or {}

    def delete_hook(self, hook_id) -> dict:
        payload = self._request("DELETE", "v3", f"/hooks/{int(hook_id)}", idempotent=True)[1] or {}
        return payload.get("data") or {}


def client_for_store(store, **kwargs) -> BigCommerceClient:
    """A client for a `StoreConnection`, sharing the store's rate budget with every other worker. A saved
    API base URL that the URL rule refuses (saved before the rule, or written around the forms) never
    gets the token: PermanentError before any request."""
    from plugin.configuration.urlpolicy import api_base_url_problem

    problem = api_base_url_problem(store.api_base_url)
    if problem:
        raise PermanentError(f"The access token is not sent to {store.api_base_url!r}: {problem}")
    return BigCommerceClient(
        base_url=store.api_base_url,
        store_hash=store.store_hash,
        access_token=str(store.access_token or ""),
        budget=rate_budget_for(store.store_hash),
        **kwargs,
    )


