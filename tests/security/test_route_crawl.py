"""A security crawl generated from the URL configuration: every route x {anonymous, no role, Viewer,
Operator, Admin} x {GET, POST} answers the status in TABLE below. A route missing from TABLE (a new page)
fails the test until someone writes down who may do what on it. Every POST without a CSRF token is
refused. Each request runs in a transaction that is rolled back, so no request changes what the next sees.

Statuses: numbers are HTTP statuses; LOGIN is a redirect to the sign-in page; ADMIN_LOGIN a redirect to
the admin's sign-in page (nobody in the crawl is staff)."""
import re
from http.cookies import SimpleCookie

import pytest
import responses
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from plugin.intellitrack.models import InventoryRecord
from tests.api.scenario import warehouse
from tests.configuration.factories import BasicConfigurationFactory, StoreConnectionFactory
from tests.sync.factories import RunFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

LOGIN, ADMIN_LOGIN = "login", "admin-login"
ROLES = ("anonymous", "no role", "Viewer", "Operator", "Admin")


def same(status):
    return (status,) * 5


# route -> (GET by anonymous, no role, Viewer, Operator, Admin), (POST by the same five)
PAGE_VIEW = (LOGIN, 403, 200, 200, 200)
PAGE_READ_ONLY = (PAGE_VIEW, (LOGIN, 405, 405, 405, 405))
# The IntelliTrack pages check the permission before the method.
PAGE_READ_ONLY_PERMISSION_FIRST = (PAGE_VIEW, (LOGIN, 403, 405, 405, 405))
API_READ = (401, 403, 200, 200, 200)
TABLE = {
    "dashboard": PAGE_READ_ONLY,
    "dashboard-store-status": PAGE_READ_ONLY,
    "dashboard-activity": PAGE_READ_ONLY,
    "sync-status-panel": PAGE_READ_ONLY,
    "login": (same(200), same(200)),
    "logout": (same(405), same(302)),
    "healthz": (same(503), same(405)),  # 503: no Celery worker answers in the test run
    "healthz-live": (same(200), same(405)),
    "portal:lockouts": ((LOGIN, 403, 403, 403, 200), (LOGIN, 403, 403, 403, 200)),
    "configuration:store-list": PAGE_READ_ONLY,
    "configuration:store-add": ((LOGIN, 403, 403, 403, 200), (LOGIN, 403, 403, 403, 200)),
    "configuration:store-detail": (PAGE_VIEW, (LOGIN, 403, 403, 403, 200)),
    "configuration:basic": (PAGE_VIEW, (LOGIN, 403, 403, 403, 200)),
    "configuration:basic-options": PAGE_READ_ONLY,
    "configuration:notification-test": ((LOGIN, 405, 405, 405, 405), (LOGIN, 403, 403, 403, 302)),
    # Admin: an empty mapping form is shown again with its errors (200); a refresh redirects to the tab.
    "configuration:location-mapping": ((LOGIN, 405, 405, 405, 405), (LOGIN, 403, 403, 403, 200)),
    "configuration:locations-refresh": ((LOGIN, 405, 405, 405, 405), (LOGIN, 403, 403, 403, 302)),
    "configuration:cart": (PAGE_VIEW, (LOGIN, 403, 403, 403, 200)),
    "configuration:connection-test": ((LOGIN, 405, 405, 405, 405), (LOGIN, 403, 403, 302, 302)),
    "configuration:sync": PAGE_READ_ONLY,
    "configuration:logs": PAGE_READ_ONLY,
    "intellitrack:inventory-list": PAGE_READ_ONLY_PERMISSION_FIRST,
    "intellitrack:inventory-csv": PAGE_READ_ONLY_PERMISSION_FIRST,
    "intellitrack:inventory-adjust": ((LOGIN, 403, 403, 200, 200), (LOGIN, 403, 403, 200, 200)),
    "intellitrack:item-list": PAGE_READ_ONLY_PERMISSION_FIRST,
    "intellitrack:item-detail": PAGE_READ_ONLY_PERMISSION_FIRST,
    "intellitrack:order-list": PAGE_READ_ONLY_PERMISSION_FIRST,
    "intellitrack:order-detail": PAGE_READ_ONLY_PERMISSION_FIRST,
    "intellitrack:line-pick": (same(405), (LOGIN, 403, 403, 400, 400)),  # 400: the empty pick form
    # 200: the crawl's order has units left to pick, so an unconfirmed close shows the confirmation page.
    "intellitrack:order-close": (same(405), (LOGIN, 403, 403, 200, 200)),
    "intellitrack:order-reopen": (same(405), (LOGIN, 403, 403, 302, 302)),
    "intellitrack:masterdata": PAGE_READ_ONLY,
    **{
        # Master data: everyone with a role reads; Operators add and edit customers and carriers, Admins
        # write all. An empty post shows the form again with its errors (200); a delete redirects (302).
        f"intellitrack:masterdata-{kind}-{action}": statuses
        for kind, operator in [("divisions", 403), ("sites", 403), ("locations", 403), ("uoms", 403),
                               ("carriers", 200), ("customers", 200)]
        for action, statuses in [
            ("list", PAGE_READ_ONLY),
            ("add", ((LOGIN, 403, 403, operator, 200), (LOGIN, 403, 403, operator, 200))),
            ("edit", ((LOGIN, 403, 403, operator, 200), (LOGIN, 403, 403, operator, 200))),
            ("delete", ((LOGIN, 403, 403, 403, 200), (LOGIN, 403, 403, 403, 302))),
        ]
    },
    "sync:run-list": PAGE_READ_ONLY,
    "sync:run-detail": PAGE_READ_ONLY,
    "sync:run-items-csv": PAGE_READ_ONLY,
    "sync:run-progress": PAGE_READ_ONLY,
    "sync:run-retry": ((LOGIN, 405, 405, 405, 405), (LOGIN, 403, 403, 302, 302)),
    "sync:job-start": ((LOGIN, 405, 405, 405, 405), (LOGIN, 403, 403, 302, 302)),
    "sync:run-acknowledge": ((LOGIN, 405, 405, 405, 405), (LOGIN, 403, 403, 302, 302)),
    "sync:runs-acknowledge-all": ((LOGIN, 405, 405, 405, 405), (LOGIN, 403, 403, 302, 302)),
    "api:inventory-list": (API_READ, (401, 403, 403, 403, 403)),
    "api:adjustment-create": ((401, 403, 403, 403, 403), (401, 403, 403, 400, 400)),
    "api:picking-order-list": (API_READ, (401, 403, 403, 403, 403)),
    "api:picking-order-detail": (API_READ, (401, 403, 403, 403, 403)),
    "api:picking-order-close": ((401, 403, 403, 403, 403), (401, 403, 403, 200, 200)),
    "api:picking-order-reopen": ((401, 403, 403, 403, 403), (401, 403, 403, 200, 200)),
    "api:pick-create": ((401, 403, 403, 403, 403), (401, 403, 403, 400, 400)),
    "api:schema": (API_READ, (401, 403, 405, 405, 405)),
    "api:docs": (API_READ, (401, 403, 405, 405, 405)),
    "api:tokens": ((LOGIN, 403, 403, 403, 200), (LOGIN, 403, 403, 403, 400)),
    "bigcommerce-webhook": (same(405), same(401)),  # a store's hook: its secret header, not a sign-in
    "api:token-revoke": ((LOGIN, 405, 405, 405, 405), (LOGIN, 403, 403, 403, 302)),
    # The admin: its own sign-in page answers everyone; every other admin route sends non-staff users
    # (everyone here) to it.
    "admin:login": (same(200), same(200)),
    "admin:logout": (same(302), same(302)),  # to the admin's index, which then asks for the sign-in
    "admin:*": (same(ADMIN_LOGIN), same(ADMIN_LOGIN)),
}


def _walk(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from ((name, [entry.pattern, *chain]) for name, chain in _walk(entry.url_patterns, inner))
        elif isinstance(entry, URLPattern):
            yield (f"{namespace}{entry.name}" if entry.name else None), [entry.pattern]


def routes() -> dict[str, list]:
    """Every route of the URL configuration: its name (or its path when it has none) and its patterns."""
    found = {}
    for name, chain in _walk(get_resolver().url_patterns):
        key = name or "/" + "".join(str(pattern) for pattern in chain)
        assert key not in found, f"two routes named {key}"
        found[key] = chain
    return found


def table_entry(route: str):
    if route in TABLE:
        return TABLE[route]
    if route.startswith(("admin:", "/admin/")):  # the admin's named and unnamed routes
        return TABLE["admin:*"]
    return None


def test_every_route_has_an_entry_in_the_table():
    missing = sorted(route for route in routes() if table_entry(route) is None)
    assert missing == [], f"Routes without an entry in TABLE (say who may do what on them): {missing}"
    stale = sorted(key for key in TABLE if key != "admin:*" and key not in routes())
    assert stale == [], f"TABLE entries for routes that no longer exist: {stale}"


@pytest.fixture
def world(roles):
    wh = warehouse()
    store = BasicConfigurationFactory(store=StoreConnectionFactory(name="crawl-store")).store
    run = RunFactory(store=store)
    record = InventoryRecord.objects.filter(item=wh.widget).order_by("pk").first()
    users = {"anonymous": None}
    user_model = get_user_model()
    for role in ROLES[1:]:
        user = user_model.objects.create_user(role.replace(" ", "-").lower(), password="pw-crawl-1")
        if role in roles:
            user.groups.add(roles[role])
        users[role] = user
    return {"store": store, "run": run, "record": record, "order": wh.order, "line": wh.lines[0],
            "item": wh.widget, "users": users}


def _kwargs(route: str, chain, world) -> dict:
    names = [name for pattern in chain for name in getattr(pattern, "converters", {}) or
             getattr(pattern, "regex", None).groupindex]
    values = {}
    for name in names:
        if name == "pk" and ":masterdata-" in route:
            values[name] = _masterdata_pk(route, world)
        elif name == "pk":
            values[name] = {
                "configuration": world["store"].pk, "sync": world["run"].pk, "api": world["order"].pk,
            }.get(route.split(":")[0]) or {
                "intellitrack:inventory-adjust": world["record"].pk, "intellitrack:item-detail": world["item"].pk,
            }.get(route, world["order"].pk)
        elif name == "line_pk":
            values[name] = world["line"].pk
        elif name == "store_pk":
            values[name] = world["store"].pk
        elif name == "job":
            values[name] = "import_products"
        elif name == "app_label":
            values[name] = "intellitrack"
        else:  # admin object ids, content type ids, file paths: the admin refuses non-staff first
            values[name] = "1"
    return values


def _masterdata_pk(route: str, world) -> int:
    """A row of the crawl's warehouse for each kind of master data page."""
    record, order = world["record"], world["order"]
    return {"divisions": order.division_id, "sites": record.site_id, "locations": record.location_id,
            "uoms": record.uom_id, "carriers": order.carrier_id, "customers": order.customer_id,
            }[route.split(":masterdata-")[1].rsplit("-", 1)[0]]


def _path(route: str, chain, world) -> str:
    if route.startswith("/"):
        # An unnamed route: its parameters filled with "1" (the admin's redirects and catch-all page).
        path = re.sub(r"<(?:\w+:)?\w+>", "1", route)
        return re.sub(r"\(\?P<\w+>[^)]*\)", "1", path).replace("^", "").replace("$", "")
    return reverse(route, kwargs=_kwargs(route, chain, world))


def _outcome(response) -> object:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/admin/login/"):
            return ADMIN_LOGIN
        if location.startswith("/accounts/login/") and "?next=" in location:
            return LOGIN
    return response.status_code


CSRF = "c" * 32


def _client(user, *, csrf: bool) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    if csrf:
        client.cookies["csrftoken"] = CSRF
    return client


def _send(client, method, path, *, csrf: bool):
    saved = SimpleCookie()
    saved.load(client.cookies.output(header="", sep=";"))
    with transaction.atomic():
        if method == "GET":
            response = client.get(path)
        elif csrf:
            response = client.post(path, {"csrfmiddlewaretoken": CSRF}, HTTP_X_CSRFTOKEN=CSRF)
        else:
            response = client.post(path, {})
        transaction.set_rollback(True)
    client.cookies = saved  # a sign-out in one request does not sign the next one out
    return response


def test_security_crawl(world):
    every_route = routes()
    table_size = 0
    differences = []
    csrf_gaps = []
    with responses.RequestsMock(assert_all_requests_are_fired=False):  # no request leaves the machine
        for index, role in enumerate(ROLES):
            client = _client(world["users"][role], csrf=True)
            bare = _client(world["users"][role], csrf=False)
            for route, chain in sorted(every_route.items()):
                path = _path(route, chain, world)
                expected = table_entry(route)
                for method, statuses in zip(("GET", "POST"), expected, strict=True):
                    table_size += 1
                    got = _outcome(_send(client, method, path, csrf=True))
                    if got != statuses[index]:
                        differences.append(f"{method} {path} ({route}) as {role}: {got}, table says {statuses[index]}")
                status = _send(bare, "POST", path, csrf=False).status_code
                if status not in (401, 403):
                    csrf_gaps.append(f"POST {path} ({route}) as {role} without a CSRF token: {status}")
    print(f"security crawl: {len(every_route)} routes x {len(ROLES)} roles x 2 methods = {table_size} cells")
    assert table_size == len(every_route) * len(ROLES) * 2
    assert differences == [], "\n".join(differences)
    assert csrf_gaps == [], "\n".join(csrf_gaps)
