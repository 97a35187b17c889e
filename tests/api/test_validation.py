"""Bad bodies get a clear JSON error with the right status and change nothing."""

from __future__ import annotations

import json

import pytest

from app.data.products.validation import MAX_DESCRIPTION

from .conftest import send_json


def product_count(sql) -> int:
    return sql.scalar("SELECT count(*) FROM products")


@pytest.mark.parametrize("body,field", [
    ({"price": "1.00", "category_id": 1}, "name"),
    ({"name": "   ", "price": "1.00", "category_id": 1}, "name"),
    ({"name": "Lamp\x00", "price": "1.00", "category_id": 1}, "name"),
    ({"name": "x" * 201, "price": "1.00", "category_id": 1}, "name"),
    ({"name": "Lamp", "price": "-1", "category_id": 1}, "price"),
    ({"name": "Lamp", "price": "1.234", "category_id": 1}, "price"),
    ({"name": "Lamp", "price": "NaN", "category_id": 1}, "price"),
    ({"name": "Lamp", "price": "100000000", "category_id": 1}, "price"),
    ({"name": "Lamp", "price": True, "category_id": 1}, "price"),
    ({"name": "Lamp", "price": "1", "category_id": "1"}, "category_id"),
    ({"name": "Lamp", "price": "1", "category_id": 1, "stock": -1}, "stock"),
    ({"name": "Lamp", "price": "1", "category_id": 1, "stock": 2**40}, "stock"),
    ({"name": "Lamp", "price": "1", "category_id": 1, "stock": "3"}, "stock"),
    ({"name": "Lamp", "price": "1", "category_id": 1, "is_active": "yes"}, "is_active"),
    ({"name": "Lamp", "price": "1", "category_id": 1, "colour": "red"}, "colour"),
    ({"name": "Lamp", "price": "1", "category_id": 1, "attributes": {"weight": "2kg"}},
     "attributes.weight"),
    ({"name": "Lamp", "price": "1", "category_id": 1, "attributes": {"brand": 7}},
     "attributes.brand"),
    ({"name": "Lamp", "price": "1", "category_id": 1, "description": "x" * (MAX_DESCRIPTION + 1)},
     "description"),
])
def test_invalid_fields_are_422_naming_the_field(client, sql, editor, catalog, body, field):
    before = product_count(sql)
    response = send_json(client, "POST", "/api/v1/products", body, editor.headers)
    assert response.status_code == 422, response.json
    assert response.json["error"] == "Some fields need attention."
    assert field in response.json["fields"], response.json
    assert product_count(sql) == before


def test_patch_refuses_null_for_a_required_field(client, sql, editor, catalog):
    response = send_json(client, "PATCH", f"/api/v1/products/{catalog['lamp']}",
                         {"name": None}, {**editor.headers, "If-Match": '"1"'})
    assert response.status_code == 422 and "name" in response.json["fields"]


@pytest.mark.parametrize("raw", [b"{", b'{"name": }', b"\xff\xfe{}", b'{"price": NaN}', b"",
                                 b"[" * 100_000])
def test_malformed_json_is_400(client, sql, editor, raw):
    response = client.post("/api/v1/products", data=raw,
                           headers={**editor.headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json["error"].startswith("The body is not valid JSON")


@pytest.mark.parametrize("raw", [b"[]", b'"text"', b"42", b"null"])
def test_json_that_is_not_an_object_is_422(client, editor, raw):
    response = client.post("/api/v1/products", data=raw,
                           headers={**editor.headers, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json["error"] == "The body must be a JSON object."


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", None,
                                          "application/json; charset=latin-1"])
def test_wrong_content_type_is_415(client, sql, editor, catalog, content_type):
    headers = dict(editor.headers)
    if content_type:
        headers["Content-Type"] = content_type
    response = client.post("/api/v1/products", headers=headers,
                           data=json.dumps({"name": "Lamp", "price": "1",
                                            "category_id": catalog["lighting"]}))
    assert response.status_code == 415
    assert response.json["status"] == 415
    assert product_count(sql) == 4


def test_oversized_body_is_413(client, app, editor):
    body = json.dumps({"name": "x", "description": "d" * (app.config["MAX_CONTENT_LENGTH"] + 1)})
    response = client.post("/api/v1/products", data=body,
                           headers={**editor.headers, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json["status"] == 413 and response.json["error"]


def test_unknown_route_and_method_are_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.is_json
    response = client.put("/api/v1/categories")
    assert response.status_code == 405 and response.is_json
    assert "GET" in response.headers["Allow"]
    response = client.post("/api/v1/products/lamp-slug")
    assert response.status_code == 405 and response.is_json


@pytest.mark.parametrize("body,field,message", [
    ({"price": "1.00", "category_id": 1}, "name", "Enter a name."),
    ({"name": "Lamp", "price": "-1", "category_id": 1}, "price", "Price cannot be negative."),
    ({"name": "Lamp", "price": "1.234", "category_id": 1}, "price",
     "Price can have at most two decimal places."),
    ({"name": "Lamp", "price": "1", "category_id": 1, "stock": "3"}, "stock",
     "Stock must be a whole number."),
    ({"name": "Lamp", "price": "1", "category_id": 0}, "category_id", "Choose a category."),
    ({"name": "Lamp", "price": "1", "category_id": 999_999}, "category_id",
     "That category does not exist."),
])
def test_refusals_use_the_product_rules_wording(client, editor, catalog, body, field, message):
    """The API validates with the data layer's product rules, so a client reads the same
    message the editor shows under the field."""
    response = send_json(client, "POST", "/api/v1/products", body, editor.headers)
    assert response.status_code == 422
    assert response.json["fields"][field] == message
