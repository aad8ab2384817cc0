"""Catalog reads: v3 pagination, filters, variants, batch limits, and stock seen from the default location."""
from tests.bigcommerce.sandbox.support import bc


def test_products_page_through_the_whole_catalog(sandbox):
    state = sandbox.state
    seen = []
    page = 1
    while True:
        body = bc(sandbox, "GET", f"/v3/catalog/products?page={page}&limit=40").json()
        meta = body["meta"]["pagination"]
        assert meta["total"] == len(state.products)
        assert meta["per_page"] == 40 and meta["current_page"] == page and meta["count"] == len(body["data"])
        assert meta["total_pages"] == -(-len(state.products) // 40)
        seen += [product["id"] for product in body["data"]]
        if page < meta["total_pages"]:
            assert meta["links"]["next"] == f"?page={page + 1}&limit=40"
        else:
            assert "next" not in meta["links"]
        if page > 1:
            assert meta["links"]["previous"] == f"?page={page - 1}&limit=40"
        if "next" not in meta["links"]:
            break
        page += 1
    assert seen == state.product_order


def test_limit_is_capped_at_250(make_sandbox):
    server = make_sandbox(products=600, orders=0, plan="unlimited")
    body = bc(server, "GET", "/v3/catalog/products?limit=250").json()
    assert len(body["data"]) == 250 and body["meta"]["pagination"]["per_page"] == 250
    variants = bc(server, "GET", "/v3/catalog/variants?limit=500", check_request=False).json()
    assert len(variants["data"]) == 250


def test_include_variants_lists_each_products_variants_with_option_values(sandbox):
    state = sandbox.state
    body = bc(sandbox, "GET", "/v3/catalog/products?limit=50&include=variants").json()
    for product in body["data"]:
        assert [variant["id"] for variant in product["variants"]] == state.products[product["id"]].variant_ids
    with_options = [p for p in body["data"] if state.products[p["id"]].options]
    assert with_options, "the generator should give some products options"
    labels = {value["label"] for p in with_options for v in p["variants"] for value in v["option_values"]}
    assert labels


def test_filters_by_id_sku_and_tracking(sandbox):
    state = sandbox.state
    body = bc(sandbox, "GET", "/v3/catalog/products?id:in=3,1,2").json()
    assert [product["id"] for product in body["data"]] == [1, 2, 3]
    variant_product = next(p for p in state.products.values() if p.has_options)
    option_sku = state.variants[variant_product.variant_ids[-1]].sku
    body = bc(sandbox, "GET", f"/v3/catalog/products?sku:in={option_sku},SKU-000001").json()
    assert {product["id"] for product in body["data"]} == {variant_product.id, 1}
    body = bc(sandbox, "GET", "/v3/catalog/products?sku=SKU-000002").json()
    assert [product["sku"] for product in body["data"]] == ["SKU-000002"]
    body = bc(sandbox, "GET", "/v3/catalog/products?inventory_tracking=none&limit=250", check_request=False).json()
    expected = [p.id for p in state.products.values() if p.inventory_tracking == "none"]
    assert [product["id"] for product in body["data"]] == expected and expected


def test_catalog_levels_come_from_the_default_location(sandbox):
    state = sandbox.state
    product = next(p for p in state.products.values() if p.inventory_tracking == "variant")
    first, second = product.variant_ids[:2]
    bc(sandbox, "PUT", "/v3/inventory/adjustments/absolute", json={"items": [
        {"location_id": 1, "variant_id": first, "quantity": 7},
        {"location_id": 1, "variant_id": second, "quantity": 5},
        {"location_id": 2, "variant_id": first, "quantity": 900},
    ]})
    others = sum(state.on_hand(vid) for vid in product.variant_ids[2:])
    body = bc(sandbox, "GET", f"/v3/catalog/products/{product.id}?include=variants").json()["data"]
    assert body["inventory_level"] == 12 + others
    assert {v["id"]: v["inventory_level"] for v in body["variants"]}[first] == 7


def test_variants_are_paged_across_products(sandbox):
    state = sandbox.state
    ids = []
    page = 1
    while True:
        body = bc(sandbox, "GET", f"/v3/catalog/variants?page={page}&limit=50").json()
        ids += [variant["id"] for variant in body["data"]]
        if page >= body["meta"]["pagination"]["total_pages"]:
            break
        page += 1
    assert ids == state.variant_order
    product = state.products[state.product_order[0]]
    body = bc(sandbox, "GET", f"/v3/catalog/products/{product.id}/variants").json()
    assert [variant["id"] for variant in body["data"]] == product.variant_ids


def test_variant_batch_over_50_is_413_and_nothing_changes(sandbox):
    state = sandbox.state
    ids = state.variant_order[:51]
    before = [state.variants[vid].price for vid in ids]
    response = bc(sandbox, "PUT", "/v3/catalog/variants", json=[{"id": vid, "price": 1.0} for vid in ids])
    assert response.status_code == 413
    assert "50" in response.json()["title"]
    assert [state.variants[vid].price for vid in ids] == before
    ok = bc(sandbox, "PUT", "/v3/catalog/variants", json=[{"id": vid, "price": 2.5} for vid in ids[:50]])
    assert ok.status_code == 200 and {v["price"] for v in ok.json()["data"]} == {2.5}


def test_variant_batch_with_an_unknown_id_is_422_batch_errors(sandbox):
    response = bc(sandbox, "PUT", "/v3/catalog/variants", json=[{"id": 10**9, "price": 1.0}])
    assert response.status_code == 422
    assert response.json()["batch_errors"][0]["status"] == 422


def test_product_batch_over_10_is_413(sandbox):
    ids = sandbox.state.product_order[:11]
    response = bc(sandbox, "PUT", "/v3/catalog/products", json=[{"id": pid} for pid in ids], check_request=False)
    assert response.status_code == 413
    ok = bc(sandbox, "PUT", "/v3/catalog/products", json=[{"id": pid, "is_visible": False} for pid in ids[:10]],
            check_request=False)
    assert ok.status_code == 200 and not any(p["is_visible"] for p in ok.json()["data"])


def test_unknown_product_is_404(sandbox):
    assert bc(sandbox, "GET", "/v3/catalog/products/424242").status_code == 404
    assert bc(sandbox, "GET", "/v3/catalog/products/424242/variants").status_code == 404
