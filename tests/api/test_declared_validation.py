"""The API validates what its schema declares, and the schema documents every error answer."""
import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

ORDERS = "/api/picking-orders/"
INVENTORY = "/api/inventory/"


@pytest.mark.parametrize("query,field", [
    ("page_size=null", "page_size"), ("page_size=0", "page_size"), ("page_size=1001", "page_size"),
    ("page_size=1.5", "page_size"), ("page=-1", "page"), ("page=abc", "page"), ("page=last", "page"),
    ("store_order_id=0.5", "store_order_id"), ("store_order_id=-1", "store_order_id"),
    ("store_order_id=", "store_order_id"), ("status=", "status"), ("division=", "division"),
])
def test_values_the_schema_does_not_allow_are_400_naming_the_parameter(operator_api, wh, query, field):
    response = operator_api.get(f"{ORDERS}?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize("query", ["page=0", "page=1", "page=0&page_size=1", "page_size=1000", "store_order_id=7"])
def test_values_the_schema_allows_are_accepted(operator_api, wh, query):
    assert operator_api.get(f"{ORDERS}?{query}").status_code == 200


def test_page_zero_is_the_first_page(operator_api, wh):
    first = operator_api.get(f"{INVENTORY}?page=1&page_size=2").json()
    zero = operator_api.get(f"{INVENTORY}?page=0&page_size=2").json()
    assert zero["results"] == first["results"] and zero["count"] == first["count"] > 2


def test_a_page_past_the_last_is_404(operator_api, wh):
    assert operator_api.get(f"{INVENTORY}?page=99").status_code == 404


def test_a_url_nothing_answers_under_the_api_is_a_json_404(operator_api):
    response = operator_api.get("/api/picking-orders/not-a-number/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_every_operation_documents_its_error_answers():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = [(path, method, operation) for path, item in schema["paths"].items()
                  for method, operation in item.items()]
    assert len(operations) >= 7
    for path, method, operation in operations:
        documented = set(operation["responses"])
        assert {"400", "401", "403", "404"} <= documented, (method, path, documented)
    parameters = {p["name"]: p["schema"] for p in schema["paths"][ORDERS]["get"]["parameters"]}
    assert parameters["page"] == {"type": "integer", "minimum": 0}
    assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert parameters["store_order_id"]["type"] == "integer"


@pytest.mark.parametrize("name", ["division", "site", "location"])
def test_an_empty_inventory_filter_is_400(operator_api, wh, name):
    response = operator_api.get(f"{INVENTORY}?{name}=")
    assert response.status_code == 400 and name in response.json()
