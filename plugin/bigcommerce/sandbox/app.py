"""Routing and handlers of the sandbox store: BigCommerce's own paths and shapes, plus /_sandbox/ actions.

`SandboxApp.handle(...)` is transport-free: it takes the parsed request and returns a `Reply`, so the
HTTP server (server.py) only adds rate limits and faults around it."""
from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

from .state import (
    DEFAULT_LOCATION_ID,
    ORDER_STATUSES,
    STOCK_CEILING,
    UPDATE_STOCK_BEHAVIORS,
    Order,
    Product,
    SandboxError,
    StoreState,
    Variant,
    sku_key,
)

JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
ERROR_DOCS = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


@dataclass
class Reply:
    status: int
    body: object = None  # JSON-serialisable, or None for an empty body
    content_type: str = JSON
    headers: dict = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":"), check_circular=False).encode()


class BadRequest(Exception):
    def __init__(self, status: int, message: str, errors: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}


# ----- formatting helpers ------------------------------------------------------------------------

def rfc2822(ts: float | None) -> str:
    if ts is None:
        return ""
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(ts))


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")


def money(value: float) -> str:
    return f"{value:.4f}"


def parse_when(text: str) -> float:
    """v2 date filters take RFC-2822 or ISO-8601; a date without zone is UTC."""
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            when = datetime.fromisoformat(text.strip().replace(" ", "+") if "T" in text else text.strip())
        except ValueError:
            raise BadRequest(400, f"The date '{text}' is not RFC-2822 or ISO-8601.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def int_param(query: dict, name: str, default: int | None = None, minimum: int | None = None) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(float(raw)) if "." in raw else int(raw)
    except ValueError:
        raise BadRequest(400 if name not in ("page", "limit") else 422,
                         f"The query parameter '{name}' must be an integer.", {name: "must be an integer"}) from None
    if minimum is not None and value < minimum:
        raise BadRequest(422, f"The query parameter '{name}' must be at least {minimum}.", {name: "too small"})
    return value


def int_list(query: dict, name: str) -> set[int] | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return {int(part) for part in raw.split(",") if part.strip()}
    except ValueError:
        raise BadRequest(422, f"The query parameter '{name}' must be a comma-separated list of integers.",
                         {name: "must be integers"}) from None


def sku_list(query: dict, name: str) -> set[str] | None:
    raw = query.get(name)
    if raw is None:
        return None
    return {sku_key(part.strip()) for part in raw.split(",") if part.strip()}


def page_window(query: dict, total: int, *, max_limit: int = 250) -> tuple[int, int, int]:
    page = int_param(query, "page", 1, minimum=1)
    limit = min(int_param(query, "limit", 50, minimum=1), max_limit)
    start = (page - 1) * limit
    return page, limit, start


def pagination_meta(query: dict, page: int, limit: int, total: int, count: int) -> dict:
    total_pages = max(1, math.ceil(total / limit)) if total else 0

    def link(number: int) -> str:
        params = {key: value for key, value in query.items() if key not in ("page", "limit")}
        params.update(page=number, limit=limit)
        return "?" + urlencode(params)

    links = {"current": link(page)}
    if page > 1:
        links["previous"] = link(page - 1)
    if page < total_pages:
        links["next"] = link(page + 1)
    return {"pagination": {"total": total, "count": count, "per_page": limit, "current_page": page,
                           "total_pages": total_pages, "links": links}}


# ----- the application ----------------------------------------------------------------------------

ROUTES: list[tuple[str, str, str]] = [
    # (method, path pattern after /stores/{hash}, handler name)
    ("GET", r"/v2/store", "store_info"),
    ("GET", r"/v2/time", "store_time"),
    ("GET", r"/v3/settings/inventory", "inventory_settings_get"),
    ("PUT", r"/v3/settings/inventory", "inventory_settings_put"),
    ("GET", r"/v3/catalog/products", "products_list"),
    ("PUT", r"/v3/catalog/products", "products_batch_put"),
    ("GET", r"/v3/catalog/products/(?P<product_id>\d+)", "product_get"),
    ("GET", r"/v3/catalog/products/(?P<product_id>\d+)/variants", "product_variants_list"),
    ("GET", r"/v3/catalog/variants", "variants_list"),
    ("PUT", r"/v3/catalog/variants", "variants_batch_put"),
    ("GET", r"/v3/inventory/items", "inventory_items"),
    ("GET", r"/v3/inventory/locations/(?P<location_id>\d+)/items", "location_items"),
    ("GET", r"/v3/inventory/locations", "locations_list"),
    ("PUT", r"/v3/inventory/adjustments/absolute", "adjust_absolute"),
    ("POST", r"/v3/inventory/adjustments/relative", "adjust_relative"),
    ("GET", r"/v3/hooks", "hooks_list"),
    ("POST", r"/v3/hooks", "hooks_create"),
    ("GET", r"/v3/hooks/(?P<hook_id>\d+)", "hook_get"),
    ("PUT", r"/v3/hooks/(?P<hook_id>\d+)", "hook_put"),
    ("DELETE", r"/v3/hooks/(?P<hook_id>\d+)", "hook_delete"),
    ("GET", r"/v2/orders", "orders_list"),
    ("GET", r"/v2/orders/count", "orders_count"),
    ("GET", r"/v2/orders/(?P<order_id>\d+)", "order_get"),
    ("PUT", r"/v2/orders/(?P<order_id>\d+)", "order_put"),
    ("GET", r"/v2/orders/(?P<order_id>\d+)/products", "order_products"),
    ("GET", r"/v2/orders/(?P<order_id>\d+)/shipping_addresses", "order_addresses"),
    ("GET", r"/v2/orders/(?P<order_id>\d+)/shipments", "shipments_list"),
    ("POST", r"/v2/orders/(?P<order_id>\d+)/shipments", "shipments_create"),
    ("GET", r"/v2/orders/(?P<order_id>\d+)/shipments/count", "shipments_count"),
    ("GET", r"/v2/order_statuses", "order_statuses"),
    ("GET", r"/v2/shipping/zones", "shipping_zones"),
    ("GET", r"/v2/shipping/zones/(?P<zone_id>\d+)/methods", "shipping_methods"),
]
COMPILED = [(method, re.compile(pattern + r"/?$"), name) for method, pattern, name in ROUTES]


class SandboxApp:
    def __init__(self, state: StoreState, *, store_hash: str, token: str):
        self.state = state
        self.store_hash = store_hash
        self.token = token
        self._item_cache: tuple[int, list] | None = None

    # ----- entry point ---------------------------------------------------------------------------
    def handle_store(self, method: str, rest: str, query: dict, body: bytes) -> Reply:
        """A request under /stores/{hash}; `rest` starts with /v2/ or /v3/ and auth was checked."""
        version = rest[1:3]
        allowed = []
        for route_method, pattern, name in COMPILED:
            match = pattern.match(rest)
            if match:
                if route_method == method:
                    try:
                        payload = self._json_body(body) if method in ("PUT", "POST") else None
                        with self.state.lock:
                            return getattr(self, name)(query=query, body=payload, **{
                                key: int(value) for key, value in match.groupdict().items()})
                    except BadRequest as exc:
                        return self.error(version, exc.status, exc.message, exc.errors, rest)
                    except SandboxError as exc:
                        return self.error(version, exc.status, exc.title, exc.errors, rest)
                allowed.append(route_method)
        if allowed:
            reply = self.error(version, 405, "The requested method is not allowed for this resource.", {}, rest)
            reply.headers["Allow"] = ", ".join(sorted(set(allowed)))
            return reply
        return self.error(version, 404, "The requested resource was not found.", {}, rest)

    @staticmethod
    def _json_body(body: bytes):
        if not body:
            raise BadRequest(400, "The request body is empty; a JSON document is expected.")
        try:
            return json.loads(body)
        except ValueError:
            raise BadRequest(400, "The request body is not valid JSON.") from None

    @staticmethod
    def error(version: str, status: int, message: str, errors: dict | None = None, path: str = "") -> Reply:
        if version == "v2":
            return Reply(status, [{"status": status, "message": message}])
        content_type = PROBLEM_JSON if path.startswith("/v3/inventory") else JSON
        body = {"status": status, "title": message, "type": ERROR_DOCS, "errors": errors or {}}
        if status != 422 and path.startswith("/v3/catalog"):
            del body["errors"]  # only the catalog's 422 bodies carry an errors map
        return Reply(status, body, content_type)

    # ----- store information ---------------------------------------------------------------------
    def store_info(self, query, body):
        info = self.state.store_info
        return Reply(200, {
            "id": self.store_hash, "account_uuid": "00000000-0000-4000-8000-000000000001",
            "domain": f"{self.store_hash}.example.com", "secure_url": f"https://{self.store_hash}.example.com",
            "control_panel_base_url": f"https://store-{self.store_hash}.example.com", "status": "live",
            "name": info["name"], "first_name": "Sandbox", "last_name": "Owner", "address": "1 Main St",
            "country": info["country"], "country_code": info["country_code"], "phone": "555-0100",
            "admin_email": "owner@example.com", "order_email": "orders@example.com", "favicon_url": "",
            "timezone": info["timezone"], "language": "en", "currency": info["currency"],
            "currency_symbol": "$", "decimal_separator": ".", "thousands_separator": ",", "decimal_places": 2,
            "currency_symbol_location": "left", "weight_units": "LBS", "dimension_units": "Inches",
            "dimension_decimal_places": 2, "dimension_decimal_token": ".", "dimension_thousands_token": ",",
            "plan_name": info["plan_name"], "plan_level": info["plan_name"], "plan_is_trial": False,
            "industry": "Retail", "logo": [], "is_price_entered_with_tax": False, "store_id": 1000001,
            "default_channel_id": 1, "default_site_id": 1000, "active_comparison_modules": [],
            "features": {"stencil_enabled": True, "sitewidehttps_enabled": True, "facebook_catalog_id": "",
                         "checkout_type": "optimized", "wishlists_enabled": False,
                         "graphql_storefront_api_enabled": True, "shopper_consent_tracking_enabled": False,
                         "multi_storefront_enabled": False,
                         "storefront_limits": {"active": 1, "total_including_inactive": 1}},
        })

    def store_time(self, query, body):
        return Reply(200, {"time": int(time.time())})

    # ----- settings ------------------------------------------------------------------------------
    SETTING_CHOICES = {
        "product_out_of_stock_behavior": ("do_nothing", "hide_product", "hide_product_and_accessible",
                                          "hide_product_and_redirect"),
        "option_out_of_stock_behavior": ("do_nothing", "hide_option", "label_option"),
        "update_stock_behavior": UPDATE_STOCK_BEHAVIORS,
        "stock_level_display": ("dont_show", "show", "show_when_low"),
    }

    def inventory_settings_get(self, query, body):
        channel_id = int_param(query, "channel_id", minimum=1)
        return Reply(200, {"data": self.state.effective_inventory_settings(channel_id), "meta": {}})

    def inventory_settings_put(self, query, body):
        """Without channel_id: the global settings. With it: that channel's override (merged over the
        global settings whenever the channel's orders move stock or the channel's settings are read)."""
        channel_id = int_param(query, "channel_id", minimum=1)
        if not isinstance(body, dict):
            raise BadRequest(422, "The request body must be an object.")
        current = self.state.inventory_settings
        errors = {}
        for name, value in body.items():
            if name not in current:
                errors[name] = "unknown setting"
            elif name in self.SETTING_CHOICES:
                if value not in self.SETTING_CHOICES[name]:
                    errors[name] = f"must be one of {', '.join(self.SETTING_CHOICES[name])}"
            elif isinstance(current[name], bool) != isinstance(value, bool) or (
                    isinstance(current[name], str) and not isinstance(value, str)):
                errors[name] = "has the wrong type"
        if errors:
            raise BadRequest(422, "The settings are not valid.", errors)
        return Reply(200, {"data": self.state.update_inventory_settings(body, channel_id), "meta": {}})

    # ----- catalog -------------------------------------------------------------------------------
    def variant_json(self, product: Product, variant: Variant, fields: set | None = None) -> dict:
        data = {
            "id": variant.id, "product_id": variant.product_id, "sku": variant.sku, "sku_id": variant.sku_id,
            "price": variant.price, "calculated_price": variant.price, "sale_price": None, "retail_price": None,
            "cost_price": 0.0, "weight": product.weight, "width": 0.0, "height": 0.0, "depth": 0.0,
            "is_free_shipping": False, "fixed_cost_shipping_price": 0.0, "purchasing_disabled": False,
            "purchasing_disabled_message": "", "upc": "",
            "inventory_level": self.state.variant_inventory_level(product, variant),
            "inventory_warning_level": product.inventory_warning_level if product.inventory_tracking == "variant" else 0,
            "bin_picking_number": "",
            "option_values": [
                {"id": value_id, "label": label, "option_id": option_id, "option_display_name": display_name}
                for option_id, value_id, display_name, label in variant.option_values
            ],
        }
        if fields:
            data = {key: value for key, value in data.items() if key in fields or key in ("id", "product_id")}
        return data

    def product_json(self, product: Product, *, with_variants: bool = False, fields: set | None = None) -> dict:
        data = {
            "id": product.id, "name": product.name, "type": "physical", "sku": product.sku, "description": "",
            "weight": product.weight, "width": 0, "depth": 0, "height": 0, "price": product.price,
            "cost_price": 0, "retail_price": 0, "sale_price": 0, "map_price": 0, "tax_class_id": 0,
            "product_tax_code": "", "calculated_price": product.price, "categories": [23], "brand_id": 0,
            "option_set_id": 0, "option_set_display": "right",
            "inventory_level": self.state.product_inventory_level(product),
            "inventory_warning_level": product.inventory_warning_level,
            "inventory_tracking": product.inventory_tracking, "reviews_rating_sum": 0, "reviews_count": 0,
            "total_sold": 0, "fixed_cost_shipping_price": 0, "is_free_shipping": False,
            "is_visible": product.is_visible, "is_featured": False, "related_products": [-1], "warranty": "",
            "bin_picking_number": "", "layout_file": "product.html", "upc": "", "mpn": "", "gtin": "",
            "date_last_imported": "", "search_keywords": "", "availability": "available",
            "availability_description": "", "gift_wrapping_options_type": "any", "gift_wrapping_options_list": [],
            "sort_order": 0, "condition": "New", "is_condition_shown": False, "order_quantity_minimum": 0,
            "order_quantity_maximum": 0, "page_title": "", "meta_keywords": [], "meta_description": "",
            "date_created": iso(product.date_created), "date_modified": iso(product.date_modified),
            "view_count": 0, "preorder_release_date": None, "preorder_message": "", "is_preorder_only": False,
            "is_price_hidden": False, "price_hidden_label": "",
            "custom_url": {"url": f"/product-{product.id}/", "is_customized": False},
            "base_variant_id": product.base_variant_id,
            "open_graph_type": "product", "open_graph_title": "", "open_graph_description": "",
            "open_graph_use_meta_description": True, "open_graph_use_product_name": True,
            "open_graph_use_image": True,
        }
        if product.base_variant_id is None:
            # the spec's base_variant_id is a non-null integer: BigCommerce leaves it out for products with options
            del data["base_variant_id"]
        if fields:
            data = {key: value for key, value in data.items() if key in fields or key == "id"}
        if with_variants:
            data["variants"] = [self.variant_json(product, self.state.variants[vid]) for vid in product.variant_ids]
        return data

    def _get_product(self, product_id: int) -> Product:
        product = self.state.products.get(product_id)
        if product is None:
            raise BadRequest(404, "The requested product was not found.")
        return product

    @staticmethod
    def _fields(query: dict) -> set | None:
        raw = query.get("include_fields")
        return {sku_key(part.strip()) for part in raw.split(",") if part.strip()} if raw else None

    def products_list(self, query, body):
        state = self.state
        ids = int_list(query, "id:in")
        single_id = int_param(query, "id")
        if single_id is not None:
            ids = (ids or {single_id}) & {single_id}
        skus = sku_list(query, "sku:in")
        if query.get("sku"):
            skus = {sku_key(query["sku"].strip())}
        tracking = query.get("inventory_tracking")
        min_modified = query.get("date_modified:min")
        since = parse_when(min_modified) if min_modified else None
        include = {part.strip() for part in query.get("include", "").split(",")}
        if ids is None and skus is None and tracking is None and since is None:
            candidates = state.product_order
            total = len(candidates)
            page, limit, start = page_window(query, total)
            chosen = [state.products[pid] for pid in candidates[start:start + limit]]
        else:
            if skus is not None:
                by_sku = set()
                for sku in skus:
                    found = state.sku_index.get(sku)
                    if found is not None:
                        by_sku.add(-found if found < 0 else state.variants[found].product_id)
                ids = by_sku if ids is None else ids & by_sku
            pool = sorted(ids) if ids is not None else state.product_order
            matches = [state.products[pid] for pid in pool if pid in state.products
                       and (tracking is None or state.products[pid].inventory_tracking == tracking)
                       and (since is None or state.products[pid].date_modified >= since)]
            total = len(matches)
            page, limit, start = page_window(query, total)
            chosen = matches[start:start + limit]
        fields = self._fields(query)
        data = [self.product_json(product, with_variants="variants" in include, fields=fields) for product in chosen]
        return Reply(200, {"data": data, "meta": pagination_meta(query, page, limit, total, len(data))})

    def product_get(self, query, body, product_id):
        product = self._get_product(product_id)
        include = {part.strip() for part in query.get("include", "").split(",")}
        return Reply(200, {"data": self.product_json(product, with_variants="variants" in include,
                                                     fields=self._fields(query)), "meta": {}})

    def product_variants_list(self, query, body, product_id):
        product = self._get_product(product_id)
        total = len(product.variant_ids)
        page, limit, start = page_window(query, total)
        fields = self._fields(query)
        data = [self.variant_json(product, self.state.variants[vid], fields)
                for vid in product.variant_ids[start:start + limit]]
        return Reply(200, {"data": data, "meta": pagination_meta(query, page, limit, total, len(data))})

    def variants_list(self, query, body):
        state = self.state
        product_ids = int_list(query, "product_id:in")
        single_id = int_param(query, "id")
        sku = query.get("sku")
        if product_ids is None and single_id is None and not sku:
            total = len(state.variant_order)
            page, limit, start = page_window(query, total)
            chosen = [state.variants[vid] for vid in state.variant_order[start:start + limit]]
        else:
            if single_id is not None:
                pool = [single_id] if single_id in state.variants else []
            elif sku:
                found = state.sku_index.get(sku_key(sku.strip()))
                pool = [found] if found is not None and found > 0 else []
            else:
                pool = [vid for pid in sorted(product_ids) if pid in state.products
                        for vid in state.products[pid].variant_ids]
            if product_ids is not None:
                pool = [vid for vid in pool if state.variants[vid].product_id in product_ids]
            total = len(pool)
            page, limit, start = page_window(query, total)
            chosen = [state.variants[vid] for vid in pool[start:start + limit]]
        fields = self._fields(query)
        data = [self.variant_json(state.products[variant.product_id], variant, fields) for variant in chosen]
        return Reply(200, {"data": data, "meta": pagination_meta(query, page, limit, total, len(data))})

    def _catalog_stock_write(self, product: Product, variant: Variant | None, level) -> None:
        """The catalog writes stock through the inventory side, at the default location, clamped."""
        if not isinstance(level, int) or isinstance(level, bool):
            raise BadRequest(422, "inventory_level must be an integer.")
        if product.inventory_tracking == "none":
            return
        key = self.state.stock_key(product, variant)
        self.state.stock[DEFAULT_LOCATION_ID][key] = max(0, min(level, STOCK_CEILING))

    def variants_batch_put(self, query, body):
        if not isinstance(body, list) or not body:
            raise BadRequest(422, "The request body must be a non-empty array of variants.")
        if len(body) > 50:
            raise BadRequest(413, "The maximum items allowed in the array is 50")
        state = self.state
        batch_errors = []
        for index, item in enumerate(body):
            variant = state.variants.get(item.get("id")) if isinstance(item, dict) else None
            if variant is None:
                batch_errors.append({"status": 422, "title": f"Variant at index {index} was not found.",
                                     "type": ERROR_DOCS, "errors": {f"{index}.id": "unknown variant id"}})
            elif "price" in item and not isinstance(item["price"], (int, float)):
                batch_errors.append({"status": 422, "title": "price must be a number.", "type": ERROR_DOCS,
                                     "errors": {f"{index}.price": "must be a number"}})
        if batch_errors:
            return Reply(422, {"batch_errors": batch_errors})
        data = []
        now = time.time()
        for item in body:
            variant = state.variants[item["id"]]
            product = state.products[variant.product_id]
            if "price" in item:
                variant.price = float(item["price"])
            if "inventory_level" in item:
                self._catalog_stock_write(product, variant, item["inventory_level"])
            product.date_modified = now
            data.append(self.variant_json(product, variant))
        return Reply(200, {"data": data, "meta": {}})

    def products_batch_put(self, query, body):
        if not isinstance(body, list) or not body:
            raise BadRequest(422, "The request body must be a non-empty array of products.")
        if len(body) > 10:
            raise BadRequest(413, "The maximum items allowed in the array is 10")
        state = self.state
        for index, item in enumerate(body):
            if not isinstance(item, dict) or item.get("id") not in state.products:
                raise BadRequest(404 if isinstance(item, dict) and "id" in item else 422,
                                 f"Product at index {index} was not found.", {f"{index}.id": "unknown product id"})
            if "inventory_tracking" in item and item["inventory_tracking"] not in ("none", "product", "variant"):
                raise BadRequest(422, "inventory_tracking is not valid.", {f"{index}.inventory_tracking": "invalid"})
        now = time.time()
        data = []
        for item in body:
            product = state.products[item["id"]]
            for name in ("name", "price", "inventory_warning_level", "is_visible"):
                if name in item:
                    setattr(product, name, item[name])
            if "inventory_tracking" in item and item["inventory_tracking"] != product.inventory_tracking:
                product.inventory_tracking = item["inventory_tracking"]
                state.catalog_version += 1
            if "inventory_level" in item and product.inventory_tracking == "product":
                self._catalog_stock_write(product, None, item["inventory_level"])
            product.date_modified = now
            data.append(self.product_json(product))
        return Reply(200, {"data": data, "meta": {}})

    # ----- inventory -----------------------------------------------------------------------------
    def _inventory_items(self) -> list[tuple[int, int]]:
        """(product id, stock key) for every tracked item in catalog order; rebuilt when the catalog changes."""
        state = self.state
        version = (id(state.products), state.catalog_version)
        if self._item_cache is None or self._item_cache[0] != version:
            items = [(pid, key) for pid in state.product_order for key in state.stock_keys(state.products[pid])]
            self._item_cache = (version, items)
        return self._item_cache[1]

    def _identity(self, product_id: int, key: int) -> dict:
        product = self.state.products[product_id]
        if key < 0:
            identity = {"sku": product.sku, "product_id": product.id}
            if product.base_variant_id is not None:
                identity["variant_id"] = product.base_variant_id
                identity["sku_id"] = self.state.variants[product.base_variant_id].sku_id
            return identity
        variant = self.state.variants[key]
        return {"sku": variant.sku, "variant_id": variant.id, "product_id": product.id, "sku_id": variant.sku_id}

    def _keys_for_variant(self, variant: Variant) -> int | None:
        """The stock key whose inventory item carries this variant in its identity, if any."""
        product = self.state.products[variant.product_id]
        if product.inventory_tracking == "variant":
            return variant.id
        if product.inventory_tracking == "product" and variant.id == product.base_variant_id:
            return -product.id
        return None

    def _filtered_items(self, query: dict) -> list[tuple[int, int]]:
        """Inventory items, narrowed by the sku:in / variant_id:in / product_id:in filters through the indexes."""
        items = self._inventory_items()
        skus = sku_list(query, "sku:in")
        variant_ids = int_list(query, "variant_id:in")
        product_ids = int_list(query, "product_id:in")
        if skus is None and variant_ids is None and product_ids is None:
            return items
        state = self.state
        wanted: set[int] | None = None
        if skus is not None:
            keys = set()
            for sku in skus:
                found = state.sku_index.get(sku)
                if found is not None and found < 0:
                    if state.products[-found].inventory_tracking == "product":
                        keys.add(found)
                elif found is not None:
                    keys.add(self._keys_for_variant(state.variants[found]))
            wanted = keys
        if variant_ids is not None:
            keys = {self._keys_for_variant(state.variants[vid]) for vid in variant_ids if vid in state.variants}
            wanted = keys if wanted is None else wanted & keys
        if product_ids is not None:
            keys = {key for pid in product_ids if pid in state.products for key in state.stock_keys(state.products[pid])}
            wanted = keys if wanted is None else wanted & keys
        wanted.discard(None)
        return [item for item in items if item[1] in wanted]

    @staticmethod
    def _location_stock(level: dict, key: int, warning_level: int) -> dict:
        on_hand = level.get(key, 0)
        return {"available_to_sell": on_hand, "total_inventory_onhand": on_hand,
                "settings": {"safety_stock": 0, "is_in_stock": on_hand > 0, "warning_level": warning_level,
                             "bin_picking_number": ""}}

    def inventory_items(self, query, body):
        state = self.state
        location_ids = int_list(query, "location_id:in")
        locations = [loc for loc_id, loc in sorted(state.locations.items())
                     if location_ids is None or loc_id in location_ids]
        items = self._filtered_items(query)
        total = len(items)
        page, limit, start = page_window(query, total, max_limit=1000)
        data = []
        for product_id, key in items[start:start + limit]:
            warning = state.products[product_id].inventory_warning_level
            entries = []
            for location in locations:
                entry = {"location_id": location.id, "location_code": location.code,
                         "location_name": location.label, "location_enabled": location.enabled}
                entry.update(self._location_stock(state.stock[location.id], key, warning))
                entries.append(entry)
            data.append({"identity": self._identity(product_id, key), "locations": entries})
        return Reply(200, {"data": data, "meta": pagination_meta(query, page, limit, total, len(data))})

    def location_items(self, query, body, location_id):
        state = self.state
        if location_id not in state.locations:
            raise BadRequest(404, f"Location with id {location_id} was not found.")
        items = self._filtered_items(query)
        total = len(items)
        page, limit, start = page_window(query, total, max_limit=1000)
        level = state.stock[location_id]
        data = []
        for product_id, key in items[start:start + limit]:
            identity = self._identity(product_id, key)
            identity.pop("sku_id", None)
            entry = {"identity": identity}
            entry.update(self._location_stock(level, key, state.products[product_id].inventory_warning_level))
            data.append(entry)
        return Reply(200, {"data": data, "meta": pagination_meta(query, page, limit, total, len(data))})

    def locations_list(self, query, body):
        state = self.state
        wanted = int_list(query, "location_id:in")
        chosen = [loc for loc_id, loc in sorted(state.locations.items()) if wanted is None or loc_id in wanted]
        if query.get("is_default") in ("true", "1"):
            chosen = [loc for loc in chosen if loc.id == DEFAULT_LOCATION_ID]
        total = len(chosen)
        page, limit, start = page_window(query, total)
        data = [{
            "id": loc.id, "code": loc.code, "label": loc.label, "description": "", "managed_by_external_source": False,
            "type_id": loc.type_id, "enabled": loc.enabled, "time_zone": loc.time_zone,
            "created_at": iso(1_767_225_600), "updated_at": iso(1_767_225_600), "storefront_visibility": True,
            "address": {"address1": f"{loc.id} Depot Rd", "address2": "", "city": "Austin", "state": "TX",
                        "zip": "78701", "email": "warehouse@example.com", "phone": "555-0199",
                        "geo_coordinates": {"latitude": 30.27, "longitude": -97.74}, "country_code": "US"},
            "operating_hours": {day: {"open": True, "opening": "08:00", "closing": "17:00"}
                                for day in ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
                                            "saturday")},
            "special_hours": [],
        } for loc in chosen[start:start + limit]]
        return Reply(200, {"data": data, "meta": pagination_meta(query, page, limit, total, len(data))})

    def _adjust(self, body, *, relative: bool) -> Reply:
        if not isinstance(body, dict):
            raise BadRequest(422, "The request body must be an object with items.")
        transaction_id = self.state.adjust_inventory(body.get("items"), relative=relative)
        return Reply(200, {"transaction_id": transaction_id})

    def adjust_absolute(self, query, body):
        return self._adjust(body, relative=False)

    def adjust_relative(self, query, body):
        return self._adjust(body, relative=True)

    # ----- webhooks ------------------------------------------------------------------------------
    def hook_json(self, hook) -> dict:
        return {"id": hook.id, "client_id": "sandbox", "store_hash": self.store_hash, "scope": hook.scope,
                "destination": hook.destination, "headers": hook.headers, "is_active": hook.is_active,
                "created_at": hook.created_at, "updated_at": hook.updated_at}

    def hooks_list(self, query, body):
        hooks = sorted(self.state.hooks.values(), key=lambda hook: hook.id)
        if query.get("scope"):
            hooks = [hook for hook in hooks if hook.scope == query["scope"]]
        total = len(hooks)
        page, limit, start = page_window(query, total)
        data = [self.hook_json(hook) for hook in hooks[start:start + limit]]
        return Reply(200, {"data": data, "meta": pagination_meta(query, page, limit, total, len(data))})

    def hooks_create(self, query, body):
        if not isinstance(body, dict):
            raise BadRequest(422, "The request body must be an object.")
        errors = {name: "is required" for name in ("scope", "destination") if not isinstance(body.get(name), str)}
        destination = body.get("destination") or ""
        if not errors and not destination.startswith("https://"):
            errors["destination"] = "must be an https URL"
        if errors:
            raise BadRequest(422, "The webhook is not valid.", errors)
        hook = self.state.create_hook(scope=body["scope"], destination=destination,
                                      is_active=bool(body.get("is_active", True)), headers=body.get("headers"))
        return Reply(200, {"data": self.hook_json(hook), "meta": {}})

    def _hook(self, hook_id: int):
        hook = self.state.hooks.get(hook_id)
        if hook is None:
            raise BadRequest(404, f"Webhook {hook_id} was not found.")
        return hook

    def hook_get(self, query, body, hook_id):
        return Reply(200, {"data": self.hook_json(self._hook(hook_id)), "meta": {}})

    def hook_put(self, query, body, hook_id):
        hook = self._hook(hook_id)
        if not isinstance(body, dict):
            raise BadRequest(422, "The request body must be an object.")
        for name in ("scope", "destination", "is_active", "headers"):
            if name in body:
                setattr(hook, name, body[name])
        hook.updated_at = int(time.time())
        return Reply(200, {"data": self.hook_json(hook), "meta": {}})

    def hook_delete(self, query, body, hook_id):
        hook = self._hook(hook_id)
        del self.state.hooks[hook_id]
        return Reply(200, {"data": self.hook_json(hook), "meta": {}})

    # ----- orders (v2) ---------------------------------------------------------------------------
    @staticmethod
    def _consignment_include(query: dict) -> str | None:
        """What `include` asks for on an order: None, "consignments" or "consignments.line_items".
        Only the object structure is served (the array structure is deprecated)."""
        includes = {part.strip() for part in query.get("include", "").split(",") if part.strip()}
        unknown = includes - {"consignments", "consignments.line_items"}
        if unknown:
            raise BadRequest(400, f"The include value(s) {', '.join(sorted(unknown))} are not supported.")
        wanted = ("consignments.line_items" if "consignments.line_items" in includes
                  else "consignments" if "consignments" in includes else None)
        structure = query.get("consignment_structure")
        if structure is not None and structure != "object":
            raise BadRequest(400, "The query parameter 'consignment_structure' must be 'object'.")
        if wanted and structure != "object":
            raise BadRequest(400, "The sandbox serves consignments only with consignment_structure=object.")
        return wanted

    def consignments_json(self, order: Order, *, with_lines: bool) -> dict:
        """An order's consignments in the object structure: one shipping consignment per shipping address
        (its id is the order address id) with its lines, either as full order products or as links."""
        base = f"https://api.bigcommerce.com/stores/{self.store_hash}/v2"
        shipping = []
        for address in order.addresses:
            lines = [line for line in order.products if line.order_address_id == address.id]
            if with_lines:
                line_items = [self.order_product_json(order, line) for line in lines]
            else:
                line_items = [{"url": f"{base}/orders/{order.id}/products/{line.id}",
                               "resource": f"/orders/{order.id}/products/{line.id}"} for line in lines]
            consignment = {"id": address.id}
            consignment.update(self.address_fields(address))
            quotes = f"/orders/{order.id}/consignments/shipping/{address.id}/shipping_quotes"
            consignment.update({
                "form_fields": [], "shipping_method": address.shipping_method, "line_items": line_items,
                "items_total": sum(line.quantity for line in lines),
                "items_shipped": sum(line.quantity_shipped for line in lines),
                "base_cost": 7.5, "cost_ex_tax": 7.5, "cost_inc_tax": 7.5, "cost_tax": 0, "cost_tax_class_id": 2,
                "base_handling_cost": 0, "handling_cost_ex_tax": 0, "handling_cost_inc_tax": 0,
                "handling_cost_tax": 0, "handling_cost_tax_class_id": 2, "shipping_zone_id": 1,
                "shipping_zone_name": "United States",
                "shipping_quotes": {"url": f"{base}{quotes}", "resource": quotes},
            })
            shipping.append(consignment)
        return {"pickups": [], "shipping": shipping, "downloads": [], "email": {"gift_certificates": []}}

    def order_json(self, order: Order, include: str | None = None) -> dict:
        data = self._order_json(order)
        if include:
            data["consignments"] = self.consignments_json(order, with_lines=include == "consignments.line_items")
        return data

    def _order_json(self, order: Order) -> dict:
        base = f"https://api.bigcommerce.com/stores/{self.store_hash}/v2/orders/{order.id}"
        subtotal = order.subtotal
        shipping = 7.5
        total = subtotal + shipping
        billing = order.addresses[0] if order.addresses else None
        return {
            "id": order.id, "customer_id": order.customer_id, "date_created": rfc2822(order.date_created),
            "date_modified": rfc2822(order.date_modified), "date_shipped": rfc2822(order.date_shipped),
            "status_id": order.status_id, "status": ORDER_STATUSES[order.status_id][0], "cart_id": "",
            "subtotal_ex_tax": money(subtotal), "subtotal_inc_tax": money(subtotal), "subtotal_tax": money(0),
            "base_shipping_cost": money(shipping), "shipping_cost_ex_tax": money(shipping),
            "shipping_cost_inc_tax": money(shipping), "shipping_cost_tax": money(0),
            "shipping_cost_tax_class_id": 2, "base_handling_cost": money(0), "handling_cost_ex_tax": money(0),
            "handling_cost_inc_tax": money(0), "handling_cost_tax": money(0), "handling_cost_tax_class_id": 2,
            "base_wrapping_cost": money(0), "wrapping_cost_ex_tax": money(0), "wrapping_cost_inc_tax": money(0),
            "wrapping_cost_tax": money(0), "wrapping_cost_tax_class_id": 3, "total_ex_tax": money(total),
            "total_inc_tax": money(total), "total_tax": money(0), "items_total": order.items_total,
            "items_shipped": order.items_shipped, "payment_method": "Credit Card", "payment_provider_id": "",
            "payment_status": "captured" if order.status_id not in (0, 1, 7) else "pending",
            "refunded_amount": money(0), "order_is_digital": False, "store_credit_amount": money(0),
            "gift_certificate_amount": money(0), "ip_address": "127.0.0.1", "ip_address_v6": "",
            "geoip_country": "United States", "geoip_country_iso2": "US", "currency_id": 1, "currency_code": "USD",
            "currency_exchange_rate": "1.0000000000", "default_currency_id": 1, "default_currency_code": "USD",
            "store_default_currency_code": "USD", "store_default_to_transactional_exchange_rate": "1.0000000000",
            "staff_notes": order.staff_notes, "customer_message": order.customer_message,
            "discount_amount": money(0), "coupon_discount": money(0), "shipping_address_count": len(order.addresses),
            "is_deleted": False, "ebay_order_id": "0", "is_email_opt_in": False, "order_source": "www",
            "channel_id": order.channel_id, "external_source": "", "external_id": "", "external_merchant_id": "",
            "tax_provider_id": "BasicTaxProvider", "customer_locale": "en", "external_order_id": "",
            "is_tax_inclusive_pricing": False,
            "billing_address": self.address_fields(billing) if billing else {"zip": ""},
            "products": {"url": f"{base}/products", "resource": f"/orders/{order.id}/products"},
            "shipping_addresses": {"url": f"{base}/shipping_addresses",
                                   "resource": f"/orders/{order.id}/shipping_addresses"},
            "coupons": {"url": f"{base}/coupons", "resource": f"/orders/{order.id}/coupons"},
        }

    @staticmethod
    def address_fields(address) -> dict:
        return {"first_name": address.first_name, "last_name": address.last_name, "company": address.company,
                "street_1": address.street_1, "street_2": address.street_2, "city": address.city,
                "state": address.state, "zip": address.zip, "country": address.country,
                "country_iso2": address.country_iso2, "phone": address.phone, "email": address.email}

    def _order_filter(self, query: dict):
        state = self.state
        status_id = int_param(query, "status_id")
        channel_id = int_param(query, "channel_id")
        min_id = int_param(query, "min_id")
        max_id = int_param(query, "max_id")
        bounds = {}
        for name in ("min_date_modified", "max_date_modified", "min_date_created", "max_date_created"):
            if query.get(name):
                bounds[name] = parse_when(query[name])
        matches = []
        for order_id in state.order_ids:
            order = state.orders[order_id]
            if status_id is not None and order.status_id != status_id:
                continue
            if channel_id is not None and order.channel_id != channel_id:
                continue
            if min_id is not None and order.id < min_id or max_id is not None and order.id > max_id:
                continue
            if "min_date_modified" in bounds and order.date_modified < bounds["min_date_modified"]:
                continue
            if "max_date_modified" in bounds and order.date_modified > bounds["max_date_modified"]:
                continue
            if "min_date_created" in bounds and order.date_created < bounds["min_date_created"]:
                continue
            if "max_date_created" in bounds and order.date_created > bounds["max_date_created"]:
                continue
            matches.append(order)
        return matches

    SORT_KEYS = {"id": lambda o: o.id, "date_created": lambda o: o.date_created,
                 "date_modified": lambda o: o.date_modified, "status_id": lambda o: o.status_id}

    def orders_list(self, query, body):
        include = self._consignment_include(query)
        matches = self._order_filter(query)
        sort = query.get("sort", "id:asc")
        field_name, _, direction = sort.partition(":")
        if field_name not in self.SORT_KEYS or direction not in ("", "asc", "desc"):
            raise BadRequest(400, f"The sort '{sort}' is not supported.")
        matches.sort(key=lambda o: (self.SORT_KEYS[field_name](o), o.id), reverse=direction == "desc")
        page, limit, start = page_window(query, len(matches))
        chosen = matches[start:start + limit]
        if not chosen:
            return Reply(204)
        return Reply(200, [self.order_json(order, include) for order in chosen])

    def orders_count(self, query, body):
        matches = self._order_filter(query)
        counts: dict[int, int] = {}
        for order in matches:
            counts[order.status_id] = counts.get(order.status_id, 0) + 1
        statuses = [dict(self._status_json(status_id), count=counts.get(status_id, 0), sort_order=status_id)
                    for status_id in sorted(ORDER_STATUSES)]
        return Reply(200, {"statuses": statuses, "count": len(matches)})

    def order_get(self, query, body, order_id):
        include = self._consignment_include(query)
        return Reply(200, self.order_json(self.state.get_order(order_id), include))

    # Fields an order update may carry; the sandbox acts on status_id, staff_notes and customer_message.
    ORDER_PUT_FIELDS = frozenset((
        "base_handling_cost base_shipping_cost base_wrapping_cost billing_address channel_id consignments "
        "customer_id customer_message date_created default_currency_code discount_amount order_source "
        "ebay_order_id external_id external_merchant_id external_source geoip_country geoip_country_iso2 "
        "handling_cost_ex_tax handling_cost_inc_tax ip_address ip_address_v6 items_shipped items_total "
        "order_is_digital payment_method payment_provider_id products refunded_amount shipping_cost_ex_tax "
        "shipping_cost_inc_tax staff_notes shipping_addresses status_id subtotal_ex_tax subtotal_inc_tax "
        "tax_provider_id customer_locale external_order_id total_ex_tax total_inc_tax wrapping_cost_ex_tax "
        "wrapping_cost_inc_tax fees").split())

    def order_put(self, query, body, order_id):
        order = self.state.get_order(order_id)
        if not isinstance(body, dict):
            raise BadRequest(400, "The request body must be an object.")
        unknown = sorted(set(body) - self.ORDER_PUT_FIELDS)
        if unknown:
            raise BadRequest(400, f"Unknown order field(s): {', '.join(unknown)}.")
        if "status_id" in body:
            if not isinstance(body["status_id"], int) or body["status_id"] not in ORDER_STATUSES:
                raise BadRequest(400, f"The field 'status_id' is invalid: {body['status_id']!r}.")
            self.state.set_order_status(order_id, body["status_id"])
        for name in ("staff_notes", "customer_message"):
            if name in body:
                setattr(order, name, str(body[name]))
                order.date_modified = time.time()
        return Reply(200, self.order_json(order))

    def _paged_array(self, query: dict, rows: list) -> Reply:
        page, limit, start = page_window(query, len(rows))
        chosen = rows[start:start + limit]
        if not chosen:
            return Reply(204)
        return Reply(200, chosen)

    def order_product_json(self, order: Order, line) -> dict:
        """One order line as GET /v2/orders/{id}/products shows it (also the consignments' line_items)."""
        total = line.price * line.quantity
        return {
            "id": line.id, "order_id": order.id, "product_id": line.product_id, "variant_id": line.variant_id,
            "order_address_id": line.order_address_id, "name": line.name, "name_customer": line.name,
            "name_merchant": line.name, "sku": line.sku, "upc": "", "type": "physical",
            "base_price": money(line.price), "price_ex_tax": money(line.price), "price_inc_tax": money(line.price),
            "price_tax": money(0), "base_total": money(total), "total_ex_tax": money(total),
            "total_inc_tax": money(total), "total_tax": money(0), "quantity": line.quantity,
            "base_cost_price": money(0), "cost_price_inc_tax": money(0), "cost_price_ex_tax": money(0),
            "cost_price_tax": money(0), "weight": 1, "width": "0", "height": "0", "depth": "0",
            "is_refunded": False, "quantity_refunded": 0, "refund_amount": money(0), "return_id": 0,
            "wrapping_id": 0, "wrapping_name": "", "base_wrapping_cost": money(0),
            "wrapping_cost_ex_tax": money(0), "wrapping_cost_inc_tax": money(0), "wrapping_cost_tax": money(0),
            "wrapping_message": "", "quantity_shipped": line.quantity_shipped, "event_name": None,
            "event_date": None, "fixed_shipping_cost": money(0), "ebay_item_id": "", "ebay_transaction_id": "",
            "option_set_id": None, "parent_order_product_id": None, "is_bundled_product": False,
            "bin_picking_number": "", "external_id": None, "brand": "", "applied_discounts": [],
            "configurable_fields": [], "gift_certificate_id": None, "discounted_total_inc_tax": money(total),
            "product_options": [
                {"id": index + 1, "option_id": option_id, "order_product_id": line.id,
                 "product_option_id": option_id, "display_name": name, "display_value": label,
                 "value": str(value_id), "type": "Multiple choice", "name": name, "display_style": "Rectangle",
                 "display_name_customer": name, "display_name_merchant": name,
                 "display_value_customer": label, "display_value_merchant": label}
                for index, (option_id, value_id, name, label) in enumerate(line.product_options)
            ],
        }

    def order_products(self, query, body, order_id):
        order = self.state.get_order(order_id)
        return self._paged_array(query, [self.order_product_json(order, line) for line in order.products])

    def order_addresses(self, query, body, order_id):
        order = self.state.get_order(order_id)
        rows = []
        for address in order.addresses:
            lines = [line for line in order.products if line.order_address_id == address.id]
            row = {"id": address.id, "order_id": order.id,
                   "items_total": sum(line.quantity for line in lines),
                   "items_shipped": sum(line.quantity_shipped for line in lines),
                   "shipping_method": address.shipping_method, "base_cost": money(7.5), "cost_ex_tax": money(7.5),
                   "cost_inc_tax": money(7.5), "cost_tax": money(0), "cost_tax_class_id": 2,
                   "base_handling_cost": money(0), "handling_cost_ex_tax": money(0),
                   "handling_cost_inc_tax": money(0), "handling_cost_tax": money(0),
                   "handling_cost_tax_class_id": 2, "shipping_zone_id": 1, "shipping_zone_name": "United States",
                   "form_fields": [],
                   "shipping_quotes": {"url": f"https://api.bigcommerce.com/stores/{self.store_hash}/v2/orders/"
                                              f"{order.id}/shipping_addresses/{address.id}/shipping_quotes",
                                       "resource": f"/orders/{order.id}/shipping_addresses/{address.id}/shipping_quotes"}}
            row.update(self.address_fields(address))
            rows.append(row)
        return self._paged_array(query, rows)

    def shipment_json(self, order: Order, shipment) -> dict:
        addresses = {address.id: address for address in order.addresses}
        address = addresses.get(shipment.order_address_id)
        billing = order.addresses[0] if order.addresses else None
        return {
            "id": shipment.id, "order_id": order.id, "customer_id": order.customer_id,
            "order_address_id": shipment.order_address_id, "date_created": rfc2822(shipment.date_created),
            "tracking_number": shipment.tracking_number, "merchant_shipping_cost": money(0),
            "shipping_method": shipment.shipping_method, "shipping_provider": shipment.shipping_provider,
            "shipping_provider_display_name": shipment.shipping_provider.upper(),
            "tracking_carrier": shipment.tracking_carrier, "tracking_link": shipment.tracking_link,
            "generated_tracking_link": shipment.tracking_link, "comments": shipment.comments,
            "billing_address": self.address_fields(billing) if billing else {"zip": ""},
            "shipping_address": self.address_fields(address) if address else {},
            "items": [{"order_product_id": line_id, "product_id": product_id, "quantity": quantity}
                      for line_id, product_id, quantity in shipment.items],
        }

    def shipments_list(self, query, body, order_id):
        order = self.state.get_order(order_id)
        return self._paged_array(query, [self.shipment_json(order, shipment) for shipment in order.shipments])

    def shipments_create(self, query, body, order_id):
        order = self.state.get_order(order_id)
        if not isinstance(body, dict):
            raise BadRequest(400, "The request body must be an object.")
        shipment = self.state.create_shipment(order_id, body)
        return Reply(201, self.shipment_json(order, shipment))

    def shipments_count(self, query, body, order_id):
        return Reply(200, {"count": len(self.state.get_order(order_id).shipments)})

    @staticmethod
    def _status_json(status_id: int) -> dict:
        name, description = ORDER_STATUSES[status_id]
        return {"id": status_id, "name": name, "system_label": name, "custom_label": name,
                "system_description": description}

    def order_statuses(self, query, body):
        return Reply(200, [self._status_json(status_id) for status_id in sorted(ORDER_STATUSES)])

    def shipping_zones(self, query, body):
        return Reply(200, self.state.shipping_zones)

    def shipping_methods(self, query, body, zone_id):
        if zone_id not in self.state.shipping_methods:
            raise BadRequest(404, "The requested resource was not found.")
        return Reply(200, self.state.shipping_methods[zone_id])
