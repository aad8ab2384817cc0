"""Inventory Data: the Available and last-sent store level columns, sorting by every column with paging,
the streamed CSV export and the Location filter that follows the Site. Expected figures are counted here
from what the test put on the shelves and on the orders, never through the selector under test."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from plugin.intellitrack import selectors, services, views
from plugin.intellitrack.forms import InventoryFilterForm
from plugin.intellitrack.models import InventoryRecord
from tests.api.scenario import warehouse
from tests.intellitrack.factories import ItemFactory, PickingOrderFactory, PickingOrderLineFactory
from tests.sync.factories import LinkFactory, StoreFactory

pytestmark = pytest.mark.django_db

LIST = reverse("intellitrack:inventory-list")
CSV = reverse("intellitrack:inventory-csv")


@pytest.fixture
def wh(db):
    return warehouse()


@pytest.fixture
def viewer_client(client, viewer_user):
    client.force_login(viewer_user)
    return client


def _available(item):
    """Available of every record of the item, as the page's rows carry it."""
    return {record.available for record in selectors.inventory_page_list(item_query=item.item_number)
            if record.item_id == item.pk}


# --- Available ------------------------------------------------------------------------------------


def test_available_is_on_hand_less_what_open_orders_have_not_picked(wh):
    # W-100: 10 at A-01 + 3 at A-02 on the shelf; PO-1 wants 5 + 20 of it and has picked nothing.
    assert _available(wh.widget) == {13 - 25}
    # G-200: 4 at B-01, PO-1 wants 2.
    assert _available(wh.gadget) == {4 - 2}
    # The other division's W-100 has no order.
    assert {r.available for r in selectors.inventory_page_list(division=wh.other_division)} == {50}


def test_a_new_order_lowers_available_and_closing_it_raises_it_back(wh):
    spare = ItemFactory(division=wh.division, item_number="S-300", default_uom=wh.ea)
    services.inventory_receive(item=spare, location=wh.a03, uom=wh.ea, quantity=9)
    assert _available(spare) == {9}

    order = PickingOrderFactory(division=wh.division, number="PO-7")
    line = PickingOrderLineFactory(order=order, line_number=1, item=spare, ordered_qty=4)
    assert _available(spare) == {9 - 4}

    # A pick takes 3 off the shelf and off what the order still wants: 6 on hand, 1 left to pick.
    services.order_pick(line=line, quantity=3, location=wh.a03)
    assert _available(spare) == {6 - 1}

    # The order closes with 1 unpicked: it stops holding it.
    services.order_close(order=order)
    assert _available(spare) == {6}


def test_a_pick_of_the_last_units_leaves_nothing_held(wh):
    spare = ItemFactory(division=wh.division, item_number="S-301", default_uom=wh.ea)
    services.inventory_receive(item=spare, location=wh.a03, uom=wh.ea, quantity=5)
    order = PickingOrderFactory(division=wh.division, number="PO-8")
    line = PickingOrderLineFactory(order=order, line_number=1, item=spare, ordered_qty=2)
    other = PickingOrderFactory(division=wh.division, number="PO-9")
    PickingOrderLineFactory(order=other, line_number=1, item=spare, ordered_qty=1)
    assert _available(spare) == {5 - 2 - 1}
    services.order_pick(line=line, quantity=2, location=wh.a03)
    assert _available(spare) == {3 - 1}


def test_available_counts_cases_in_single_units(wh):
    from tests.intellitrack.factories import UOMFactory

    case = UOMFactory(division=wh.division, code="CS", name="Case", each_count=12)
    services.inventory_receive(item=wh.gadget, location=wh.b01, uom=case, quantity=2)
    assert _available(wh.gadget) == {4 + 2 * 12 - 2}


# --- store level ----------------------------------------------------------------------------------


def test_store_level_per_store_and_for_the_filtered_store(viewer_client, wh):
    north, south = StoreFactory(name="North"), StoreFactory(name="South")
    LinkFactory(store=north, item=wh.widget, last_exported_qty=7)
    LinkFactory(store=south, item=wh.widget, last_exported_qty=None)
    LinkFactory(store=south, item=wh.gadget, last_exported_qty=2)

    page = viewer_client.get(LIST).content.decode()
    assert "North: 7" in page and "South: not sent yet" in page and "South: 2" in page

    response = viewer_client.get(LIST, {"store": north.pk})
    rows = list(response.context["page_obj"])
    assert {row.item.item_number for row in rows} == {"W-100"}  # only what North links
    assert {row.store_level for row in rows} == {7}
    assert response.context["totals"]["records"] == 2

    response = viewer_client.get(LIST, {"store": south.pk, "sort": "-store_level"})
    assert [(row.item.item_number, row.store_level) for row in response.context["page_obj"]] == [
        ("G-200", 2), ("W-100", None), ("W-100", None)]


# --- sorting --------------------------------------------------------------------------------------


def _numbers(response):
    return [(row.item.item_number, row.location.code) for row in response.context["page_obj"]]


@pytest.mark.parametrize("key", [key for key in selectors.INVENTORY_SORTS])
def test_every_column_sorts_both_ways(viewer_client, wh, key):
    for sort in (key, f"-{key}"):
        response = viewer_client.get(LIST, {"division": wh.division.pk, "sort": sort})
        assert response.status_code == 200
        assert len(response.context["page_obj"]) == 3
        assert f'aria-sort="{"descending" if sort.startswith("-") else "ascending"}"' in response.content.decode()


def test_sorting_by_on_hand_and_available(viewer_client, wh):
    d1 = {"division": wh.division.pk}
    assert _numbers(viewer_client.get(LIST, {**d1, "sort": "on_hand"})) == [
        ("W-100", "A-02"), ("G-200", "B-01"), ("W-100", "A-01")]
    assert _numbers(viewer_client.get(LIST, {**d1, "sort": "-on_hand"})) == [
        ("W-100", "A-01"), ("G-200", "B-01"), ("W-100", "A-02")]
    # Available: W-100 -12 (both rows, by record id), G-200 2.
    a01 = InventoryRecord.objects.get(item=wh.widget, location=wh.a01)
    a02 = InventoryRecord.objects.get(item=wh.widget, location=wh.a02)
    widget_rows = [(r.item.item_number, r.location.code) for r in sorted([a01, a02], key=lambda r: r.pk)]
    assert _numbers(viewer_client.get(LIST, {**d1, "sort": "available"})) == [*widget_rows, ("G-200", "B-01")]
    assert _numbers(viewer_client.get(LIST, {**d1, "sort": "-available"})) == [("G-200", "B-01"), *widget_rows[::-1]]


def test_sorted_pages_are_stable_on_ties_and_keep_the_sort(viewer_client, wh, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for number in range(5):  # five records with the same on-hand
        item = ItemFactory(division=wh.division, item_number=f"T-{number}", default_uom=wh.ea)
        services.inventory_receive(item=item, location=wh.a03, uom=wh.ea, quantity=1)
    seen = []
    for page in (1, 2, 3):
        response = viewer_client.get(LIST, {"location": wh.a03.pk, "sort": "on_hand", "page": page})
        seen += [row.pk for row in response.context["page_obj"]]
    expected = list(InventoryRecord.objects.filter(location=wh.a03).order_by("pk").values_list("pk", flat=True))
    assert seen == expected
    # The next-page link keeps the sort.
    first = viewer_client.get(LIST, {"location": wh.a03.pk, "sort": "on_hand"}).content.decode()
    assert "sort=on_hand" in first[first.index('rel="next"') - 200:first.index('rel="next"') + 200]


def test_an_unknown_sort_is_a_field_error_not_a_500(viewer_client, wh):
    response = viewer_client.get(LIST, {"sort": "item__division__name; drop table"})
    assert response.status_code == 200
    assert response.context["form"].errors["sort"]
    assert 'id="sort-error"' in response.content.decode()
    assert list(response.context["page_obj"]) == []
    assert viewer_client.get(CSV, {"sort": "password"}).status_code == 400


# --- CSV ------------------------------------------------------------------------------------------


def _csv(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_holds_the_filtered_sorted_list(viewer_client, wh):
    north = StoreFactory(name="North")
    LinkFactory(store=north, item=wh.widget, last_exported_qty=7)
    response = viewer_client.get(CSV, {"site": wh.s1.pk, "sort": "-on_hand"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0][:8] == ["Item", "Description", "Division", "Site", "Location", "UOM", "On hand", "Available (item)"]
    assert rows[0][8] == "Store level last sent: North"
    assert [row[:9] for row in rows[1:]] == [
        ["W-100", "Widget", "D1", "S1", "A-01", "EA", "10", "-12", "7"],
        ["W-100", "Widget", "D1", "S1", "A-02", "EA", "3", "-12", "7"],
    ]


def test_csv_opens_formula_like_text_as_text(viewer_client, wh):
    item = ItemFactory(division=wh.division, item_number='=HYPERLINK("http://x.test")',
                       description="+SUM(A1)", default_uom=wh.ea)
    services.inventory_receive(item=item, location=wh.a03, uom=wh.ea, quantity=2)
    LinkFactory(store=StoreFactory(name="@Shop"), item=item, last_exported_qty=-3)
    rows = _csv(viewer_client.get(CSV, {"location": wh.a03.pk}))
    assert rows[0][8] == "Store level last sent: @Shop"
    row = next(row for row in rows[1:] if "HYPERLINK" in row[0])
    assert row[:2] == ['\'=HYPERLINK("http://x.test")', "'+SUM(A1)"]
    # Numbers stay numbers, a negative one too.
    assert row[6:9] == ["2", "2", "-3"]


def test_csv_streams_the_records_a_chunk_at_a_time(viewer_client, wh, monkeypatch):
    monkeypatch.setattr(views, "CSV_CHUNK", 2)
    for number in range(5):
        item = ItemFactory(division=wh.division, item_number=f"C-{number}", default_uom=wh.ea)
        services.inventory_receive(item=item, location=wh.a03, uom=wh.ea, quantity=number + 1)
        LinkFactory(store=StoreFactory(name="North"), item=item, last_exported_qty=number)
    with CaptureQueriesContext(connection) as before:
        response = viewer_client.get(CSV, {"location": wh.a03.pk, "sort": "item"})
    assert response.streaming
    # Nothing of the records has been read yet: they are read while the response is sent.
    assert not [q for q in before.captured_queries if "intellitrack_inventoryrecord" in q["sql"]]
    with CaptureQueriesContext(connection) as during:
        rows = _csv(response)
    assert [row[0] for row in rows[1:]] == ["C-0", "C-1", "C-2", "C-3", "C-4"]
    assert [row[6] for row in rows[1:]] == ["1", "2", "3", "4", "5"]
    assert [row[8] for row in rows[1:]] == ["0", "1", "2", "3", "4"]
    # One store-level read per chunk of 2 records (3 chunks), not per record.
    link_reads = [q for q in during.captured_queries
                  if q["sql"].startswith("SELECT") and 'FROM "sync_storeitemlink"' in q["sql"]
                  and "intellitrack_inventoryrecord" not in q["sql"]]
    assert len(link_reads) == 3


# --- the Location filter follows the Site --------------------------------------------------------


def test_location_choices_follow_the_chosen_site(wh):
    form = InventoryFilterForm({"site": wh.s2.pk})
    assert list(form.fields["location"].queryset) == [wh.b01]
    assert set(InventoryFilterForm({}).fields["location"].queryset) >= {wh.a01, wh.b01, wh.z01}


def test_a_location_of_another_site_is_a_field_error(viewer_client, wh):
    form = InventoryFilterForm({"site": wh.s2.pk, "location": wh.a01.pk})
    assert not form.is_valid()
    assert "not in the chosen site" in " ".join(form.errors["location"])
    assert InventoryFilterForm({"site": wh.s1.pk, "location": wh.a01.pk}).is_valid()
    response = viewer_client.get(LIST, {"site": wh.s2.pk, "location": wh.a01.pk})
    assert response.status_code == 200
    assert "not in the chosen site" in response.content.decode()
    assert list(response.context["page_obj"]) == []


def test_the_page_renders_only_the_sites_locations_and_every_location_for_the_script(viewer_client, wh):
    html = viewer_client.get(LIST, {"site": wh.s2.pk}).content.decode()
    select = html[html.index('id="id_location"'):]
    select = select[:select.index("</select>")]
    assert "B-01" in select and "A-01" not in select
    template = html[html.index('id="inventory-location-options"'):]
    assert f'value="{wh.a01.pk}" data-site="{wh.s1.pk}"' in template[:template.index("</template>")]
    assert "itbc/inventory_filter.js" in html


@pytest.mark.parametrize("sort", ["available", "-available", "store_level", "-store_level"])
def test_paged_ids_by_a_figure_follow_the_list_order(wh, sort):
    north, south = StoreFactory(name="North"), StoreFactory(name="South")
    for number in range(4):
        item = ItemFactory(division=wh.division, item_number=f"V-{number}", default_uom=wh.ea)
        services.inventory_receive(item=item, location=wh.a03, uom=wh.ea, quantity=3 - number % 2)
        LinkFactory(store=north, item=item, last_exported_qty=number % 2 or None)
        LinkFactory(store=south, item=item, last_exported_qty=5 - number)
    for filters in ({}, {"site": wh.s1}, {"division": wh.division, "item_query": "V-"}, {"store": north}):
        expected = [record.pk for record in selectors.inventory_page_list(sort=sort, **filters)]
        ids = selectors.inventory_page_ids(sort=sort, **filters)
        assert ids.count() == len(expected)
        assert ids[0:3] + ids[3:100] == expected
