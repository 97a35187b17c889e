"""The OpenAPI document and the behaviour agree on the details issue 11 (item 10) found:
malformed ``If-Match`` is a 400 (not 412 or 428), the body is validated before the precondition
(RFC 9110 13.2.1), the ``cursor`` schema is what the server accepts, and ``page=`` is a 400."""

from __future__ import annotations

import json
import re

import pytest

JSON = {"Content-Type": "application/json"}


def patch(client, editor, ref, body, if_match):
    headers = {**editor.headers, **JSON}
    if if_match is not None:
        headers["If-Match"] = if_match
    return client.patch(f"/api/v1/products/{ref}", data=body, headers=headers)


def version(sql, product_id):
    return sql.scalar("SELECT version FROM products WHERE id = %s", product_id)


def test_an_over_long_if_match_is_malformed_not_stale(client, editor, catalog, sql):
    long_tag = '"' + "1" * 300 + '"'
    response = patch(client, editor, catalog["lamp"], json.dumps({"stock": 9}), long_tag)
    assert response.status_code == 400
    assert "If-Match" in response.get_json()["fields"]
    delete = client.delete(f"/api/v1/products/{catalog['lamp']}",
                           headers={**editor.headers, "If-Match": long_tag})
    assert delete.status_code == 400
    assert version(sql, catalog["lamp"]) == 1


@pytest.mark.parametrize("header", ["", "   ", '"1",', '"a"b"'])
def test_an_empty_or_garbled_if_match_is_malformed_not_missing(client, editor, catalog, header):
    response = patch(client, editor, catalog["lamp"], json.dumps({"stock": 9}), header)
    assert response.status_code == 400, response.get_json()


@pytest.mark.parametrize("if_match", ['"999"', None], ids=["stale", "missing"])
@pytest.mark.parametrize("body", [b"", b"{not json"], ids=["no body", "bad json"])
def test_the_body_is_checked_before_the_precondition(client, editor, catalog, body, if_match):
    response = patch(client, editor, catalog["lamp"], body, if_match)
    assert response.status_code == 400, response.get_json()


def test_a_valid_body_then_meets_the_precondition(client, editor, catalog):
    assert patch(client, editor, catalog["lamp"], '{"stock": 2}', '"999"').status_code == 412
    assert patch(client, editor, catalog["lamp"], '{"stock": 2}', None).status_code == 428
    assert patch(client, editor, catalog["lamp"], '{"stock": 2}', '"1"').status_code == 200


def parameter(client, path, method, name):
    document = client.get("/api/v1/openapi.json").get_json()
    for item in document["paths"][path][method]["parameters"]:
        if item["name"] == name:
            return item["schema"]
    raise AssertionError(f"{name} is not documented")


def test_the_cursor_schema_is_what_the_server_issues(client, catalog):
    schema = parameter(client, "/products", "get", "cursor")
    first = client.get("/api/v1/products?sort=name&per_page=1").get_json()
    issued = re.search(r"cursor=([^&]+)", first["next"]).group(1)
    assert re.fullmatch(schema["pattern"], issued) and len(issued) <= schema["maxLength"]
    assert client.get(f"/api/v1/products?sort=name&per_page=1&cursor={issued}").status_code == 200
    for outside in ("a b", "a=b", "%2F", "*"):  # not the schema: refused, as documented
        assert not re.fullmatch(schema["pattern"], outside.replace("%2F", "/"))
        assert client.get(f"/api/v1/products?sort=name&cursor={outside}").status_code == 400
    assert client.get("/api/v1/products?sort=name&cursor=").status_code == 400


def test_if_match_schema_refuses_what_the_server_refuses(client):
    schema = parameter(client, "/products/{ref}", "patch", "If-Match")
    assert schema["minLength"] == 1
    for refused in ("   ", '"1",'):
        assert not re.fullmatch(schema["pattern"], refused)
    for accepted in ('"1"', "1", "*", 'W/"1"', '"1", "2"'):
        assert re.fullmatch(schema["pattern"], accepted)


@pytest.mark.parametrize("name", ["page", "per_page"])
def test_an_empty_page_is_refused_as_its_schema_says(client, catalog, name):
    schema = parameter(client, "/products", "get", name)
    assert schema["type"] == "integer"  # "" is not an integer
    response = client.get(f"/api/v1/products?{name}=")
    assert response.status_code == 400
    assert name in response.get_json()["fields"]
