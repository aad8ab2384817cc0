"""GET /api/inventory/ and POST /api/inventory/adjustments/."""

import io

import pytest
from django.core.management import call_command
from knox.models import AuthToken
from rest_framework.test import APIClient

from plugin.intellitrack.models import InventoryTransaction
from tests.api.scenario import on_hand

pytestmark = pytest.mark.django_db

INVENTORY = "/api/inventory/"
ADJUST = "/api/inventory/adjustments/"


def _adjustment(wh, **overrides):
    body = {"item": wh.widget.pk, "location": wh.a01.pk, "quantity_delta": -4, "reason": "damaged"}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


# --- reading --------------------------------------------------------------------------------------


def test_inventory_needs_authentication(wh):
    response = APIClient().get(INVENTORY)
    assert response.status_code == 401
    assert "credentials" in response.json()["detail"]


def test_inventory_with_a_bad_token_is_401(wh):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get(INVENTORY).status_code == 401


def test_inventory_needs_the_view_permission(nobody_api, wh):
    assert nobody_api.get(INVENTORY).status_code == 403


def test_inventory_lists_records_with_filters(viewer_api, wh):
    everything = viewer_api.get(INVENTORY).json()
    assert everything["count"] == 4

    body = viewer_api.get(INVENTORY, {"division": wh.division.pk, "site": wh.s1.pk}).json()
    assert body["count"] == 2
    assert {(row["item_number"], row["location_code"], row["on_hand"]) for row in body["results"]} == {
        ("W-100", "A-01", 10),
        ("W-100", "A-02", 3),
    }
    row = body["results"][0]
    assert (row["division"], row["division_code"], row["site_code"], row["uom_code"]) == (
        wh.division.pk,
        "D1",
        "S1",
        "EA",
    )

    assert [r["on_hand"] for r in viewer_api.get(INVENTORY, {"location": wh.b01.pk}).json()["results"]] == [4]
    assert viewer_api.get(INVENTORY, {"item": "gadget"}).json()["count"] == 1
    assert viewer_api.get(INVENTORY, {"item": "W-100", "division": wh.other_division.pk}).json()["count"] == 1


@pytest.mark.parametrize("param", ["division", "site", "location"])
@pytest.mark.parametrize("value", ["999999", "abc"])
def test_inventory_unknown_filter_ids_are_400_with_a_reason(viewer_api, wh, param, value):
    response = viewer_api.get(INVENTORY, {param: value})
    assert response.status_code == 400
    assert list(response.json()) == [param]
    assert response.json()[param][0]


def test_inventory_pages_are_stable_and_keep_filters(viewer_api, wh):
    first = viewer_api.get(INVENTORY, {"page_size": 2, "item": "w"}).json()  # three W-100 records
    assert "item=w" in first["next"] and "page=2" in first["next"]
    second = viewer_api.get(first["next"]).json()
    assert second["next"] is None
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 3


# --- adjusting ------------------------------------------------------------------------------------


def test_adjust_by_a_change(operator_api, operator_user, wh):
    response = operator_api.post(ADJUST, _adjustment(wh, reference="RMA-1"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["on_hand"] == 6
    assert body["transaction"]["quantity_delta"] == -4
    assert body["transaction"]["balance_after"] == 6
    assert body["transaction"]["user"] == operator_user.username
    row = InventoryTransaction.objects.get(pk=body["transaction"]["id"])
    assert (row.kind, row.reason, row.reference, row.user) == ("adjust", "damaged", "RMA-1", operator_user)
    assert on_hand(wh.widget, wh.a01) == 6


def test_adjust_to_a_new_count(operator_api, wh):
    response = operator_api.post(ADJUST, _adjustment(wh, quantity_delta=None, quantity=25), format="json")
    assert response.status_code == 201
    assert response.json()["transaction"]["quantity_delta"] == 15
    assert on_hand(wh.widget, wh.a01) == 25


def test_adjust_to_the_same_count_writes_nothing(operator_api, wh):
    response = operator_api.post(ADJUST, _adjustment(wh, quantity_delta=None, quantity=10), format="json")
    assert response.status_code == 200
    assert response.json() == {"on_hand": 10, "transaction": None}
    assert not InventoryTransaction.objects.filter(kind="adjust").exists()


def test_adjust_can_stock_a_new_location(operator_api, wh):
    response = operator_api.post(ADJUST, _adjustment(wh, location=wh.a03.pk, quantity_delta=7), format="json")
    assert response.status_code == 201
    assert on_hand(wh.widget, wh.a03) == 7


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"quantity_delta": -11}, "quantity_delta", "below zero"),
        ({"quantity_delta": None, "quantity": -1}, "quantity", "greater than or equal to 0"),
        ({"quantity_delta": 10**30}, "quantity_delta", "less than or equal to 1000000000"),
        ({"quantity_delta": -(2**63)}, "quantity_delta", "greater than or equal to -1000000000"),
        ({"quantity_delta": None, "quantity": 10**30}, "quantity", "less than or equal to 1000000000"),
        ({"item": 10**30}, "item", "does not exist"),
        ({"quantity_delta": 0}, "quantity_delta", "other than zero"),
        ({"quantity_delta": "ten"}, "quantity_delta", "valid integer"),
        ({"quantity_delta": 1.5}, "quantity_delta", "valid integer"),
        ({"quantity_delta": None}, "quantity_delta", "either"),
        ({"quantity": 3}, "quantity_delta", "not both"),
        ({"reason": None}, "reason", "required"),
        ({"reason": "  "}, "reason", "blank"),
        ({"reason": "x" * 201}, "reason", "200"),
        ({"item": 999999}, "item", "does not exist"),
        ({"item": "abc"}, "item", "Incorrect type"),
        ({"location": 999999}, "location", "does not exist"),
        ({"uom": 999999}, "uom", "does not exist"),
        ({"location": "z01"}, "location", "not in the item's division"),
        ({"uom": "other_ea"}, "uom", "not in the item's division"),
        ({"reference": "r" * 101}, "reference", "100"),
    ],
)
def test_adjust_refuses_bad_input_with_a_reason_per_field(operator_api, wh, overrides, field, message):
    overrides = dict(overrides)
    if overrides.get("location") == "z01":
        overrides["location"] = wh.z01.pk
    if overrides.get("uom") == "other_ea":
        overrides["uom"] = wh.other_item.default_uom.pk
    response = operator_api.post(ADJUST, _adjustment(wh, **overrides), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert on_hand(wh.widget, wh.a01) == 10
    assert not InventoryTransaction.objects.filter(kind="adjust").exists()


def test_adjust_without_a_default_uom_needs_one(operator_api, wh):
    wh.widget.default_uom = None
    wh.widget.save(update_fields=["default_uom"])
    response = operator_api.post(ADJUST, _adjustment(wh), format="json")
    assert response.status_code == 400
    assert "uom" in response.json()
    response = operator_api.post(ADJUST, _adjustment(wh, uom=wh.ea.pk), format="json")
    assert response.status_code == 201


def test_adjust_with_a_malformed_body_is_400(operator_api, wh):
    response = operator_api.post(ADJUST, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


def test_viewer_cannot_adjust(viewer_api, wh):
    response = viewer_api.post(ADJUST, _adjustment(wh), format="json")
    assert response.status_code == 403
    assert on_hand(wh.widget, wh.a01) == 10


def test_adjust_needs_the_adjust_permission_even_with_view(nobody_api, wh, django_user_model):
    assert nobody_api.post(ADJUST, _adjustment(wh), format="json").status_code == 403


def test_admin_role_can_adjust(admin_user_role, wh):
    client = APIClient()
    client.force_authenticate(admin_user_role)
    assert client.post(ADJUST, _adjustment(wh), format="json").status_code == 201


def test_session_posts_need_a_csrf_token(operator_user, wh):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(operator_user)
    response = client.post(ADJUST, _adjustment(wh), format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert on_hand(wh.widget, wh.a01) == 10
    # Reading with the session works without a token.
    assert client.get(INVENTORY).status_code == 200


def test_a_token_from_the_management_command_reads_the_api(viewer_user, wh):
    out = io.StringIO()
    call_command("itbc", "api-token", "create", "--user", viewer_user.username, stdout=out)
    key = out.getvalue().strip()
    # Only a hash is stored, and the listed prefix is all the database knows of the token.
    row = AuthToken.objects.get(user=viewer_user)
    assert key not in (row.digest, row.token_key) and key.startswith(row.token_key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(INVENTORY).json()["count"] == 4
