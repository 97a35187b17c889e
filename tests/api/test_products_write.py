"""Writes over the API: Bearer token only, If-Match for updates, history with source 'api'."""

from __future__ import annotations

import pytest

from .conftest import insert_token, send_json


def revisions(sql, product_id):
    return sql.all("SELECT source, user_id, version, changes FROM product_revisions"
                   " WHERE product_id = %s ORDER BY version", product_id)


def test_create_product_records_api_history(client, sql, editor, catalog):
    response = send_json(client, "POST", "/api/v1/products",
                         {"name": "Linen Shade", "price": "45.5", "category_id":
                          catalog["lighting"], "stock": 3, "attributes": {"brand": "Lumen"}},
                         editor.headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["name"] == "Linen Shade" and body["price"] == "45.50" and body["version"] == 1
    assert response.headers["Location"] == f"/api/v1/products/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    row = sql.one("SELECT name, price, stock, attributes FROM products WHERE id = %s", body["id"])
    assert row["name"] == "Linen Shade" and str(row["price"]) == "45.50"
    assert row["attributes"] == {"brand": "Lumen"}
    [revision] = revisions(sql, body["id"])
    assert revision["source"] == "api" and revision["user_id"] == editor.id
    assert revision["changes"]["name"] == {"before": None, "after": "Linen Shade"}


def test_patch_with_current_etag_changes_only_sent_fields(client, sql, editor, catalog):
    lamp = catalog["lamp"]
    etag = client.get(f"/api/v1/products/{lamp}").headers["ETag"]
    response = send_json(client, "PATCH", f"/api/v1/products/{lamp}",
                         {"price": "99.00", "attributes": {"colour": None}},
                         {**editor.headers, "If-Match": etag})
    assert response.status_code == 200, response.json
    assert response.json["price"] == "99.00" and response.json["version"] == 2
    assert response.json["attributes"] == {"brand": "Lumen"}
    assert response.headers["ETag"] == '"2"'
    row = sql.one("SELECT price, name, version FROM products WHERE id = %s", lamp)
    assert str(row["price"]) == "99.00" and row["name"] == "Brass Floor Lamp"
    [revision] = revisions(sql, lamp)
    assert revision["source"] == "api" and revision["version"] == 2
    assert revision["changes"]["price"] == {"before": "120.00", "after": "99.00"}
    assert revision["changes"]["attributes.colour"] == {"before": "brass", "after": None}


def test_patch_accepts_the_bare_version_as_if_match(client, sql, editor, catalog):
    response = send_json(client, "PATCH", f"/api/v1/products/{catalog['chair']}",
                         {"stock": 0}, {**editor.headers, "If-Match": "1"})
    assert response.status_code == 200
    assert sql.scalar("SELECT stock FROM products WHERE id = %s", catalog["chair"]) == 0


def test_stale_if_match_gets_412_and_changes_nothing(client, sql, editor, catalog):
    lamp = catalog["lamp"]
    first = send_json(client, "PATCH", f"/api/v1/products/{lamp}", {"stock": 1},
                      {**editor.headers, "If-Match": '"1"'})
    assert first.status_code == 200
    stale = send_json(client, "PATCH", f"/api/v1/products/{lamp}", {"stock": 50},
                      {**editor.headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["ETag"] == '"2"'
    assert "changed since you read it" in stale.json["error"]
    assert sql.scalar("SELECT stock FROM products WHERE id = %s", lamp) == 1
    assert len(revisions(sql, lamp)) == 1


@pytest.mark.parametrize("if_match", ['W/"1"', '"banana"', "0"])
def test_if_match_that_names_no_current_version_is_412(client, sql, editor, catalog, if_match):
    response = send_json(client, "PATCH", f"/api/v1/products/{catalog['lamp']}", {"stock": 9},
                         {**editor.headers, "If-Match": if_match})
    assert response.status_code == 412
    assert sql.scalar("SELECT stock FROM products WHERE id = %s", catalog["lamp"]) == 4


def test_patch_without_if_match_is_428(client, sql, editor, catalog):
    response = send_json(client, "PATCH", f"/api/v1/products/{catalog['lamp']}", {"stock": 9},
                         editor.headers)
    assert response.status_code == 428
    assert "If-Match" in response.json["error"]
    assert sql.scalar("SELECT stock FROM products WHERE id = %s", catalog["lamp"]) == 4


def test_delete_is_a_soft_delete_recorded_in_history(client, sql, editor, catalog):
    lamp = catalog["lamp"]
    response = client.delete(f"/api/v1/products/{lamp}", headers=editor.headers)
    assert response.status_code == 200
    assert response.json["is_active"] is False
    assert sql.scalar("SELECT is_active FROM products WHERE id = %s", lamp) is False
    [revision] = revisions(sql, lamp)
    assert revision["source"] == "api"
    assert revision["changes"] == {"is_active": {"before": True, "after": False}}
    assert client.get(f"/api/v1/products/{lamp}").status_code == 404
    assert client.get(f"/api/v1/products/{lamp}", headers=editor.headers).status_code == 200


def test_delete_with_stale_if_match_is_412(client, sql, editor, catalog):
    response = client.delete(f"/api/v1/products/{catalog['lamp']}",
                             headers={**editor.headers, "If-Match": '"7"'})
    assert response.status_code == 412
    assert sql.scalar("SELECT is_active FROM products WHERE id = %s", catalog["lamp"]) is True


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/api/v1/products", {"name": "X", "price": "1", "category_id": 1}),
    ("PATCH", "/api/v1/products/{lamp}", {"stock": 1}),
    ("DELETE", "/api/v1/products/{lamp}", None),
])
def test_writes_without_a_token_are_401(client, sql, catalog, method, path, body):
    response = send_json(client, method, path.format(lamp=catalog["lamp"]), body,
                         {"If-Match": '"1"'})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert sql.scalar("SELECT count(*) FROM product_revisions") == 0


def test_a_signed_in_cookie_session_alone_cannot_write(client, sql, editor, catalog):
    from tests.support.clients import signed_in

    from .conftest import EDITOR_EMAIL

    signed_in(client, EDITOR_EMAIL)
    response = send_json(client, "PATCH", f"/api/v1/products/{catalog['lamp']}", {"stock": 0},
                         {"If-Match": '"1"'})
    assert response.status_code == 401
    response = client.delete(f"/api/v1/products/{catalog['lamp']}")
    assert response.status_code == 401
    assert sql.scalar("SELECT stock FROM products WHERE id = %s", catalog["lamp"]) == 4


@pytest.mark.parametrize("state", ["revoked", "expired", "inactive-user", "garbage"])
def test_unusable_tokens_are_refused(client, sql, catalog, state):
    user = sql.user("other@example.com", is_active=state != "inactive-user")
    raw = "vit_" + "x" * 43
    if state == "revoked":
        insert_token(sql, user, raw, revoked=True)
    elif state == "expired":
        insert_token(sql, user, raw, days=-1)
    elif state == "inactive-user":
        insert_token(sql, user, raw)
    else:
        raw = "vit_not-a-token"
    response = client.delete(f"/api/v1/products/{catalog['lamp']}",
                             headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert sql.scalar("SELECT is_active FROM products WHERE id = %s", catalog["lamp"]) is True


def test_unknown_category_is_a_field_error(client, sql, editor, catalog):
    response = send_json(client, "POST", "/api/v1/products",
                         {"name": "Lamp", "price": "1.00", "category_id": 999999},
                         editor.headers)
    assert response.status_code == 422
    assert response.json["fields"] == {"category_id": "That category does not exist."}
    assert sql.scalar("SELECT count(*) FROM products") == 4


def test_patch_of_missing_product_is_404(client, editor):
    response = send_json(client, "PATCH", "/api/v1/products/424242", {"stock": 1},
                         {**editor.headers, "If-Match": '"1"'})
    assert response.status_code == 404 and response.json["status"] == 404
