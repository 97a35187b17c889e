"""Input PostgreSQL cannot store (NUL, lone surrogates) and digits ``int()`` refuses (``²``)
are refused at the boundary with the usual 400/404/422, never a 500 (issue 11, items 1 and 2).
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from app.web import parsing
from tests.api.conftest import insert_token
from tests.support.clients import EditorClient, sign_in, signed_in

NUL = "a\x00b"
SUPERSCRIPT = "\u00b2"  # "²": str.isdigit() is True, int() refuses it
ARABIC = "\u0663"  # "٣": int() accepts it as 3
TOKEN = "vit_" + "n" * 43


@pytest.fixture
def product(sql) -> dict[str, int]:
    category = sql.category("Lighting")
    product_id = sql.product("Brass Lamp", category_id=category, slug="brass-lamp")
    return {"id": product_id, "category": category}


@pytest.fixture
def editor(client, sql) -> EditorClient:
    user_id = sql.user("nul-editor@example.com", role="editor")
    insert_token(sql, user_id, TOKEN)
    return EditorClient(signed_in(client, "nul-editor@example.com"))


@pytest.fixture
def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


# -- the parsers --------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [SUPERSCRIPT, ARABIC, "1" + SUPERSCRIPT, "", " 1", "-1", "1.0",
                                 "0", "9" * 10, None])
def test_versions_are_ascii_digits_only(raw):
    with pytest.raises(parsing.BadInput):
        parsing.version(raw, "no")


def test_a_version_in_range_is_read():
    assert parsing.version("42", "no") == 42


@pytest.mark.parametrize("raw", [NUL, "\ud800", "x\udfffy"])
def test_text_postgresql_cannot_store_is_refused(raw):
    with pytest.raises(parsing.BadInput, match="nope"):
        parsing.text(raw, "nope")


def test_pages_fall_back_to_the_default():
    assert parsing.page(SUPERSCRIPT, maximum=10) == 1
    assert parsing.page("", maximum=10) == 1
    assert parsing.page("99", maximum=10) == 10
    assert parsing.page("3", maximum=10) == 3


def test_money_is_plain_decimal():
    assert str(parsing.money("2.50", "no")) == "2.50"
    for raw in ("²", "1e3", "NaN", "-1", "1.005"):
        with pytest.raises(parsing.BadInput):
            parsing.money(raw, "no")


# -- NUL in URLs and forms, no sign-in needed ---------------------------------------------------

def test_a_nul_in_a_catalog_slug_is_not_found(client, product):
    response = client.get("/products/a%00b")
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_nul_in_an_api_product_ref_is_not_found(client, product, editor, bearer, method):
    headers = {**bearer, "If-Match": '"1"', "Content-Type": "application/json"}
    response = client.open("/api/v1/products/a%00b", method=method, headers=headers,
                           data=json.dumps({"stock": 1}))
    assert response.status_code == 404
    assert response.is_json and response.get_json()["status"] == 404


def test_a_nul_in_the_sign_in_email_is_the_usual_refusal(client, sql):
    sql.user("real@example.com")
    response = sign_in(client, "a\x00@x.com")
    assert response.status_code in (400, 401, 422)
    assert "do not match" in response.get_data(as_text=True) or response.status_code != 401


# -- digits int() refuses, signed in ------------------------------------------------------------

@pytest.mark.parametrize("value", [SUPERSCRIPT, ARABIC])
def test_a_unicode_digit_page_is_the_first_page(editor, product, value):
    response = editor.get(f"/editor/products?page={quote(value)}")
    assert response.status_code == 200
    assert "Brass Lamp" in response.get_data(as_text=True)


ROW_WRITES = [
    ("PUT", "/editor/products/{id}", {"name": "Brass Lamp", "price": "10.00", "stock": "1",
                                      "category_id": "{category}"}),
    ("PATCH", "/editor/products/{id}/stock", {"stock": "3"}),
    ("PATCH", "/editor/products/{id}/active", {"is_active": "0"}),
    ("DELETE", "/editor/products/{id}", {}),
    ("POST", "/editor/products/{id}/reactivate", {}),
    ("POST", "/editor/products/{id}/restore", {"to_version": "1"}),
]


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
@pytest.mark.parametrize(("method", "url", "data"), ROW_WRITES,
                         ids=[f"{m} {u}" for m, u, _ in ROW_WRITES])
@pytest.mark.parametrize("value", [SUPERSCRIPT, ARABIC, NUL])
def test_a_unicode_digit_version_is_refused(editor, product, sql, method, url, data, value,
                                           htmx):
    form = {key: item.format(**product) for key, item in data.items()}
    form["version"] = value
    if "to_version" in form:
        form["to_version"], form["version"] = value, "1"
    response = editor.send(method, url.format(**product), form, htmx=htmx)
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    body = response.get_data(as_text=True)
    assert "Reload the page" in body
    assert ("<html" in body.lower()) is not htmx
    assert sql.scalar("SELECT version FROM products WHERE id = %s", product["id"]) == 1


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
@pytest.mark.parametrize("value", [SUPERSCRIPT, ARABIC, NUL, "0"])
def test_a_unicode_digit_in_bulk_ids_is_refused(editor, product, sql, value, htmx):
    response = editor.post("/editor/products/bulk", {
        "action": "deactivate", "scope": "selected", "ids": [str(product["id"]), value],
    }, htmx=htmx)
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    body = response.get_data(as_text=True)
    assert "selection is not valid" in body
    assert ("<html" in body.lower()) is not htmx
    assert sql.scalar("SELECT is_active FROM products WHERE id = %s", product["id"]) is True


# -- text fields in forms and JSON bodies -------------------------------------------------------

@pytest.mark.parametrize("name", [NUL])
def test_a_nul_in_a_product_name_from_the_editor_is_a_field_error(editor, product, name):
    response = editor.put(f"/editor/products/{product['id']}", {
        "name": name, "price": "10.00", "stock": "1", "category_id": str(product["category"]),
        "version": "1"})
    assert response.status_code == 422
    assert "control characters" in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["a\u0000b", "a\ud800b"])
def test_unstorable_text_in_an_api_body_is_a_field_error(client, editor, product, bearer, name):
    body = json.dumps({"name": name, "price": "10.00", "stock": 1,
                       "category_id": product["category"]})
    response = client.post("/api/v1/products", data=body,
                           headers={**bearer, "Content-Type": "application/json"})
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "name" in response.get_json()["fields"]
    patch = client.patch(f"/api/v1/products/{product['id']}",
                         data=json.dumps({"name": name}),
                         headers={**bearer, "Content-Type": "application/json",
                                  "If-Match": '"1"'})
    assert patch.status_code == 422, patch.get_data(as_text=True)
    assert "name" in patch.get_json()["fields"]
