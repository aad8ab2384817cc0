"""Bad input gets a 4xx with a reason, never a 500."""
import pytest

from tests.bigcommerce.sandbox.support import bc

BAD_BODIES = [b"", b"{", b"[]", b"{}", b"null", b"42", b'"text"', b'{"items": "x"}', b'{"items": [1, null]}',
              b'[{"id": "x"}]', b'{"status_id": "x"}', b'{"items": [{"order_product_id": "x", "quantity": "y"}]}']
WRITES = [
    ("PUT", "/v3/settings/inventory"),
    ("PUT", "/v3/catalog/products"),
    ("PUT", "/v3/catalog/variants"),
    ("PUT", "/v3/inventory/adjustments/absolute"),
    ("POST", "/v3/inventory/adjustments/relative"),
    ("POST", "/v3/hooks"),
    ("PUT", "/v2/orders/100"),
    ("POST", "/v2/orders/100/shipments"),
]
BAD_READS = [
    "/v3/catalog/products?page=abc", "/v3/catalog/products?limit=0", "/v3/catalog/products?id:in=a,b",
    "/v3/catalog/variants?product_id:in=x", "/v3/inventory/items?variant_id:in=z", "/v2/orders?status_id=abc",
    "/v2/orders?sort=nonsense", "/v2/orders?min_date_modified=notadate", "/v2/orders?page=-1",
    "/v2/orders/abc", "/v3/no/such/thing", "/v2/no_such_thing",
]


# An empty object asks for no change where every field is optional.
NO_CHANGE = {("PUT", "/v3/settings/inventory"): b"{}", ("PUT", "/v2/orders/100"): b"{}"}


@pytest.mark.parametrize("method, path", WRITES)
def test_bad_bodies_are_refused_with_4xx(sandbox, method, path):
    for body in BAD_BODIES:
        response = bc(sandbox, method, path, data=body, headers={"Content-Type": "application/json"},
                      validate=False)
        expected = (200, 201) if NO_CHANGE.get((method, path)) == body else range(400, 500)
        assert response.status_code in expected, (body, response.status_code, response.text)
        assert response.json()


@pytest.mark.parametrize("path", BAD_READS)
def test_bad_queries_are_refused_with_4xx(sandbox, path):
    response = bc(sandbox, "GET", path, validate=False)
    assert 400 <= response.status_code < 500, response.text


def test_a_method_the_resource_lacks_is_405(sandbox):
    response = bc(sandbox, "DELETE", "/v3/catalog/variants", validate=False)
    assert response.status_code == 405 and "PUT" in response.headers["Allow"]
