"""The sandbox store's data and the business rules that change it.

Pure Python (no Django), guarded by one lock, so a server thread, a test and a benchmark can share it.
Records use __slots__ so 100,000 SKUs stay small; stock lives in one dict per location keyed by the
stock key of an item (see `Product.stock_key`)."""
from __future__ import annotations

import json
import os
import threading
import time
import uuid
from dataclasses import dataclass, field

DEFAULT_LOCATION_ID = 1
STOCK_CEILING = 2_147_483_647

ORDER_STATUSES = {
    0: ("Incomplete", "An incomplete order happens when a shopper reached the payment page, but did not complete."),
    1: ("Pending", "Customer started the checkout process, but did not complete it."),
    2: ("Shipped", "Order has been shipped, but receipt has not been confirmed."),
    3: ("Partially Shipped", "Only some items in the order have been shipped."),
    4: ("Refunded", "Seller has used the Refund action."),
    5: ("Cancelled", "Seller has cancelled an order."),
    6: ("Declined", "Seller has marked the order as declined."),
    7: ("Awaiting Payment", "Customer has completed checkout, but payment has yet to be confirmed."),
    8: ("Awaiting Pickup", "Order has been pulled, and is awaiting customer pickup."),
    9: ("Awaiting Shipment", "Order has been pulled and packaged, and is awaiting collection from a shipping provider."),
    10: ("Completed", "Client has paid for their digital product and their file(s) are available for download."),
    11: ("Awaiting Fulfillment", "Customer has completed the checkout process and payment has been confirmed."),
    12: ("Manual Verification Required", "Order on hold while some aspect needs to be manually confirmed."),
    13: ("Disputed", "Customer has initiated a dispute resolution process for the PayPal transaction."),
    14: ("Partially Refunded", "Seller has partially refunded the order."),
}
# Statuses that give the stock back when the store's refund setting says so (Refunded, Cancelled, Declined);
# an order placed in one of them, or as Incomplete (0), takes nothing.
RESTOCK_STATUSES = frozenset({4, 5, 6})
# Statuses that close an order as delivered: moving to one takes whatever the store has not taken yet.
CLOSED_STATUSES = frozenset({2, 10})
DEFAULT_CHANNEL_ID = 1
UPDATE_STOCK_BEHAVIORS = ("order_placed", "order_completed_or_shipped")


def sku_key(sku: str) -> str:
    """SKUs are unique regardless of case. Upper case, reusing the string when it already is (most SKUs
    are), so the index does not hold a second copy of every SKU."""
    folded = sku.upper()
    return sku if folded == sku else folded


class SandboxError(Exception):
    """A request the store refuses: `status` is the HTTP status, `errors` maps a field to its reason."""

    def __init__(self, status: int, title: str, errors: dict | None = None):
        super().__init__(title)
        self.status = status
        self.title = title
        self.errors = errors or {}


@dataclass(slots=True)
class Variant:
    id: int
    product_id: int
    sku: str
    sku_id: int
    price: float
    # ((option_id, option_value_id, option_display_name, label), ...); empty for a base variant
    option_values: tuple = ()


@dataclass(slots=True)
class Product:
    id: int
    name: str
    sku: str
    price: float
    weight: float
    inventory_tracking: str  # none | product | variant
    inventory_warning_level: int
    date_created: float
    date_modified: float
    base_variant_id: int | None  # None when the product has options: then every variant is an option combination
    variant_ids: list
    # ((option_id, display_name, ((value_id, label), ...)), ...)
    options: tuple = ()
    is_visible: bool = True

    @property
    def has_options(self) -> bool:
        return self.base_variant_id is None


@dataclass(slots=True)
class OrderProduct:
    id: int
    order_id: int
    product_id: int
    variant_id: int
    order_address_id: int
    name: str
    sku: str
    quantity: int
    price: float
    quantity_shipped: int = 0
    # how much of this line the store has taken off its stock so far
    quantity_deducted: int = 0
    product_options: tuple = ()  # ((option_id, value_id, display_name, label), ...)


@dataclass(slots=True)
class ShippingAddress:
    id: int
    order_id: int
    first_name: str
    last_name: str
    street_1: str
    city: str
    state: str
    zip: str
    country: str
    country_iso2: str
    email: str
    phone: str
    shipping_method: str = "Flat Rate"
    company: str = ""
    street_2: str = ""


@dataclass(slots=True)
class Shipment:
    id: int
    order_id: int
    order_address_id: int
    date_created: float
    items: tuple  # ((order_product_id, product_id, quantity), ...)
    tracking_number: str = ""
    tracking_link: str = ""
    shipping_provider: str = ""
    tracking_carrier: str = ""
    shipping_method: str = ""
    comments: str = ""


@dataclass(slots=True)
class Order:
    id: int
    customer_id: int
    status_id: int
    date_created: float
    date_modified: float
    products: list
    addresses: list
    shipments: list = field(default_factory=list)
    date_shipped: float | None = None
    staff_notes: str = ""
    customer_message: str = ""
    channel_id: int = DEFAULT_CHANNEL_ID

    @property
    def items_total(self) -> int:
        return sum(line.quantity for line in self.products)

    @property
    def items_shipped(self) -> int:
        return sum(line.quantity_shipped for line in self.products)

    @property
    def subtotal(self) -> float:
        return sum(line.price * line.quantity for line in self.products)


@dataclass(slots=True)
class Location:
    id: int
    code: str
    label: str
    enabled: bool = True
    type_id: str = "PHYSICAL"
    time_zone: str = "America/Chicago"


@dataclass(slots=True)
class Hook:
    id: int
    scope: str
    destination: str
    is_active: bool
    headers: dict | None
    created_at: int
    updated_at: int


def default_inventory_settings() -> dict:
    return {
        "product_out_of_stock_behavior": "do_nothing",
        "option_out_of_stock_behavior": "do_nothing",
        "update_stock_behavior": "order_placed",
        "edit_order_stock_adjustment": True,
        "refund_order_stock_adjustment": True,
        "stock_level_display": "dont_show",
        "default_out_of_stock_message": "",
        "hide_in_product_filtering": False,
        "show_pre_order_stock_levels": False,
        "show_out_of_stock_message": False,
    }


def default_store_info() -> dict:
    return {
        "name": "Sandbox Store",
        "timezone": {"name": "America/Chicago", "raw_offset": -21600, "dst_offset": -18000, "dst_correction": True,
                     "date_format": {"display": "jS M Y", "export": "M jS Y", "extended_display": "M jS Y @ g:i A"}},
        "currency": "USD",
        "country": "United States",
        "country_code": "US",
        "plan_name": "Standard",
    }


class StoreState:
    """Everything the sandbox store holds. Every public method takes the lock."""

    def __init__(self, *, store_info: dict | None = None, inventory_settings: dict | None = None):
        self.lock = threading.RLock()
        self.store_info = store_info or default_store_info()
        self.inventory_settings = inventory_settings or default_inventory_settings()
        # channel id -> the settings that channel overrides (PUT /v3/settings/inventory?channel_id=N)
        self.channel_inventory_settings: dict[int, dict] = {}
        self.products: dict[int, Product] = {}
        self.product_order: list[int] = []  # ids in creation order: pages slice it
        self.variants: dict[int, Variant] = {}
        self.variant_order: list[int] = []
        self.catalog_version = 0  # bumped when products are added or change tracking mode
        # sku_key(SKU) -> variant id, or -product id for a product SKU that names no variant
        self.sku_index: dict[str, int] = {}
        self.locations: dict[int, Location] = {}
        # location id -> {stock key: on hand}; a key missing means "never set" (relative refused)
        self.stock: dict[int, dict[int, int]] = {}
        self.orders: dict[int, Order] = {}
        self.order_ids: list[int] = []
        self.hooks: dict[int, Hook] = {}
        self.shipping_zones: list[dict] = []
        self.shipping_methods: dict[int, list[dict]] = {}
        self.transactions: list[str] = []  # ids of accepted adjustments, newest last
        self.next_ids = {"order": 100, "order_product": 1, "address": 1, "shipment": 1, "hook": 1}

    # ----- settings ------------------------------------------------------------------------------
    def effective_inventory_settings(self, channel_id: int | None = None) -> dict:
        """The inventory settings a channel works with: the global ones overridden by the channel's own
        (a copy). None or a channel without an override: the global settings."""
        with self.lock:
            settings = dict(self.inventory_settings)
            if channel_id is not None:
                settings.update(self.channel_inventory_settings.get(channel_id, {}))
            return settings

    def update_inventory_settings(self, values: dict, channel_id: int | None = None) -> dict:
        """Store settings (already validated) globally, or as the channel's override; return the effective
        settings of that channel."""
        with self.lock:
            if channel_id is None:
                self.inventory_settings.update(values)
            else:
                self.channel_inventory_settings.setdefault(channel_id, {}).update(values)
            return self.effective_inventory_settings(channel_id)

    # ----- building ------------------------------------------------------------------------------
    def add_location(self, location: Location) -> None:
        with self.lock:
            self.locations[location.id] = location
            self.stock.setdefault(location.id, {})

    def add_product(self, product: Product, variants: list[Variant]) -> None:
        with self.lock:
            self.products[product.id] = product
            self.product_order.append(product.id)
            self.catalog_version += 1
            if product.sku:
                self.sku_index.setdefault(sku_key(product.sku), -product.id)
            for variant in variants:
                self.variants[variant.id] = variant
                self.variant_order.append(variant.id)
                if variant.sku:
                    self.sku_index[sku_key(variant.sku)] = variant.id

    def add_order(self, order: Order) -> None:
        with self.lock:
            self.orders[order.id] = order
            self.order_ids.append(order.id)
            self.next_ids["order"] = max(self.next_ids["order"], order.id + 1)

    def new_id(self, kind: str) -> int:
        with self.lock:
            value = self.next_ids[kind]
            self.next_ids[kind] = value + 1
            return value

    # ----- stock -------------------------------------------------------------------------------
    @staticmethod
    def stock_key(product: Product, variant: Variant | None) -> int:
        """Product-tracked stock is keyed by -product id, variant-tracked stock by the variant id."""
        if product.inventory_tracking == "product" or variant is None:
            return -product.id
        return variant.id

    def stock_keys(self, product: Product) -> list[int]:
        if product.inventory_tracking == "none":
            return []
        if product.inventory_tracking == "product":
            return [-product.id]
        return list(product.variant_ids)

    def on_hand(self, key: int, location_id: int = DEFAULT_LOCATION_ID) -> int:
        return self.stock.get(location_id, {}).get(key, 0)

    def product_inventory_level(self, product: Product) -> int:
        level = self.stock.get(DEFAULT_LOCATION_ID, {})
        return sum(level.get(key, 0) for key in self.stock_keys(product))

    def variant_inventory_level(self, product: Product, variant: Variant) -> int:
        if product.inventory_tracking == "variant":
            return self.on_hand(variant.id)
        if product.inventory_tracking == "product" and variant.id == product.base_variant_id:
            return self.on_hand(-product.id)
        return 0

    def resolve_item(self, item: dict) -> tuple[Product, int]:
        """Find the stock key an adjustment item names; refuse the identifiers BigCommerce refuses."""
        given = [name for name in ("sku", "variant_id", "product_id") if name in item]
        if len(given) != 1:
            raise SandboxError(422, "Each item needs exactly one of sku, variant_id or product_id.")
        name = given[0]
        value = item[name]
        variant = None
        if name == "product_id":
            product = self.products.get(value) if isinstance(value, int) else None
            if product is None:
                raise SandboxError(422, f"Product with id {value} does not exist.")
            if product.inventory_tracking == "variant" and product.has_options:
                raise SandboxError(422, f"Product with id {value} is tracked by variant, please update stock by variant id or sku.")
            if product.base_variant_id is not None:
                variant = self.variants[product.base_variant_id]
        else:
            found = None
            if name == "sku":
                found = self.sku_index.get(sku_key(str(value)))
            elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
                found = value
            if found is not None and found < 0:
                product = self.products[-found]
            else:
                variant = self.variants.get(found) if found is not None else None
                if variant is None:
                    raise SandboxError(422, f"Item with {name} {value} does not exist.")
                product = self.products[variant.product_id]
            if product.inventory_tracking == "product" and product.has_options:
                if variant is not None:
                    raise SandboxError(422, f"Item with {name} {value} is tracked by product, please update stock by product id.")
            elif product.inventory_tracking == "variant" and variant is None:
                raise SandboxError(422, f"Item with {name} {value} is tracked by variant, please update stock by variant id or sku.")
        if product.inventory_tracking == "none":
            raise SandboxError(422, f"Item with {name} {value} does not track inventory.")
        return product, self.stock_key(product, variant)

    def _check_items(self, items, *, relative: bool) -> list[tuple[int, int, int, Product]]:
        if not isinstance(items, list) or not items:
            raise SandboxError(422, "The items field is required.", {"items": "At least one item is required."})
        if len(items) > 2000:
            raise SandboxError(422, "Too many items.", {"items": "The maximum number of items is 2000."})
        planned: dict[tuple[int, int], int] = {}
        resolved = []
        for index, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise SandboxError(422, "Each item must be an object.")
                location_id = item.get("location_id")
                if not isinstance(location_id, int) or location_id not in self.locations:
                    raise SandboxError(422, f"Location with id {location_id} does not exist.")
                quantity = item.get("quantity")
                if not isinstance(quantity, int) or isinstance(quantity, bool):
                    raise SandboxError(422, "Quantity must be an integer.")
                product, key = self.resolve_item(item)
            except SandboxError as exc:
                raise SandboxError(422, exc.title, {f"items.{index}": exc.title}) from None
            level = self.stock[location_id]
            if relative:
                if key not in level and (location_id, key) not in planned:
                    message = "Item requires absolute adjustment before relative."
                    raise SandboxError(422, message, {f"items.{index}": message})
                result = planned.get((location_id, key), level.get(key, 0)) + quantity
                if result < 0:
                    message = "Insufficient stock: the adjustment would take the level below zero."
                    raise SandboxError(422, message, {f"items.{index}": message})
            else:
                result = quantity
                if result < 0:
                    raise SandboxError(422, "Quantity must not be negative.", {f"items.{index}": "Quantity must not be negative."})
            if result > STOCK_CEILING:
                message = f"Quantity must not exceed {STOCK_CEILING}."
                raise SandboxError(422, message, {f"items.{index}": message})
            planned[(location_id, key)] = result
            resolved.append((location_id, key, result, product))
        return resolved

    def adjust_inventory(self, items, *, relative: bool) -> str:
        """Apply an absolute or relative adjustment all-or-nothing; return its transaction id."""
        with self.lock:
            resolved = self._check_items(items, relative=relative)
            now = time.time()
            for location_id, key, result, product in resolved:
                self.stock[location_id][key] = result
                product.date_modified = now
            transaction_id = str(uuid.uuid4())
            self.transactions.append(transaction_id)
            del self.transactions[:-1000]
            return transaction_id

    def set_stock(self, *, quantity: int, location_id: int = DEFAULT_LOCATION_ID, sku: str | None = None,
                  variant_id: int | None = None, product_id: int | None = None) -> None:
        """Staff edit stock in the store's control panel (out of band for the sync)."""
        item = {"location_id": location_id, "quantity": quantity}
        for name, value in (("sku", sku), ("variant_id", variant_id), ("product_id", product_id)):
            if value is not None:
                item[name] = value
        self.adjust_inventory([item], relative=False)

    # ----- orders ------------------------------------------------------------------------------
    def _move_stock_for_line(self, line: OrderProduct, target_deducted: int) -> None:
        product = self.products.get(line.product_id)
        variant = self.variants.get(line.variant_id)
        if product is None or variant is None or product.inventory_tracking == "none":
            line.quantity_deducted = target_deducted
            return
        key = self.stock_key(product, variant)
        level = self.stock[DEFAULT_LOCATION_ID]
        level[key] = max(0, level.get(key, 0) - (target_deducted - line.quantity_deducted))
        line.quantity_deducted = target_deducted
        product.date_modified = time.time()

    def place_order(self, *, items: list[dict], status_id: int = 11, customer_id: int = 0,
                    address: dict | None = None, allow_oversell: bool = False,
                    channel_id: int = DEFAULT_CHANNEL_ID) -> Order:
        """A shopper checks out on a channel. Items name a product by `sku`, `variant_id` or `product_id`
        with a `quantity`. Takes the stock off when the channel's setting is `order_placed`."""
        if status_id not in ORDER_STATUSES:
            raise SandboxError(422, f"Unknown status_id {status_id}.")
        if not isinstance(channel_id, int) or isinstance(channel_id, bool) or channel_id < 1:
            raise SandboxError(422, "channel_id must be a positive integer.")
        if not items or not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise SandboxError(422, "An order needs a list of items.")
        if not isinstance(customer_id, int) or isinstance(customer_id, bool) or customer_id < 0:
            raise SandboxError(422, "customer_id must be a non-negative integer.")
        address_fields = {"first_name", "last_name", "street_1", "street_2", "company", "city", "state", "zip",
                          "country", "country_iso2", "email", "phone", "shipping_method"}
        if address is not None and (not isinstance(address, dict) or set(address) - address_fields
                                    or not all(isinstance(value, str) for value in address.values())):
            raise SandboxError(422, f"address takes text fields among: {', '.join(sorted(address_fields))}.")
        with self.lock:
            lines = []
            needed: dict[int, int] = {}
            for index, item in enumerate(items):
                quantity = item.get("quantity")
                if not isinstance(quantity, int) or quantity < 1:
                    raise SandboxError(422, "Quantity must be a positive integer.", {f"items.{index}": "bad quantity"})
                variant = None
                if "sku" in item:
                    variant = self.variants.get(self.sku_index.get(sku_key(str(item["sku"])), -1))
                elif "variant_id" in item:
                    variant = self.variants.get(item["variant_id"])
                elif "product_id" in item:
                    product = self.products.get(item["product_id"])
                    if product is not None and product.base_variant_id is not None:
                        variant = self.variants.get(product.base_variant_id)
                if variant is None:
                    raise SandboxError(422, "Unknown item.", {f"items.{index}": "no such sku, variant or product"})
                product = self.products[variant.product_id]
                if product.inventory_tracking != "none":
                    key = self.stock_key(product, variant)
                    needed[key] = needed.get(key, 0) + quantity
                    if not allow_oversell and needed[key] > self.on_hand(key):
                        raise SandboxError(422, f"Not enough stock for {variant.sku}.", {f"items.{index}": "out of stock"})
                lines.append((product, variant, quantity))
            order_id = self.new_id("order")
            address_id = self.new_id("address")
            fields = {"first_name": "Sam", "last_name": "Shopper", "street_1": "1 Main St", "city": "Austin",
                      "state": "Texas", "zip": "78701", "country": "United States", "country_iso2": "US",
                      "email": "shopper@example.com", "phone": "555-0100"}
            fields.update(address or {})
            shipping_address = ShippingAddress(id=address_id, order_id=order_id, **fields)
            now = time.time()
            order_lines = [
                OrderProduct(id=self.new_id("order_product"), order_id=order_id, product_id=product.id,
                             variant_id=variant.id, order_address_id=address_id, name=product.name, sku=variant.sku,
                             quantity=quantity, price=variant.price, product_options=variant.option_values)
                for product, variant, quantity in lines
            ]
            order = Order(id=order_id, customer_id=customer_id, status_id=status_id, date_created=now,
                          date_modified=now, products=order_lines, addresses=[shipping_address],
                          channel_id=channel_id)
            if self._takes_stock_on_placement(order):
                for line in order_lines:
                    self._move_stock_for_line(line, line.quantity)
            self.add_order(order)
            return order

    def _takes_stock_on_placement(self, order: Order) -> bool:
        settings = self.effective_inventory_settings(order.channel_id)
        return settings["update_stock_behavior"] == "order_placed" and order.status_id not in (0, *RESTOCK_STATUSES)

    def set_order_status(self, order_id: int, status_id: int) -> Order:
        """Staff change an order's status. Stock, by the order's channel's settings: Refunded, Cancelled
        or Declined give back what the order took when `refund_order_stock_adjustment` is true; Shipped or
        Completed take what was not taken yet, whatever `update_stock_behavior` says. Any other move
        changes no stock (a restocked order moved back to an open status does not take it again)."""
        with self.lock:
            order = self.get_order(order_id)
            if status_id not in ORDER_STATUSES:
                raise SandboxError(400, f"The status_id {status_id} is not valid.")
            previous = order.status_id
            order.status_id = status_id
            order.date_modified = time.time()
            if status_id in RESTOCK_STATUSES and previous not in RESTOCK_STATUSES:
                if self.effective_inventory_settings(order.channel_id)["refund_order_stock_adjustment"]:
                    for line in order.products:
                        self._move_stock_for_line(line, 0)
            elif status_id in CLOSED_STATUSES:
                # closing the order (with or without shipments): the store takes what it has not taken yet
                for line in order.products:
                    self._move_stock_for_line(line, line.quantity)
            if status_id == 2 and order.date_shipped is None:
                order.date_shipped = order.date_modified
            return order

    def get_order(self, order_id: int) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise SandboxError(404, "The requested resource was not found.")
        return order

    def create_shipment(self, order_id: int, body: dict) -> Shipment:
        """Ship items of an order; moves it to Partially Shipped (3) or Shipped (2)."""
        with self.lock:
            order = self.get_order(order_id)
            address_id = body.get("order_address_id")
            addresses = {address.id: address for address in order.addresses}
            if not isinstance(address_id, int) or address_id not in addresses:
                raise SandboxError(400, "The field 'order_address_id' is invalid.")
            items = body.get("items")
            if not isinstance(items, list) or not items:
                raise SandboxError(400, "The field 'items' is required.")
            lines = {line.id: line for line in order.products}
            wanted: dict[int, int] = {}
            for item in items:
                if not isinstance(item, dict):
                    raise SandboxError(400, "Each shipment item must be an object.")
                line = lines.get(item.get("order_product_id"))
                if line is None or line.order_address_id != address_id:
                    raise SandboxError(400, f"The order_product_id {item.get('order_product_id')} is not in this order or address.")
                quantity = item.get("quantity")
                if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                    raise SandboxError(400, "The field 'quantity' must be a positive integer.")
                wanted[line.id] = wanted.get(line.id, 0) + quantity
                if wanted[line.id] > line.quantity - line.quantity_shipped:
                    raise SandboxError(400, f"Cannot ship more than the {line.quantity - line.quantity_shipped} unshipped of order product {line.id}.")
            for name, limit in (("tracking_number", 50), ("tracking_link", 500), ("comments", 65535)):
                if len(str(body.get(name) or "")) > limit:
                    raise SandboxError(400, f"The field '{name}' is longer than {limit} characters.")
            now = time.time()
            for line_id, quantity in wanted.items():
                line = lines[line_id]
                line.quantity_shipped += quantity
                # a shipped unit has left the store's stock, whatever the setting
                self._move_stock_for_line(line, max(line.quantity_deducted, line.quantity_shipped))
            shipment = Shipment(
                id=self.new_id("shipment"), order_id=order.id, order_address_id=address_id, date_created=now,
                items=tuple((line_id, lines[line_id].product_id, quantity) for line_id, quantity in wanted.items()),
                tracking_number=str(body.get("tracking_number") or ""),
                tracking_link=str(body.get("tracking_link") or ""),
                shipping_provider=str(body.get("shipping_provider") or ""),
                tracking_carrier=str(body.get("tracking_carrier") or ""),
                shipping_method=str(body.get("shipping_method") or ""),
                comments=str(body.get("comments") or ""),
            )
            order.shipments.append(shipment)
            order.status_id = 2 if order.items_shipped >= order.items_total else 3
            order.date_modified = now
            if order.status_id == 2:
                order.date_shipped = now
            return shipment

    # ----- webhooks ------------------------------------------------------------------------------
    def create_hook(self, *, scope: str, destination: str, is_active: bool = True, headers: dict | None = None) -> Hook:
        with self.lock:
            for hook in self.hooks.values():
                if hook.scope == scope and hook.destination == destination:
                    raise SandboxError(422, "A webhook with this scope and destination already exists.")
            now = int(time.time())
            hook = Hook(id=self.new_id("hook"), scope=scope, destination=destination, is_active=is_active,
                        headers=headers, created_at=now, updated_at=now)
            self.hooks[hook.id] = hook
            return hook

    # ----- summary and persistence ---------------------------------------------------------------
    def summary(self) -> dict:
        with self.lock:
            by_status: dict[int, int] = {}
            for order in self.orders.values():
                by_status[order.status_id] = by_status.get(order.status_id, 0) + 1
            tracking: dict[str, int] = {}
            for product in self.products.values():
                tracking[product.inventory_tracking] = tracking.get(product.inventory_tracking, 0) + 1
            return {
                "products": len(self.products),
                "variants": len(self.variants),
                "products_by_tracking": tracking,
                "orders": len(self.orders),
                "orders_by_status": {str(key): value for key, value in sorted(by_status.items())},
                "locations": sorted(self.locations),
                "stock_records": {str(key): len(value) for key, value in self.stock.items()},
                "default_location_units": sum(self.stock.get(DEFAULT_LOCATION_ID, {}).values()),
                "update_stock_behavior": self.inventory_settings["update_stock_behavior"],
                "channel_inventory_settings": {str(key): dict(value)
                                               for key, value in sorted(self.channel_inventory_settings.items())},
                "transactions": len(self.transactions),
                "hooks": len(self.hooks),
            }

    def to_dict(self) -> dict:
        def rows(objects):
            return [[getattr(obj, name) for name in obj.__slots__] for obj in objects]

        with self.lock:
            return {
                "version": 1,
                "store_info": self.store_info,
                "inventory_settings": self.inventory_settings,
                "channel_inventory_settings": {str(key): value for key, value in self.channel_inventory_settings.items()},
                "products": rows(self.products[pid] for pid in self.product_order),
                "variants": rows(self.variants[vid] for vid in self.variant_order),
                "locations": rows(self.locations.values()),
                "stock": {str(loc): list(level.items()) for loc, level in self.stock.items()},
                "orders": [
                    [[getattr(order, name) for name in Order.__slots__ if name not in ("products", "addresses", "shipments")],
                     rows(order.products), rows(order.addresses), rows(order.shipments)]
                    for order in (self.orders[oid] for oid in self.order_ids)
                ],
                "hooks": rows(self.hooks.values()),
                "shipping_zones": self.shipping_zones,
                "shipping_methods": {str(key): value for key, value in self.shipping_methods.items()},
                "next_ids": self.next_ids,
            }

    @classmethod
    def from_dict(cls, data: dict) -> StoreState:
        def tupled(value):
            return tuple(tupled(v) for v in value) if isinstance(value, list) else value

        state = cls(store_info=data["store_info"], inventory_settings=data["inventory_settings"])
        state.channel_inventory_settings = {int(key): value for key, value
                                            in data.get("channel_inventory_settings", {}).items()}
        for row in data["locations"]:
            state.add_location(Location(*row))
        variants_by_product: dict[int, list[Variant]] = {}
        for row in data["variants"]:
            variant = Variant(*row[:-1], tupled(row[-1]))
            variants_by_product.setdefault(variant.product_id, []).append(variant)
        for row in data["products"]:
            slots = Product.__slots__
            values = dict(zip(slots, row, strict=True))
            values["options"] = tupled(values["options"])
            product = Product(**values)
            state.add_product(product, variants_by_product.get(product.id, []))
        for loc, pairs in data["stock"].items():
            state.stock.setdefault(int(loc), {}).update((int(key), qty) for key, qty in pairs)
        order_fields = [name for name in Order.__slots__ if name not in ("products", "addresses", "shipments")]
        for head, lines, addresses, shipments in data["orders"]:
            values = dict(zip(order_fields, head, strict=False))  # a file saved before channel_id keeps its default
            order_lines = []
            for row in lines:
                line = dict(zip(OrderProduct.__slots__, row, strict=True))
                line["product_options"] = tupled(line["product_options"])
                order_lines.append(OrderProduct(**line))
            order_shipments = []
            for row in shipments:
                shipment = dict(zip(Shipment.__slots__, row, strict=True))
                shipment["items"] = tupled(shipment["items"])
                order_shipments.append(Shipment(**shipment))
            state.add_order(Order(products=order_lines, addresses=[ShippingAddress(*row) for row in addresses],
                                  shipments=order_shipments, **values))
        for row in data["hooks"]:
            hook = Hook(*row)
            state.hooks[hook.id] = hook
        state.shipping_zones = data["shipping_zones"]
        state.shipping_methods = {int(key): value for key, value in data["shipping_methods"].items()}
        state.next_ids.update(data["next_ids"])
        return state

    def save(self, path: str) -> None:
        data = self.to_dict()
        temporary = f"{path}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(data, handle, separators=(",", ":"))
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: str) -> StoreState:
        with open(path, encoding="utf-8") as handle:
            return cls.from_dict(json.load(handle))
