"""Picking order pages: the store order's status, shipments by state and control panel link; closing an
order with units left asks first (without a script); the pick box stops at what the line still needs."""

import re

import pytest
from django.urls import reverse

from plugin.intellitrack import services
from plugin.intellitrack.models import Pick, PickingOrder
from plugin.sync.models import OrderImport, ShipmentOutbox, StoreOrderLine
from tests.api.scenario import on_hand, warehouse
from tests.sync.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def wh(db):
    return warehouse()


@pytest.fixture
def operator_client(client, operator_user):
    client.force_login(operator_user)
    return client


def _close(client, order, **data):
    return client.post(reverse("intellitrack:order-close", args=[order.pk]), data)


# --- close confirmation ---------------------------------------------------------------------------


def test_closing_a_short_order_asks_first_and_lists_what_is_left(operator_client, wh):
    services.order_pick(line=wh.lines[0], quantity=2, location=wh.a01)
    response = _close(operator_client, wh.order)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="close-confirm-form"' in html and 'name="confirm" value="1"' in html
    # Left: line 1 3 (5 - 2 picked), line 2 2, line 3 20.
    assert [line.remaining for line in response.context["short_lines"]] == [3, 2, 20]
    assert response.context["units_left"] == 25
    assert "25 units on 3 lines are not picked yet" in html
    assert PickingOrder.objects.get(pk=wh.order.pk).status == PickingOrder.Status.OPEN


def test_confirming_closes_the_short_order(operator_client, wh):
    response = _close(operator_client, wh.order, confirm="1")
    assert response.status_code == 302 and response["Location"] == reverse("intellitrack:order-detail", args=[wh.order.pk])
    assert PickingOrder.objects.get(pk=wh.order.pk).status == PickingOrder.Status.CLOSED


def test_an_order_with_nothing_left_closes_without_asking(operator_client, wh):
    from tests.intellitrack.factories import PickingOrderFactory

    empty = PickingOrderFactory(division=wh.division, number="PO-EMPTY")
    response = _close(operator_client, empty)
    assert response.status_code == 302
    assert PickingOrder.objects.get(pk=empty.pk).status == PickingOrder.Status.CLOSED


def test_the_detail_page_close_button_posts_without_confirm(operator_client, wh):
    html = operator_client.get(reverse("intellitrack:order-detail", args=[wh.order.pk])).content.decode()
    form = html[html.index(reverse("intellitrack:order-close", args=[wh.order.pk])):]
    assert 'name="confirm"' not in form[:form.index("</form>")]


# --- pick bound -----------------------------------------------------------------------------------


def test_the_pick_box_is_limited_to_what_is_left(operator_client, wh):
    services.order_pick(line=wh.lines[0], quantity=2, location=wh.a01)
    response = operator_client.get(reverse("intellitrack:order-detail", args=[wh.order.pk]))
    form = next(line.pick_form for line in response.context["lines"] if line.pk == wh.lines[0].pk)
    assert form.fields["quantity"].widget.attrs["max"] == 3
    box = re.search(rf'<input[^>]*name="line-{wh.lines[0].pk}-quantity"[^>]*>', response.content.decode()).group(0)
    assert 'max="3"' in box


@pytest.mark.parametrize("quantity, ok", [(3, True), (4, False), (1_000_000_000, False)])
def test_a_pick_over_the_remainder_is_a_field_error(operator_client, wh, quantity, ok):
    services.order_pick(line=wh.lines[0], quantity=2, location=wh.a01)
    line = wh.lines[0]
    url = reverse("intellitrack:line-pick", args=[wh.order.pk, line.pk])
    response = operator_client.post(url, {f"line-{line.pk}-quantity": quantity, f"line-{line.pk}-location": wh.a01.pk})
    if ok:
        assert response.status_code == 302
        assert on_hand(wh.widget, wh.a01) == 10 - 2 - 3
        return
    assert response.status_code == 400
    form = next(shown.pick_form for shown in response.context["lines"] if shown.pk == line.pk)
    assert "Only 3 left to pick on this line" in " ".join(form.errors["quantity"])
    assert Pick.objects.count() == 1 and on_hand(wh.widget, wh.a01) == 8


# --- the store side -------------------------------------------------------------------------------


def test_order_pages_show_the_store_status_shipments_and_control_panel_link(operator_client, wh):
    store = StoreFactory(name="North", store_hash="abc123")
    order = wh.order
    order.source_store, order.store_order_id = store, 101
    order.save(update_fields=["source_store", "store_order_id"])
    OrderImport.objects.create(store=store, store_order_id=101, status_id=11, state=OrderImport.State.IMPORTED,
                               picking_order=order)
    # A later read of the order's lines saw it Partially Shipped (3).
    StoreOrderLine.objects.create(store=store, store_order_id=101, order_product_id=1, product_id=5, quantity=5,
                                  status_id=3, channel_id=1)
    for state in ("sent", "sent", "pending", "pending_close", "checking", "refused"):
        ShipmentOutbox.objects.create(store=store, store_order_id=101, picking_order=order, state=state,
                                      items=[{"order_product_id": 1, "quantity": 1}])

    listing = operator_client.get(reverse("intellitrack:order-list")).content.decode()
    row = listing[listing.index(">PO-1<"):]
    row = row[:row.index("</tr>")]
    assert "Partially Shipped" in row
    assert "https://store-abc123.mybigcommerce.com/manage/orders/101" in row
    for text in ("2 sent", "2 pending", "1 uncertain", "1 failed"):
        assert text in row, text

    detail = operator_client.get(reverse("intellitrack:order-detail", args=[order.pk])).content.decode()
    summary = detail[detail.index('id="store-order-summary"'):]
    summary = summary[:summary.index("</p>")]
    assert "Partially Shipped" in summary and "1 uncertain" in summary
    assert "https://store-abc123.mybigcommerce.com/manage/orders/101" in summary


def test_order_list_reads_the_store_side_in_a_fixed_number_of_queries(operator_client, wh, django_assert_max_num_queries):
    from tests.intellitrack.factories import PickingOrderFactory

    store = StoreFactory(name="North")
    for number in range(30):
        order = PickingOrderFactory(division=wh.division, number=f"S-{number}", source_store=store,
                                    store_order_id=500 + number)
        ShipmentOutbox.objects.create(store=store, store_order_id=500 + number, picking_order=order, state="sent")
    with django_assert_max_num_queries(14):
        response = operator_client.get(reverse("intellitrack:order-list"))
    assert response.content.decode().count("1 sent") == 30
