"""Validation of HTTP traffic against BigCommerce's official OpenAPI files, for any test in the suite.

    from tests.bigcommerce.contract import validate_request, validate_response
    validate_request(response.request)            # a requests.PreparedRequest
    validate_response(response.request, response) # a requests.Response

Both pick the spec file from the URL (`.../stores/{hash}/v2|v3/<path>`; the scheme, host and anything
before `/stores/` are ignored, so sandbox URLs validate like real ones) and raise `ContractViolation`
(an AssertionError) with the reasons. On top of openapi-core they refuse, in strict mode (the default),
JSON properties and query parameters that the spec does not declare, so a misspelled optional field
fails as well as a misspelled required one.

The spec folder is `ITBC_OPENAPI_DIR`, else `shared/bigcommerce-openapi` beside the project folder.
When it is missing the calling test is skipped (failed when CI=true).

The specs are never edited on disk; these known problems are patched in memory (see the folder's README):
`x-nullable` is read as `nullable`; comma-list filters (`variant_id:in`, ...) typed as a single integer
take a comma-separated list; `application/problem+json` bodies are parsed as JSON; `shipping.v2.yml` is
loaded without spec validation; a property both required and readOnly (the product `id` in the batch
PUT) may be written; a product may carry `variants` (asked for with `include=variants`); a 204 with no
body is accepted where the spec lists a 204 without content, and on any v2 collection GET (BigCommerce's
way of saying "empty", even where the spec lists only 200); a resource link (`*_Resource`) requires its
`url` and `resource`, so `oneOf` [link, included objects] tells them apart. The strict property check takes a `oneOf` /
`anyOf` as satisfied by any one alternative (an order's `consignments` and their `line_items` are a link or
the included objects), and reports what the closest alternative lacks."""
import copy
import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from django.conf import settings
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

SPEC_HOST = "https://api.bigcommerce.com"
# The API specs the client uses or may use; shipping_provider.yml describes a carrier app, not the store.
SPEC_FILES = (
    "store_information.v2.yml",
    "orders.v2.oas2.yml",
    "shipping.v2.yml",
    "products_catalog.v3.yml",
    "product-variants_catalog.v3.yml",
    "inventory.v3.yml",
    "locations.v3.yml",
    "settings.v3.yml",
    "webhooks.v3.yml",
    "orders.v3.yml",
    "shipping.v3.yml",
)
UNVALIDATED_SPECS = {"shipping.v2.yml"}  # exclusiveMinimum: false without minimum
_STORE_PATH = re.compile(r"^.*?/stores/(?P<hash>[^/]+)/(?P<api>v2|v3)(?P<rest>/.*)$")
_HTTP_METHODS = ("get", "put", "post", "delete", "patch")


class ContractViolation(AssertionError):
    pass


def openapi_dir() -> Path:
    configured = os.environ.get("ITBC_OPENAPI_DIR")
    if configured:
        return Path(configured)
    return Path(settings.BASE_DIR).parent / "shared" / "bigcommerce-openapi"


def require_specs() -> Path:
    """The spec folder, or skip the calling test (fail it under CI=true) when it is missing."""
    folder = openapi_dir()
    if not (folder / "inventory.v3.yml").is_file():
        reason = (f"BigCommerce OpenAPI specs not found in {folder}; set ITBC_OPENAPI_DIR to the "
                  "bigcommerce-openapi folder")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return folder


# ----------------------------------------------------------------------------------- in-memory patches

def _nullable_from_x_nullable(node):
    if isinstance(node, dict):
        if node.get("x-nullable") is True:
            node["nullable"] = True
        for value in node.values():
            _nullable_from_x_nullable(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_from_x_nullable(value)


def _comma_list_filters(spec: dict) -> None:
    """`name:in` filters take comma-separated lists; some are typed as one integer."""
    candidates = list((spec.get("components") or {}).get("parameters", {}).values())
    for path_item in spec.get("paths", {}).values():
        candidates.extend(path_item.get("parameters", []))
        for method in _HTTP_METHODS:
            candidates.extend((path_item.get(method) or {}).get("parameters", []))
    for param in candidates:
        if "$ref" in param or param.get("in") != "query" or not str(param.get("name", "")).endswith(":in"):
            continue
        schema = param.get("schema") or {}
        if schema.get("type") != "array":
            param["schema"] = {"type": "array", "items": schema or {"type": "string"}}
        param["style"] = "form"
        param["explode"] = False


def _required_is_writable(node):
    """A property both required and readOnly in one schema (the `id` of each product in the batch PUT)
    cannot be written at all under OpenAPI's rules; the docs say it must be sent, so it is writable."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name in node.get("required") or []:
                prop = properties.get(name)
                if isinstance(prop, dict) and prop.get("readOnly"):
                    prop.pop("readOnly")
        for value in node.values():
            _required_is_writable(value)
    elif isinstance(node, list):
        for value in node:
            _required_is_writable(value)


def _products_may_include_variants(spec: dict) -> None:
    """`include=variants` adds `variants` to each product, but product_Full does not declare it."""
    schemas = (spec.get("components") or {}).get("schemas") or {}
    product = schemas.get("product_Full")
    if product is None or "productVariant_Full" not in schemas:
        return
    product.setdefault("allOf", []).append({
        "type": "object",
        "properties": {"variants": {"type": "array", "items": {"$ref": "#/components/schemas/productVariant_Full"}}},
    })


def _resource_links_require_url_and_resource(spec: dict) -> None:
    """An order's `consignments` and a consignment's `line_items` are `oneOf` [a link, the included
    objects]. The link schemas (`orderConsignments_Resource`, `products_Resource`, ...) require nothing and
    allow any other property, so included objects match the link too: `oneOf` then refuses good answers,
    or passes bad ones when the included branch fails. A link always carries both its fields."""
    schemas = (spec.get("components") or {}).get("schemas") or {}
    for name, schema in schemas.items():
        properties = schema.get("properties") if isinstance(schema, dict) else None
        if name.endswith("_Resource") and isinstance(properties, dict) and set(properties) == {"url", "resource"}:
            schema["required"] = ["url", "resource"]


@dataclass
class SpecFile:
    name: str
    api: str
    raw: dict
    routes: list = field(default_factory=list)  # (template, compiled regex)

    @functools.cached_property
    def openapi(self) -> OpenAPI:
        config = Config(
            extra_media_type_deserializers={"application/problem+json": json.loads},
            **({"spec_validator_cls": None} if self.name in UNVALIDATED_SPECS else {}),
        )
        return OpenAPI.from_dict(copy.deepcopy(self.raw), config=config)

    def resolve(self, node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            target = self.raw
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
            if seen > 50:
                raise ContractViolation(f"{self.name}: $ref loop")
        return node


def _template_regex(template: str) -> re.Pattern:
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
    return re.compile(f"^{pattern}$")


@functools.cache
def _spec_files() -> tuple[SpecFile, ...]:
    folder = require_specs()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    specs = []
    for name in SPEC_FILES:
        with open(folder / name, encoding="utf-8") as handle:
            raw = yaml.load(handle, Loader=loader)
        _nullable_from_x_nullable(raw)
        _comma_list_filters(raw)
        _required_is_writable(raw)
        _products_may_include_variants(raw)
        _resource_links_require_url_and_resource(raw)
        server = raw["servers"][0]["url"]
        api = "v2" if server.rstrip("/").endswith("/v2") else "v3"
        spec = SpecFile(name=name, api=api, raw=raw)
        # Literal paths first, so /orders/count wins over /orders/{order_id}.
        templates = sorted(raw.get("paths", {}), key=lambda t: (t.count("{"), -len(t)))
        spec.routes = [(template, _template_regex(template)) for template in templates]
        specs.append(spec)
    return tuple(specs)


def spec_for_url(url: str) -> tuple[SpecFile, str, str]:
    """(spec file, path template, the URL rewritten onto the spec's server) for a store URL."""
    parts = urlsplit(url)
    match = _STORE_PATH.match(parts.path)
    if not match:
        raise ContractViolation(f"{parts.path} is not a BigCommerce store API path (/stores/<hash>/v2|v3/...)")
    for spec in _spec_files():
        if spec.api != match["api"]:
            continue
        for template, regex in spec.routes:
            if regex.match(match["rest"]):
                rewritten = f"{SPEC_HOST}/stores/{match['hash']}/{match['api']}{match['rest']}"
                if parts.query:
                    rewritten += "?" + parts.query
                return spec, template, rewritten
    raise ContractViolation(f"no BigCommerce spec describes {match['api']}{match['rest']}")


class _SpecHostRequest(RequestsOpenAPIRequest):
    """A requests PreparedRequest seen as if it had been sent to api.bigcommerce.com."""

    def __init__(self, prepared, url: str):
        prepared = prepared.copy()
        prepared.url = url
        super().__init__(prepared)


# ------------------------------------------------------------------------------ strict property checks

def _collect_branches(spec: SpecFile, schema, out: list) -> None:
    schema = spec.resolve(schema)
    if not isinstance(schema, dict):
        return
    out.append(schema)
    for key in ("allOf", "oneOf", "anyOf"):
        for sub in schema.get(key) or []:
            _collect_branches(spec, sub, out)


def _undeclared(spec: SpecFile, schema, value, where: str, found: set) -> None:
    resolved = spec.resolve(schema)
    alternatives = (resolved.get("oneOf") or resolved.get("anyOf")) if isinstance(resolved, dict) else None
    if alternatives and not any(resolved.get(key) for key in ("properties", "allOf", "items")):
        # One alternative is enough (a link or the included object): report what the closest one lacks.
        misses = []
        for alternative in alternatives:
            missed: set = set()
            _undeclared(spec, alternative, value, where, missed)
            if not missed:
                return
            misses.append(missed)
        found.update(min(misses, key=len))
        return
    branches: list = []
    _collect_branches(spec, schema, branches)
    if not branches:
        return
    if isinstance(value, dict):
        declared: dict[str, list] = {}
        extra_schemas = []
        open_object = False
        for branch in branches:
            for name, sub in (branch.get("properties") or {}).items():
                declared.setdefault(name, []).append(sub)
            additional = branch.get("additionalProperties")
            if additional is True or (isinstance(additional, dict)):
                open_object = True
                if isinstance(additional, dict) and additional:
                    extra_schemas.append(additional)
        if not declared and not any(b.get(k) for b in branches for k in ("allOf", "oneOf", "anyOf")):
            open_object = True  # a free-form object
        for key, item in value.items():
            if key in declared:
                for sub in declared[key]:
                    _undeclared(spec, sub, item, f"{where}.{key}", found)
            elif extra_schemas:
                for sub in extra_schemas:
                    _undeclared(spec, sub, item, f"{where}.{key}", found)
            elif not open_object:
                found.add(f"{where}.{key}")
    elif isinstance(value, list):
        for branch in branches:
            if "items" in branch:
                for index, item in enumerate(value):
                    _undeclared(spec, branch["items"], item, f"{where}[{index}]", found)


def _operation(spec: SpecFile, template: str, method: str) -> tuple[dict, dict]:
    path_item = spec.raw["paths"][template]
    operation = path_item.get(method.lower())
    if operation is None:
        raise ContractViolation(f"{spec.name}: {method.upper()} {template} is not an operation of the spec")
    return path_item, operation


def _json_schema(spec: SpecFile, content: dict | None):
    for media_type, body in (content or {}).items():
        if "json" in media_type:
            return body.get("schema")
    return None


def _json_body(raw) -> object:
    if raw in (None, b"", ""):
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    try:
        return json.loads(raw)
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------ public API

def validate_request(prepared, *, strict: bool = True) -> None:
    """Check a requests PreparedRequest against the spec; raise ContractViolation."""
    spec, template, url = spec_for_url(prepared.url)
    try:
        spec.openapi.validate_request(_SpecHostRequest(prepared, url))
    except Exception as exc:  # openapi-core raises a family of errors; report them all alike
        raise ContractViolation(_describe(f"{prepared.method} {template} ({spec.name}) request", exc)) from exc
    if not strict:
        return
    path_item, operation = _operation(spec, template, prepared.method)
    params = [spec.resolve(p) for p in path_item.get("parameters", []) + operation.get("parameters", [])]
    known = {p["name"] for p in params if p.get("in") == "query"}
    unknown = sorted({name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)} - known)
    problems = [f"query parameter {name!r} is not in the spec" for name in unknown]
    body_schema = _json_schema(spec, (spec.resolve(operation.get("requestBody") or {})).get("content"))
    if body_schema is not None:
        found: set = set()
        _undeclared(spec, body_schema, _json_body(prepared.body), "body", found)
        problems += [f"{name} is not a property in the spec" for name in sorted(found)]
    if problems:
        raise ContractViolation(f"{prepared.method} {template} ({spec.name}) request: " + "; ".join(problems))


def validate_response(prepared, response, *, strict: bool = True) -> None:
    """Check a requests Response (to `prepared`) against the spec; raise ContractViolation."""
    spec, template, url = spec_for_url(prepared.url)
    path_item, operation = _operation(spec, template, prepared.method)
    status = str(response.status_code)
    responses = operation.get("responses") or {}
    if status == "204" and not response.content:
        listed = spec.resolve(responses.get("204") or {})
        if (listed and not listed.get("content")) or (spec.api == "v2" and prepared.method == "GET"):
            # openapi-core wants a body even for a 204 with empty content; v2 collections also answer 204
            # for "empty" where the spec lists only 200.
            return
    try:
        spec.openapi.validate_response(_SpecHostRequest(prepared, url), RequestsOpenAPIResponse(response))
    except Exception as exc:
        raise ContractViolation(
            _describe(f"{prepared.method} {template} ({spec.name}) response {status}", exc)
        ) from exc
    if not strict:
        return
    declared = responses.get(status) or responses.get(f"{status[0]}XX") or responses.get("default")
    schema = _json_schema(spec, spec.resolve(declared or {}).get("content"))
    if schema is not None:
        found: set = set()
        _undeclared(spec, schema, _json_body(response.content), "body", found)
        if found:
            raise ContractViolation(f"{prepared.method} {template} ({spec.name}) response {status}: "
                                    + "; ".join(f"{name} is not a property in the spec" for name in sorted(found)))


def _describe(what: str, exc: Exception) -> str:
    reasons = [str(exc)]
    cause = exc.__cause__
    while cause is not None and len(reasons) < 6:
        reasons.append(str(cause))
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            reasons.extend(str(error.message) for error in list(schema_errors)[:8])
        cause = cause.__cause__
    return f"{what} breaks the contract: " + " | ".join(r for r in reasons if r)
