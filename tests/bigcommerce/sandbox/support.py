"""Calls to the sandbox over real HTTP, each checked against BigCommerce's OpenAPI contract."""
import copy
import json

import requests

from tests.bigcommerce.contract import ContractViolation, spec_for_url, validate_request, validate_response


def assert_error_shape(response: requests.Response) -> None:
    """Statuses the spec does not list for an operation (401, 429, 5xx...) still have BigCommerce's error shape."""
    body = response.json()
    if "/v2/" in response.request.url:
        assert isinstance(body, list) and body, body
        for entry in body:
            assert set(entry) == {"status", "message"}, entry
            assert entry["status"] == response.status_code
            assert isinstance(entry["message"], str) and entry["message"]
    else:
        assert {"status", "title", "type"} <= set(body) <= {"status", "title", "type", "errors", "instance"}, body
        assert body["status"] == response.status_code
        assert isinstance(body.get("errors", {}), dict)


def _split_included_variants(response: requests.Response) -> list[requests.Response]:
    """The products schema has no `variants`, though `include=variants` adds them (spec gap): check the
    products without them, and the variants as a /v3/catalog/variants page."""
    prepared = response.request
    if response.status_code != 200 or "/v3/catalog/products" not in prepared.url or "variants" not in prepared.url:
        return [response]
    body = response.json()
    records = body["data"] if isinstance(body.get("data"), list) else [body["data"]]
    variants = [variant for record in records for variant in record.pop("variants", [])]
    products = copy.copy(response)
    products._content = json.dumps(body).encode()
    as_page = copy.copy(response)
    as_page._content = json.dumps({"data": variants, "meta": {"pagination": {
        "total": len(variants), "count": len(variants), "per_page": max(1, len(variants)), "current_page": 1,
        "total_pages": 1, "links": {"current": "?page=1"}}}}).encode()
    page_request = prepared.copy()
    page_request.url = prepared.url.split("/v3/")[0] + "/v3/catalog/variants"
    as_page.request = page_request
    return [products, as_page]


def check_contract(response: requests.Response, *, check_request: bool = True) -> None:
    if check_request:
        validate_request(response.request)
    for part in _split_included_variants(response):
        _check_response(part)


def _check_response(response: requests.Response) -> None:
    prepared = response.request
    spec, template, _ = spec_for_url(prepared.url)
    operation = spec.raw["paths"][template][prepared.method.lower()]
    listed = {str(code) for code in operation.get("responses", {})}
    status = str(response.status_code)
    if status in listed or (status == "204" and "/v2/" in prepared.url and prepared.method == "GET"):
        validate_response(prepared, response)
    else:
        assert_error_shape(response)


def bc(sandbox, method: str, path: str, *, token: str | None = None, check_request: bool = True,
       validate: bool = True, **kwargs) -> requests.Response:
    """`path` starts with /v2/ or /v3/; the token defaults to the sandbox's own."""
    headers = {"Accept": "application/json", "X-Auth-Token": sandbox.token if token is None else token}
    headers.update(kwargs.pop("headers", {}))
    response = requests.request(method, f"{sandbox.store_url}{path}", headers=headers, timeout=10, **kwargs)
    if validate:
        check_contract(response, check_request=check_request)
    return response


def sandbox_post(sandbox, path: str, payload: dict | None = None, **kwargs) -> requests.Response:
    return requests.post(f"{sandbox.base_url}/_sandbox/{path}", json=payload or {}, timeout=10, **kwargs)


__all__ = ["ContractViolation", "assert_error_shape", "bc", "check_contract", "sandbox_post"]
