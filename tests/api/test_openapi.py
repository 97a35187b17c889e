"""The generated OpenAPI document: it names exactly the routes the app serves, its references
resolve, its server follows a path prefix, and what it promises matches what the views do.
(``test_openapi_schemathesis.py`` fuzzes every operation against it.)"""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.api import responses
from app.api.listing import MAX_PER_PAGE
from app.api.openapi import OPERATIONS
from app.api.schemas import IF_MATCH_PATTERN

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def document(client, **kwargs) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json", **kwargs)
    assert response.status_code == 200
    return response.get_json()


def test_the_document_lists_every_api_route_and_nothing_else(app, client):
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi_document":
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            served |= {(method, path, rule.endpoint) for method in rule.methods & METHODS}
    table = {(op.method, op.path, op.endpoint) for op in OPERATIONS}
    assert table == served
    documented = {(method.upper(), path) for path, item in document(client)["paths"].items()
                  for method in item}
    assert documented == {(method, path) for method, path, _ in served}


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def test_every_reference_resolves(client):
    spec = document(client)
    refs = _refs(spec)
    assert "#/components/schemas/Product" in refs
    for ref in refs:
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]  # KeyError: a dangling reference
        assert isinstance(node, dict)


def test_the_server_url_follows_a_path_prefix(client):
    assert document(client)["servers"] == [{"url": "/api/v1"}]
    behind = document(client, base_url="http://localhost/shop")
    assert behind["servers"] == [{"url": "/shop/api/v1"}]


def _operation(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    return next(op for item in spec["paths"].values() for op in item.values()
                if op["operationId"] == operation_id)


def test_listing_parameters_come_from_the_listing_query(client):
    parameters = {p["name"]: p for p in _operation(document(client), "listProducts")
                  ["parameters"]}
    assert set(parameters) >= {"q", "category", "brand", "colour", "size", "min_price",
                               "max_price", "in_stock", "sort", "page", "per_page", "cursor"}
    assert all(p["in"] == "query" and not p["required"] for p in parameters.values())
    assert parameters["category"]["schema"]["type"] == "array"
    assert parameters["category"]["explode"] is True
    assert parameters["per_page"]["schema"]["maximum"] == MAX_PER_PAGE


def test_the_documented_page_size_limit_is_the_one_enforced(client, catalog):
    spec = document(client)
    per_page = next(p for p in _operation(spec, "listProducts")["parameters"]
                    if p["name"] == "per_page")["schema"]
    assert client.get(f"/api/v1/products?per_page={per_page['maximum']}").status_code == 200
    refused = client.get(f"/api/v1/products?per_page={per_page['maximum'] + 1}")
    assert refused.status_code == 400
    assert "per_page" in refused.get_json()["error"]


def test_header_and_path_parameters(client):
    spec = document(client)
    update = {p["name"]: p for p in _operation(spec, "updateProduct")["parameters"]}
    assert update["ref"]["in"] == "path" and update["ref"]["required"] is True
    assert update["If-Match"]["in"] == "header" and update["If-Match"]["required"] is True
    delete = {p["name"]: p for p in _operation(spec, "deleteProduct")["parameters"]}
    assert delete["If-Match"]["required"] is False
    assert delete["If-Match"]["schema"] == {"type": "string", "minLength": 1, "maxLength": 200,
                                            "pattern": IF_MATCH_PATTERN}
    revoke = _operation(spec, "revokeToken")["parameters"][0]
    assert revoke["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


def test_patch_fields_do_not_claim_a_null_default(client):
    """A PATCH field left out is unchanged and an explicit null is refused: the document must
    not tell clients that null is the default."""
    schema = document(client)["components"]["schemas"]["ProductUpdate"]
    assert all("default" not in prop for prop in schema["properties"].values())


def test_responses_are_the_documented_models(client, catalog, editor):
    product = client.get(f"/api/v1/products/{catalog['lamp']}").get_json()
    assert responses.Product.model_validate(product).price == 120
    assert product["price"] == "120.00"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00", product["created_at"])
    page = responses.ProductPage.model_validate(client.get("/api/v1/products").get_json())
    assert {item.name for item in page.items} == {"Brass Floor Lamp", "Glass Pendant",
                                                  "Oak Chair"}
    responses.CategoryList.model_validate(client.get("/api/v1/categories").get_json())
    tokens = client.get("/api/v1/tokens", headers=editor.headers).get_json()
    assert responses.TokenList.model_validate(tokens).items[0].status == "active"


@pytest.mark.parametrize("method, url, status", [
    ("GET", "/api/v1/no-such-thing", 404),
    ("PUT", "/api/v1/products", 405),
    ("GET", "/api/v1/products/no-such-product", 404),
    ("GET", "/api/v1/products?per_page=0", 400),
])
def test_errors_raised_anywhere_under_the_api_have_the_error_shape(client, method, url, status):
    """Errors from the views and from the app's own handlers (unknown URL, wrong method) are
    both the documented Error body."""
    response = client.open(url, method=method)
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = responses.Error.model_validate(response.get_json())
    assert body.status == status and body.error
    assert None not in response.get_json().values()
