"""GET /api/picking-orders/, POST /api/picks/ and the close / reopen endpoints."""

import pytest
from rest_framework.test import APIClient

from plugin.intellitrack import services
from plugin.intellitrack.models import Pick, PickingOrder
from tests.api.scenario import on_hand
from tests.intellitrack.factories import PickingOrderFactory, PickingOrderLineFactory

pytestmark = pytest.mark.django_db

ORDERS = "/api/picking-orders/"
PICKS = "/api/picks/"


def _pick(wh, line_index=0, **overrides):
    body = {"line": wh.lines[line_index].pk, "quantity": 2, "location": wh.a01.pk}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


# --- reading --------------------------------------------------------------------------------------


def test_orders_need_a_login_and_the_view_permission(nobody_api, wh):
    assert APIClient().get(ORDERS).status_code == 401
    assert nobody_api.get(ORDERS).status_code == 403


def test_orders_come_with_their_lines(viewer_api, wh):
    services.order_pick(line=wh.lines[0], quantity=2, location=wh.a01)
    body = viewer_api.get(ORDERS).json()
    assert body["count"] == 1
    order = body["results"][0]
    assert (order["number"], order["status"], order["division_code"]) == ("PO-1", "open", "D1")
    assert order["customer_name"] == wh.order.customer.name
    assert [
        (line["line_number"], line["item_number"], line["ordered_qty"], line["picked_qty"], line["remaining"])
        for line in order["lines"]
    ] == [(1, "W-100", 5, 2, 3), (2, "G-200", 2, 0, 2), (3, "W-100", 20, 0, 20)]
    assert [(pick["quantity"], pick["location"]) for pick in order["lines"][0]["picks"]] == [(2, wh.a01.pk)]
    assert order["lines"][1]["picks"] == []


def test_order_list_reads_a_fixed_number_of_queries(viewer_api, wh, django_assert_max_num_queries):
    services.inventory_receive(item=wh.gadget, location=wh.b01, uom=wh.ea, quantity=30)
    for number in range(2, 30):
        order = PickingOrderFactory(division=wh.division, number=f"PO-{number}")
        line = PickingOrderLineFactory(order=order, line_number=1, item=wh.gadget, ordered_qty=2)
        services.order_pick(line=line, quantity=1, location=wh.b01)
    # session/auth, count, orders, lines, picks: not one query per order or line
    with django_assert_max_num_queries(8):
        body = viewer_api.get(ORDERS).json()
    assert body["count"] == 29


def test_orders_filter_by_status_and_store_order_id(viewer_api, wh):
    PickingOrderFactory(division=wh.division, number="PO-2", status=PickingOrder.Status.CLOSED)
    stored = PickingOrderFactory(division=wh.division, number="PO-3", store_order_id=4711)
    PickingOrderLineFactory(order=stored, line_number=1, item=wh.gadget, ordered_qty=1)

    def numbers(params):
        return sorted(order["number"] for order in viewer_api.get(ORDERS, params).json()["results"])

    assert numbers({}) == ["PO-1", "PO-2", "PO-3"]
    assert numbers({"status": "closed"}) == ["PO-2"]
    assert numbers({"status": "open"}) == ["PO-1", "PO-3"]
    assert numbers({"store_order_id": 4711}) == ["PO-3"]
    assert numbers({"store_order_id": 1}) == []
    assert viewer_api.get(ORDERS, {"store_order_id": 4711}).json()["results"][0]["lines"][0][
        "item_number"
    ] == ("G-200")


@pytest.mark.parametrize(
    "params, field", [({"status": "lost"}, "status"), ({"store_order_id": "x"}, "store_order_id")]
)
def test_orders_bad_filters_are_400(viewer_api, wh, params, field):
    response = viewer_api.get(ORDERS, params)
    assert response.status_code == 400
    assert field in response.json()


def test_order_detail_and_unknown_order(viewer_api, wh):
    response = viewer_api.get(f"{ORDERS}{wh.order.pk}/")
    assert response.status_code == 200
    assert len(response.json()["lines"]) == 3
    response = viewer_api.get(f"{ORDERS}999999/")
    assert response.status_code == 404
    assert response.json()["detail"]


# --- picking --------------------------------------------------------------------------------------


def test_pick_lowers_stock_and_records_the_pick(operator_api, operator_user, wh):
    response = operator_api.post(
        PICKS, _pick(wh, quantity=3, tracking_number="1Z42", carrier=wh.ups.pk), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["quantity"], body["line_picked_qty"], body["line_remaining"], body["order_status"]) == (
        3,
        3,
        2,
        "open",
    )
    assert (body["tracking_number"], body["carrier"], body["user"]) == (
        "1Z42",
        wh.ups.pk,
        operator_user.username,
    )
    pick = Pick.objects.get(pk=body["id"])
    assert pick.transaction.quantity_delta == -3
    assert on_hand(wh.widget, wh.a01) == 7


def test_picking_the_last_of_every_line_closes_the_order(operator_api, wh):
    services.inventory_receive(item=wh.widget, location=wh.a01, uom=wh.ea, quantity=20)
    for body in [
        _pick(wh, 0, quantity=5),
        _pick(wh, 1, quantity=2, location=wh.b01.pk),
        _pick(wh, 2, quantity=20),
    ]:
        response = operator_api.post(PICKS, body, format="json")
        assert response.status_code == 201, response.json()
    assert response.json()["order_status"] == "closed"
    assert viewer_status(operator_api, wh) == "closed"


def viewer_status(client, wh):
    return client.get(f"{ORDERS}{wh.order.pk}/").json()["status"]


@pytest.mark.parametrize(
    "line_index, overrides, field, message",
    [
        (0, {"quantity": 6}, "quantity", "Only 5 left to pick"),  # over-pick
        (2, {"quantity": 4, "location": "a02"}, "quantity", "Only 3 on hand"),  # over on-hand
        (0, {"location": "a03"}, "quantity", "Only 0 on hand"),  # a location without the item
        (0, {"location": "z01"}, "location", "not in the order's division"),
        (0, {"carrier": "foreign"}, "carrier", "not in the order's division"),
        (0, {"quantity": 0}, "quantity", "greater than or equal to 1"),
        (0, {"quantity": "two"}, "quantity", "valid integer"),
        (0, {"quantity": 10**30}, "quantity", "less than or equal to 1000000000"),
        (0, {"line": 10**30}, "line", "does not exist"),
        (0, {"quantity": None}, "quantity", "required"),
        (0, {"line": 999999}, "line", "does not exist"),
        (0, {"line": None}, "line", "required"),
        (0, {"location": 999999}, "location", "does not exist"),
        (0, {"location": None}, "location", "required"),
        (0, {"carrier": 999999}, "carrier", "does not exist"),
        (0, {"tracking_number": "X" * 51}, "tracking_number", "50"),
    ],
)
def test_pick_refuses_bad_input_with_a_reason_per_field(
    operator_api, wh, line_index, overrides, field, message
):
    overrides = dict(overrides)
    for key in ("location", "carrier"):
        if isinstance(overrides.get(key), str):
            overrides[key] = {"a02": wh.a02, "a03": wh.a03, "z01": wh.z01, "foreign": wh.foreign_carrier}[
                overrides[key]
            ].pk
    body = _pick(wh, line_index, **overrides)
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
    response = operator_api.post(PICKS, body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Pick.objects.exists()
    assert (on_hand(wh.widget, wh.a01), on_hand(wh.widget, wh.a02)) == (10, 3)


@pytest.mark.parametrize("state", ["closed", "cancelled"])
def test_pick_on_an_order_that_is_not_open_is_400(operator_api, wh, state):
    {"closed": services.order_close, "cancelled": services.order_cancel}[state](order=wh.order)
    response = operator_api.post(PICKS, _pick(wh), format="json")
    assert response.status_code == 400
    assert f"is {state}" in " ".join(response.json()["non_field_errors"])
    assert not Pick.objects.exists()


def test_pick_of_an_inactive_item_is_400(operator_api, wh):
    wh.widget.active = False
    wh.widget.save(update_fields=["active"])
    response = operator_api.post(PICKS, _pick(wh), format="json")
    assert response.status_code == 400
    assert "inactive" in " ".join(response.json()["non_field_errors"])


def test_viewer_cannot_pick(viewer_api, wh):
    assert viewer_api.post(PICKS, _pick(wh), format="json").status_code == 403
    assert not Pick.objects.exists()


def test_session_pick_needs_a_csrf_token(operator_user, wh):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(operator_user)
    assert client.post(PICKS, _pick(wh), format="json").status_code == 403
    assert not Pick.objects.exists()


# --- close / reopen -------------------------------------------------------------------------------


def test_close_and_reopen(operator_api, wh):
    response = operator_api.post(f"{ORDERS}{wh.order.pk}/close/")
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    assert PickingOrder.objects.get(pk=wh.order.pk).status == "closed"
    response = operator_api.post(f"{ORDERS}{wh.order.pk}/reopen/")
    assert response.json()["status"] == "open"
    assert PickingOrder.objects.get(pk=wh.order.pk).status == "open"


def test_reopen_of_a_cancelled_order_is_400(operator_api, wh):
    services.order_cancel(order=wh.order)
    response = operator_api.post(f"{ORDERS}{wh.order.pk}/reopen/")
    assert response.status_code == 400
    assert "cancelled" in " ".join(response.json()["non_field_errors"])


def test_close_of_an_unknown_order_is_404(operator_api, wh):
    assert operator_api.post(f"{ORDERS}999999/close/").status_code == 404


def test_viewer_cannot_close(viewer_api, wh):
    assert viewer_api.post(f"{ORDERS}{wh.order.pk}/close/").status_code == 403
    assert PickingOrder.objects.get(pk=wh.order.pk).status == "open"


HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "url",
    [
        "/api/picking-orders/?status=%00",
        "/api/picking-orders/?store_order_id=%00",
        f"/api/picking-orders/?store_order_id={HUGE}",
        f"/api/picking-orders/?source_store={HUGE}",
        "/api/picking-orders/?source_store=%00",
        "/api/picking-orders/?division=%00",
        "/api/picking-orders/?page=%00",
        f"/api/picking-orders/?page={HUGE}",
        f"/api/picking-orders/?page_size={HUGE}",
        "/api/inventory/?item=%00",
        "/api/inventory/?division=%00",
        f"/api/inventory/?location={HUGE}",
        f"/api/inventory/?page={HUGE}",
        "/api/inventory/?page_size=%00",
    ],
)
def test_odd_query_values_get_a_4xx_or_are_ignored_never_a_500(viewer_api, wh, url):
    response = viewer_api.get(url)
    assert response.status_code in (200, 400, 404), response.content[:300]


@pytest.mark.parametrize("url", [f"/api/picking-orders/{HUGE}/", f"/api/picking-orders/{HUGE}/close/"])
def test_a_huge_order_id_is_not_found(operator_api, wh, url):
    response = operator_api.get(url) if url.endswith(f"{HUGE}/") else operator_api.post(url)
    assert response.status_code == 404
