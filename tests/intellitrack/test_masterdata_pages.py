"""The master data pages: who may read and write each kind, search and paging, create and edit with child
rows, and deletes refused with a message while something still refers to the row."""

import pytest
from django.urls import reverse

from plugin.intellitrack import masterdata
from plugin.intellitrack.models import (
    UOM,
    Carrier,
    Customer,
    Division,
    Location,
    ShippingMethod,
    ShipTo,
    Site,
)
from tests.api.scenario import warehouse

pytestmark = pytest.mark.django_db


@pytest.fixture
def wh(db):
    return warehouse()


def _client(client, user):
    client.force_login(user)
    return client


def _url(kind, action, row=None):
    return reverse(f"intellitrack:masterdata-{kind}-{action}", kwargs={"pk": row.pk} if row else None)


def test_admin_sees_delete_pages_of_rows_in_use(client, admin_user_role, wh):
    client = _client(client, admin_user_role)
    for kind, row in [("divisions", wh.division), ("uoms", wh.ea), ("sites", wh.s1), ("locations", wh.a01),
                      ("carriers", wh.ups), ("customers", wh.order.customer)]:
        response = client.get(_url(kind, "delete", row))
        assert response.status_code == 200, kind
        assert "masterdata-references" in response.content.decode(), kind


@pytest.fixture
def users(viewer_user, operator_user, admin_user_role):
    return {"Viewer": viewer_user, "Operator": operator_user, "Admin": admin_user_role}


def test_every_role_reads_every_list_and_searches_it(client, users, wh):
    for user in users.values():
        client = _client(client, user)
        for kind in masterdata.KINDS:
            assert client.get(_url(kind, "list")).status_code == 200
        response = client.get(_url("locations", "list"), {"q": "a-0"})
        codes = [row.code for row in response.context["page_obj"]]
        assert codes == ["A-01", "A-02", "A-03"]
        assert client.get(reverse("intellitrack:masterdata")).status_code == 200


def test_lists_page_in_a_stable_order(client, viewer_user, wh, monkeypatch):
    from plugin.intellitrack import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for number in range(5):
        Location.objects.create(site=wh.s2, code=f"P-{number}")
    client = _client(client, viewer_user)
    seen = []
    for page in (1, 2, 3):
        response = client.get(_url("locations", "list"), {"q": "P-", "page": page})
        seen += [row.code for row in response.context["page_obj"]]
    assert seen == ["P-0", "P-1", "P-2", "P-3", "P-4"]


@pytest.mark.parametrize("role, kind, allowed", [
    ("Viewer", "sites", False), ("Viewer", "customers", False),
    ("Operator", "sites", False), ("Operator", "uoms", False), ("Operator", "customers", True),
    ("Operator", "carriers", True), ("Admin", "divisions", True), ("Admin", "locations", True),
])
def test_who_may_create_and_edit(client, users, wh, role, kind, allowed):
    client = _client(client, users[role])
    row = {"sites": wh.s1, "customers": wh.order.customer, "uoms": wh.ea, "carriers": wh.ups,
           "divisions": wh.division, "locations": wh.a01}[kind]
    expected = 200 if allowed else 403
    assert client.get(_url(kind, "add")).status_code == expected
    assert client.get(_url(kind, "edit", row)).status_code == expected
    assert client.post(_url(kind, "add"), {}).status_code == expected
    page = client.get(_url(kind, "list")).content.decode()
    assert ('id="masterdata-add"' in page) is allowed


def test_only_admin_deletes(client, users, wh):
    spare = Site.objects.create(division=wh.division, code="S9", name="Spare")
    for role in ("Viewer", "Operator"):
        client = _client(client, users[role])
        assert client.get(_url("sites", "delete", spare)).status_code == 403
        assert client.post(_url("sites", "delete", spare)).status_code == 403
    assert Site.objects.filter(pk=spare.pk).exists()
    client = _client(client, users["Admin"])
    response = client.post(_url("sites", "delete", spare), follow=True)
    assert "Site S9 - Spare deleted." in response.content.decode()
    assert not Site.objects.filter(pk=spare.pk).exists()


def test_admin_creates_edits_and_deletes_a_division_site_location_and_uom(client, admin_user_role, wh):
    client = _client(client, admin_user_role)
    response = client.post(_url("divisions", "add"), {"code": "D9", "name": "North"})
    assert response.status_code == 302 and response["Location"] == _url("divisions", "list")
    division = Division.objects.get(code="D9")
    assert client.post(_url("sites", "add"), {"division": division.pk, "code": "N1", "name": "North 1"}).status_code == 302
    site = Site.objects.get(division=division, code="N1")
    assert client.post(_url("locations", "add"), {"site": site.pk, "code": "N-01", "name": "Aisle"}).status_code == 302
    location = Location.objects.get(site=site, code="N-01")
    response = client.post(_url("uoms", "add"), {"division": division.pk, "code": "CS", "name": "Case", "each_count": 12})
    assert response.status_code == 302
    uom = UOM.objects.get(division=division, code="CS")

    # Edit: the name changes; the parent stays even when another one is posted.
    response = client.post(_url("locations", "edit", location), {"site": wh.s1.pk, "code": "N-02", "name": "Bay"})
    assert response.status_code == 302
    location.refresh_from_db()
    assert (location.code, location.name, location.site_id) == ("N-02", "Bay", site.pk)

    # Deletes from the leaves up.
    for kind, row in [("locations", location), ("uoms", uom), ("sites", site), ("divisions", division)]:
        assert client.post(_url(kind, "delete", row)).status_code == 302
        assert not type(row).objects.filter(pk=row.pk).exists(), kind


def test_bad_input_is_a_field_error(client, admin_user_role, wh):
    client = _client(client, admin_user_role)
    # A second S1 in D1, a blank code, an each-count of 0.
    response = client.post(_url("sites", "add"), {"division": wh.division.pk, "code": "S1", "name": "Again"})
    assert response.status_code == 200
    assert "already exists" in " ".join(response.context["form"].errors["__all__"])
    response = client.post(_url("locations", "add"), {"site": wh.s1.pk, "code": "", "name": "x"})
    assert "required" in " ".join(response.context["form"].errors["code"])
    response = client.post(_url("uoms", "add"), {"division": wh.division.pk, "code": "BX", "name": "Box", "each_count": 0})
    assert response.context["form"].errors["each_count"]
    assert not UOM.objects.filter(code="BX").exists()
    assert client.get(_url("sites", "edit", wh.s1).replace(str(wh.s1.pk), "999999999")).status_code == 404


def test_a_row_in_use_is_not_deleted_and_the_page_says_why(client, admin_user_role, wh):
    client = _client(client, admin_user_role)
    for kind, row, says in [
        ("divisions", wh.division, "2 sites"),
        ("sites", wh.s1, "3 locations"),
        ("locations", wh.a01, "inventory records"),
        ("uoms", wh.ea, "inventory records"),
        ("carriers", wh.ups, "picking orders"),
        ("customers", wh.order.customer, "1 picking order"),
    ]:
        response = client.post(_url(kind, "delete", row), follow=True)
        assert response.status_code == 200, kind
        text = response.content.decode()
        assert "cannot be deleted" in text and says in text, (kind, text[text.find("alert"):][:400])
        assert type(row).objects.filter(pk=row.pk).exists(), kind


def test_a_unit_holding_stock_keeps_its_each_count(client, admin_user_role, wh):
    client = _client(client, admin_user_role)
    response = client.post(_url("uoms", "edit", wh.ea), {"code": "EA", "name": "Single", "each_count": 6})
    assert response.status_code == 302
    wh.ea.refresh_from_db()
    assert (wh.ea.name, wh.ea.each_count) == ("Single", 1)


def test_operator_adds_a_carrier_with_methods_but_only_an_admin_removes_one(
    client, operator_user, admin_user_role, wh
):
    client = _client(client, operator_user)
    data = {
        "division": wh.division.pk, "name": "FedEx",
        "children-TOTAL_FORMS": "1", "children-INITIAL_FORMS": "0",
        "children-0-name": "Ground", "children-0-description": "3-5 days",
    }
    assert client.post(_url("carriers", "add"), data).status_code == 302
    carrier = Carrier.objects.get(division=wh.division, name="FedEx")
    ground = carrier.methods.get()
    # Operators add and edit, but do not delete: no Delete box, and a posted one is refused.
    page = client.get(_url("carriers", "edit", carrier)).content.decode()
    assert "children-0-DELETE" not in page
    data = {
        "name": "FedEx", "children-TOTAL_FORMS": "2", "children-INITIAL_FORMS": "1",
        "children-0-id": ground.pk, "children-0-name": "Ground", "children-0-DELETE": "on",
        "children-1-name": "Express",
    }
    response = client.post(_url("carriers", "edit", carrier), data)
    assert response.status_code == 200
    assert "may not delete shipping methods" in response.content.decode()
    assert list(carrier.methods.values_list("name", flat=True)) == ["Ground"]
    assert client.post(_url("carriers", "delete", carrier)).status_code == 403

    client = _client(client, admin_user_role)
    assert "children-0-DELETE" in client.get(_url("carriers", "edit", carrier)).content.decode()
    assert client.post(_url("carriers", "edit", carrier), data).status_code == 302
    assert list(carrier.methods.values_list("name", flat=True)) == ["Express"]


def test_operator_cannot_delete_a_ship_to(client, operator_user, wh):
    customer = wh.order.customer
    ship_to = ShipTo.objects.create(customer=customer, name="Spare dock", city="Hull")
    client = _client(client, operator_user)
    data = {
        "name": customer.name, "children-TOTAL_FORMS": "1", "children-INITIAL_FORMS": "1",
        "children-0-id": ship_to.pk, "children-0-name": "Spare dock", "children-0-city": "Hull",
        "children-0-DELETE": "on",
    }
    response = client.post(_url("customers", "edit", customer), data)
    assert response.status_code == 200
    assert "may not delete ship-to addresses" in response.content.decode()
    assert ShipTo.objects.filter(pk=ship_to.pk).exists()


def test_a_ship_to_on_an_order_cannot_be_removed_from_its_customer(client, admin_user_role, wh):
    customer = wh.order.customer
    ship_to = ShipTo.objects.create(customer=customer, name="Dock", city="Leeds")
    wh.order.ship_to = ship_to
    wh.order.save(update_fields=["ship_to"])
    client = _client(client, admin_user_role)
    data = {
        "name": customer.name, "children-TOTAL_FORMS": "1", "children-INITIAL_FORMS": "1",
        "children-0-id": ship_to.pk, "children-0-name": "Dock", "children-0-city": "Leeds",
        "children-0-DELETE": "on",
    }
    response = client.post(_url("customers", "edit", customer), data)
    assert response.status_code == 200
    assert "cannot be deleted" in response.content.decode()
    assert ShipTo.objects.filter(pk=ship_to.pk).exists()
    customer.refresh_from_db()
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_customer_with_a_ship_to_is_created_and_a_method_name_repeat_is_refused(client, admin_user_role, wh):
    client = _client(client, admin_user_role)
    data = {
        "division": wh.division.pk, "name": "Acme", "account_number": "A-1", "email": "buyer@example.com",
        "children-TOTAL_FORMS": "1", "children-INITIAL_FORMS": "0",
        "children-0-name": "Acme dock", "children-0-city": "York", "children-0-country": "GB",
    }
    assert client.post(_url("customers", "add"), data).status_code == 302
    acme = Customer.objects.get(name="Acme")
    assert list(acme.ship_tos.values_list("city", flat=True)) == ["York"]
    ShippingMethod.objects.create(carrier=wh.ups, name="Ground")
    data = {"name": "UPS", "children-TOTAL_FORMS": "2", "children-INITIAL_FORMS": "1",
            "children-0-id": wh.ups.methods.get().pk, "children-0-name": "Ground", "children-1-name": "Ground"}
    response = client.post(_url("carriers", "edit", wh.ups), data)
    assert response.status_code == 200
    assert wh.ups.methods.count() == 1
