"""Pure functions from BigCommerce JSON to the plain records the jobs hand to IntelliTrack.

No database, no HTTP: each takes what the client returned and gives back dataclasses, so it can be
tested on JSON fixtures alone."""
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime

ITEM_NUMBER_MAX = 255  # the embedded item number holds any BigCommerce SKU (255 characters)
TRACKING_NONE = "none"
TRACKING_PRODUCT = "product"
TRACKING_VARIANT = "variant"


@dataclass(frozen=True)
class StoreItem:
    """One stock-tracked unit of the store, ready to become an IntelliTrack item."""

    product_id: int
    variant_id: int | None  # None when tracked by product
    tracking: str
    sku: str
    item_number: str
    description: str
    inventory_level: int | None = None

    @property
    def ref(self) -> list:
        return [self.product_id, self.variant_id]


@dataclass(frozen=True)
class SkippedProduct:
    product_id: int
    key: str
    reason: str


@dataclass(frozen=True)
class RejectedItem:
    """A unit whose item number cannot be used (blank or too long): reported, never imported."""

    product_id: int
    variant_id: int | None
    sku: str
    key: str
    reason: str

    @property
    def ref(self) -> list:
        return [self.product_id, self.variant_id]


def _clean(text) -> str:
    return " ".join(str(text or "").split())


def variant_label(product_name: str, variant: dict) -> str:
    """A variant's name: the product name followed by its option values ("Shirt Red / L")."""
    values = [_clean(option.get("label")) for option in variant.get("option_values") or []]
    values = [value for value in values if value]
    name = _clean(product_name)
    return f"{name} {' / '.join(values)}" if values else name


def products_to_store_items(
    products: list[dict], *, create_item_using: str
) -> tuple[list[StoreItem], list[RejectedItem], list[SkippedProduct]]:
    """Products (with `variants` included) -> one StoreItem per product tracked by product and one per
    variant of a product tracked by variant. Untracked products are skipped; blank or over-long item
    numbers are rejected."""
    items: list[StoreItem] = []
    rejected: list[RejectedItem] = []
    skipped: list[SkippedProduct] = []
    for product in products:
        product_id = int(product["id"])
        name = _clean(product.get("name"))
        tracking = product.get("inventory_tracking") or TRACKING_NONE
        if tracking == TRACKING_NONE:
            skipped.append(
                SkippedProduct(
                    product_id=product_id,
                    key=_clean(product.get("sku")) or name or str(product_id),
                    reason="Inventory tracking is off for this product in BigCommerce.",
                )
            )
            continue
        if tracking == TRACKING_PRODUCT:
            units = [(None, _clean(product.get("sku")), name, product.get("inventory_level"))]
        else:
            variants = product.get("variants") or []
            units = [
                (int(v["id"]), _clean(v.get("sku")), variant_label(name, v), v.get("inventory_level"))
                for v in variants
            ]
        for variant_id, sku, label, level in units:
            number = sku if create_item_using == "sku" else label
            key = number or sku or label or f"{product_id}/{variant_id or '-'}"
            reason = ""
            if not number:
                reason = "Blank SKU: the item number would be empty." if create_item_using == "sku" else (
                    "Blank product name: the item number would be empty."
                )
            elif len(number) > ITEM_NUMBER_MAX:
                reason = f"Item number longer than {ITEM_NUMBER_MAX} characters ({len(number)})."
            if reason:
                rejected.append(
                    RejectedItem(product_id=product_id, variant_id=variant_id, sku=sku, key=key, reason=reason)
                )
                continue
            items.append(
                StoreItem(
                    product_id=product_id,
                    variant_id=variant_id,
                    tracking=tracking,
                    sku=sku,
                    item_number=number,
                    description=label[:255],
                    inventory_level=int(level) if level is not None else None,
                )
            )
    return items, rejected, skipped


@dataclass
class StoreLevels:
    """On-hand levels at one store location, as the Inventory API reports them (one entry per variant,
    the base variant included). A product tracked by product reads its level from any of its entries."""

    by_variant: dict[int, int] = field(default_factory=dict)
    by_product: dict[int, int] = field(default_factory=dict)

    def level_for(self, *, tracking: str, product_id: int, variant_id: int | None) -> int | None:
        if tracking == TRACKING_VARIANT and variant_id is not None:
            return self.by_variant.get(variant_id)
        return self.by_product.get(product_id)


def inventory_levels_add(levels: StoreLevels, inventory_items: list[dict], *, location_id: int) -> StoreLevels:
    """Add one page of inventory entries to `levels` (on hand at `location_id`). Takes both shapes:
    `GET /v3/inventory/items` (each entry lists its locations) and
    `GET /v3/inventory/locations/{id}/items` (each entry is already at that location)."""
    for entry in inventory_items:
        identity = entry.get("identity") or {}
        if "locations" in entry:
            at_location = [
                place for place in entry.get("locations") or []
                if int(place.get("location_id") or 0) == int(location_id)
            ]
        else:
            at_location = [entry]
        for place in at_location:
            on_hand = place.get("total_inventory_onhand")
            if on_hand is None:
                on_hand = place.get("available_to_sell") or 0
            if identity.get("variant_id") is not None:
                levels.by_variant[int(identity["variant_id"])] = int(on_hand)
            if identity.get("product_id") is not None:
                levels.by_product[int(identity["product_id"])] = int(on_hand)
    return levels


# --- orders -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    name: str
    company: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class OrderLine:
    order_product_id: int
    product_id: int
    variant_id: int | None
    sku: str
    name: str
    quantity: int  # ordered
    quantity_shipped: int = 0
    order_address_id: int = 0

    @property
    def remaining(self) -> int:
        """What is left to ship."""
        return max(0, self.quantity - self.quantity_shipped)


@dataclass(frozen=True)
class StoreOrder:
    store_order_id: int
    status_id: int
    number: str
    order_date: date
    customer_account: str
    customer: Party
    ship_to: Party | None
    shipping_method: str
    lines: list[OrderLine] = field(default_factory=list)
    channel_id: int = 1
    created_at: datetime | None = None

    @property
    def lines_to_ship(self) -> list[OrderLine]:
        return [line for line in self.lines if line.remaining > 0]


def _party(address: dict) -> Party:
    name = _clean(f"{address.get('first_name', '')} {address.get('last_name', '')}")
    company = _clean(address.get("company"))
    return Party(
        name=name or company or _clean(address.get("email")) or "Customer",
        company=company,
        address1=_clean(address.get("street_1")),
        address2=_clean(address.get("street_2")),
        city=_clean(address.get("city")),
        state=_clean(address.get("state")),
        postal_code=_clean(address.get("zip")),
        country=_clean(address.get("country")),
        phone=_clean(address.get("phone")),
        email=_clean(address.get("email")),
    )


def parse_store_datetime(value) -> datetime | None:
    """v2 dates are RFC 2822 ("Tue, 20 Nov 2012 00:00:00 +0000"); ISO is accepted too."""
    if not value:
        return None
    text = str(value)
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None


def parse_store_date(value) -> date:
    moment = parse_store_datetime(value)
    return moment.date() if moment is not None else date.today()


def customer_account(order: dict) -> str:
    """Registered customers are matched by their store id; guests by e-mail address."""
    customer_id = int(order.get("customer_id") or 0)
    if customer_id:
        return f"BC-{customer_id}"
    email = _clean((order.get("billing_address") or {}).get("email")).lower()
    return f"BC-GUEST-{email}"[:60] if email else ""


def order_to_store_order(order: dict, products: list[dict], shipping_addresses: list[dict]) -> StoreOrder:
    """An order with its products and shipping addresses -> a store order record with every line (ordered
    and shipped quantities); `lines_to_ship` are what a picking order needs."""
    lines = []
    for product in products:
        variant_id = product.get("variant_id")
        lines.append(
            OrderLine(
                order_product_id=int(product["id"]),
                product_id=int(product.get("product_id") or 0),
                variant_id=int(variant_id) if variant_id else None,
                sku=_clean(product.get("sku")),
                name=_clean(product.get("name")),
                quantity=max(0, int(product.get("quantity") or 0)),
                quantity_shipped=max(0, int(product.get("quantity_shipped") or 0)),
                order_address_id=int(product.get("order_address_id") or 0),
            )
        )
    address = shipping_addresses[0] if shipping_addresses else None
    return StoreOrder(
        store_order_id=int(order["id"]),
        status_id=int(order.get("status_id") or 0),
        number=str(order["id"]),
        order_date=parse_store_date(order.get("date_created")),
        customer_account=customer_account(order),
        customer=_party(order.get("billing_address") or {}),
        ship_to=_party(address) if address else None,
        shipping_method=_clean(address.get("shipping_method")) if address else "",
        lines=lines,
        channel_id=int(order.get("channel_id") or 1),
        created_at=parse_store_datetime(order.get("date_created")),
    )


def _consignment_line_items(consignment: dict) -> list[dict]:
    # Line items are full order products with consignment_structure=object; links to them otherwise.
    items = consignment.get("line_items") or []
    return [item for item in items if isinstance(item, dict) and "product_id" in item]


def order_with_consignments_to_store_order(order: dict) -> StoreOrder:
    """An order listed with `include=consignments.line_items&consignment_structure=object` -> a store
    order record: the shipping consignments are the shipping addresses (their id is the order address
    id) and carry the lines; pickup and digital consignments carry theirs too."""
    consignments = order.get("consignments") or {}
    if isinstance(consignments, list):  # the older array structure holds one object
        consignments = consignments[0] if consignments else {}
    shipping = [c for c in consignments.get("shipping") or [] if isinstance(c, dict)]
    products: list[dict] = []
    seen: set[int] = set()
    groups = [*shipping, *(consignments.get("pickups") or []), *(consignments.get("downloads") or []),
              *((consignments.get("email") or {}).get("gift_certificates") or [])]
    for consignment in groups:
        if not isinstance(consignment, dict):
            continue
        for item in _consignment_line_items(consignment):
            if int(item["id"]) not in seen:
                seen.add(int(item["id"]))
                products.append(item)
    return order_to_store_order(order, products, shipping)


# --- carriers -----------------------------------------------------------------------------------

# Carriers a shipment can name (`shipping_provider`), with the names staff know them by.
SHIPMENT_PROVIDERS = {
    "auspost": "Australia Post",
    "canadapost": "Canada Post",
    "endicia": "Endicia",
    "usps": "USPS",
    "fedex": "FedEx",
    "royalmail": "Royal Mail",
    "ups": "UPS",
    "upsready": "UPS Ready",
    "upsonline": "UPS Online",
    "shipperhq": "ShipperHQ",
}
# The store's own methods (flat rate, free shipping, ...) belong to no outside carrier.
STORE_CARRIER = "Store shipping"


@dataclass(frozen=True)
class CarrierRecord:
    name: str
    methods: tuple[tuple[str, str], ...] = ()  # (name, description)


def shipping_to_carriers(zones_with_methods: list[tuple[dict, list[dict]]]) -> list[CarrierRecord]:
    """Shipping zones with their methods -> carriers with methods. Every shipment provider is a carrier
    (with no methods unless the store uses it); a zone's method goes under its provider's carrier, or
    under "Store shipping" for the store's own methods. The method name is the method's name; the
    description names the zone."""
    methods: dict[str, dict[str, str]] = {name: {} for name in SHIPMENT_PROVIDERS.values()}
    for zone, zone_methods in zones_with_methods:
        zone_name = _clean(zone.get("name"))
        for method in zone_methods:
            if method.get("enabled") is False:
                continue
            method_type = _clean(method.get("type")).lower()
            carrier = SHIPMENT_PROVIDERS.get(method_type, STORE_CARRIER)
            name = (_clean(method.get("name")) or method_type or "Shipping")[:100]
            description = f"Zone: {zone_name}" if zone_name else ""
            existing = methods.setdefault(carrier, {})
            if name in existing and zone_name and zone_name not in existing[name]:
                existing[name] = f"{existing[name]}, {zone_name}"[:255]
            else:
                existing.setdefault(name, description[:255])
    return [
        CarrierRecord(name=carrier, methods=tuple(sorted(found.items())))
        for carrier, found in sorted(methods.items())
    ]
