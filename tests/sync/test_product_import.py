"""Import products over real HTTP against the sandbox store."""
import pytest

from plugin.bigcommerce.sandbox.state import Product, Variant
from plugin.intellitrack.models import Item
from plugin.sync.models import StoreItemLink, SyncRun, SyncRunItem
from tests.sync.conftest import run_job

pytestmark = [pytest.mark.django_db]

Job = SyncRun.Job


def tracked_units(state):
    units = {}
    for product in state.products.values():
        if product.inventory_tracking == "product":
            units[(product.id, None)] = product.sku
        elif product.inventory_tracking == "variant":
            for variant_id in product.variant_ids:
                units[(product.id, variant_id)] = state.variants[variant_id].sku
    return units


def test_import_links_every_tracked_unit_once_and_reports_untracked(shop):
    store, server = shop
    run = run_job(store, Job.IMPORT_PRODUCTS)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    units = tracked_units(server.state)
    links = {(link.product_id, link.variant_id): link for link in StoreItemLink.objects.filter(store=store)}
    assert set(links) == set(units)
    assert {ref: link.item.item_number for ref, link in links.items()} == units
    # every mode appears: product-tracked with and without options, variant-tracked
    modes = {server.state.products[pid].inventory_tracking for pid, _ in links}
    assert modes == {"product", "variant"}
    untracked = [p.id for p in server.state.products.values() if p.inventory_tracking == "none"]
    assert untracked
    skipped = run.items.filter(outcome=SyncRunItem.Outcome.SKIPPED)
    assert sorted(item.detail["ref"][0] for item in skipped) == sorted(untracked)
    assert run.succeeded_count == len(units) and run.failed_count == 0
    # progress counts products: it ends at the catalog's total
    assert run.processed == run.total == len(server.state.products)


def test_rerun_updates_descriptions_creates_only_new_and_never_duplicates(shop):
    store, server = shop
    run_job(store, Job.IMPORT_PRODUCTS)
    items_before = Item.objects.count()
    product = next(p for p in server.state.products.values() if p.inventory_tracking == "product")
    product.name = "Renamed Tote"
    new_id = max(server.state.products) + 1
    new_variant_id = max(server.state.variants) + 1
    server.state.add_product(
        Product(id=new_id, name="Brand New", sku="NEW-1", price=1, weight=1, inventory_tracking="product",
                inventory_warning_level=0, date_created=0, date_modified=0, base_variant_id=new_variant_id,
                variant_ids=[new_variant_id]),
        [Variant(id=new_variant_id, product_id=new_id, sku="NEW-1", sku_id=new_variant_id, price=1)],
    )
    run = run_job(store, Job.IMPORT_PRODUCTS)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert Item.objects.count() == items_before + 1
    assert StoreItemLink.objects.filter(store=store).count() == items_before + 1
    assert Item.objects.get(item_number=product.sku).description == "Renamed Tote"
    actions = dict(run.items.values_list("key", "action"))
    assert actions["NEW-1"] == "created"
    assert actions[product.sku] == "updated"
    assert run.items.filter(action="created").count() == 1


def _add(state, *, name, tracking, skus):
    product_id = max(state.products) + 1
    first_variant = max(state.variants) + 1
    variants = [
        Variant(id=first_variant + n, product_id=product_id, sku=sku, sku_id=first_variant + n, price=1,
                option_values=((9000 + product_id, 9000 + first_variant + n, "Size", f"S{n}"),) if tracking == "variant" else ())
        for n, sku in enumerate(skus)
    ]
    state.add_product(
        Product(id=product_id, name=name, sku=skus[0], price=1, weight=1, inventory_tracking=tracking,
                inventory_warning_level=0, date_created=0, date_modified=0,
                base_variant_id=None if tracking == "variant" else variants[0].id,
                variant_ids=[v.id for v in variants],
                options=((9000 + product_id, "Size", tuple((v.id + 9000, f"S{n}") for n, v in enumerate(variants))),) if tracking == "variant" else ()),
        variants,
    )
    return product_id, [v.id for v in variants]


def test_duplicate_blank_and_unicode_skus_are_reported_per_item_and_the_rest_goes_on(shop):
    store, server = shop
    state = server.state
    dup_pid, _ = _add(state, name="Dup A", tracking="product", skus=["DUP-1"])
    dup2_pid, _ = _add(state, name="Dup B", tracking="product", skus=["DUP-1"])
    blank_pid, blank_vids = _add(state, name="Blanky", tracking="variant", skus=["BLANK-OK", ""])
    uni_pid, _ = _add(state, name="Été", tracking="product", skus=["ÉTÉ-毛巾-1"])
    run = run_job(store, Job.IMPORT_PRODUCTS)
    assert run.status == SyncRun.Status.PARTIAL
    failed = {tuple(i.detail["ref"]): i for i in run.items.filter(outcome=SyncRunItem.Outcome.FAILED)}
    assert set(failed) == {(dup2_pid, None), (blank_pid, blank_vids[1])}
    assert "Duplicate item number 'DUP-1'" in failed[(dup2_pid, None)].reason
    assert f"product {dup_pid}" in failed[(dup2_pid, None)].reason
    assert "Blank SKU" in failed[(blank_pid, blank_vids[1])].reason
    # the first DUP-1, the other variant and the unicode SKU went in; so did the rest of the catalog
    assert StoreItemLink.objects.get(store=store, product_id=dup_pid).item.item_number == "DUP-1"
    assert StoreItemLink.objects.get(store=store, product_id=uni_pid).item.item_number == "ÉTÉ-毛巾-1"
    assert StoreItemLink.objects.filter(store=store, product_id=blank_pid).count() == 1
    assert run.succeeded_count == StoreItemLink.objects.filter(store=store).count()
    # a rerun reports the same two again and creates nothing
    again = run_job(store, Job.IMPORT_PRODUCTS)
    assert {tuple(i.detail["ref"]) for i in again.items.filter(outcome="failed")} == set(failed)
    assert again.items.filter(action="created").count() == 0


def test_create_item_using_name(shop_factory):
    store, server = shop_factory(create_item_using="name")
    run = run_job(store, Job.IMPORT_PRODUCTS)
    assert run.status in (SyncRun.Status.SUCCEEDED, SyncRun.Status.PARTIAL), run.error
    variant_link = StoreItemLink.objects.filter(store=store, tracking="variant").first()
    product = server.state.products[variant_link.product_id]
    variant = server.state.variants[variant_link.variant_id]
    assert variant_link.item.item_number == f"{product.name} {variant.option_values[0][3]}"


def test_an_item_number_takes_any_sku_the_store_accepts(shop):
    store, server = shop
    longest, too_long = "S" * 255, "T" * 256
    ok_pid, _ = _add(server.state, name="Longest SKU", tracking="product", skus=[longest])
    bad_pid, _ = _add(server.state, name="Longer SKU", tracking="product", skus=[too_long])
    run = run_job(store, Job.IMPORT_PRODUCTS)
    link = StoreItemLink.objects.select_related("item").get(store=store, product_id=ok_pid)
    assert link.item.item_number == longest
    refused = run.items.get(detail__ref=[bad_pid, None])
    assert refused.outcome == SyncRunItem.Outcome.FAILED and "longer than 255" in refused.reason
