"""``Idempotency-Key`` on the API's writes: a retry with the same key and body gets the first
response and changes nothing again; the same key with another body is a 422; a malformed key a
400; keys belong to their token's user. (The key still in progress, 409, needs two requests at
once: ``tests/editor/test_races.py``.)"""

from __future__ import annotations

import pytest

from .conftest import insert_token, send_json

KEY = '"7d0e3a8c-1f6b-4d0a-9c55-2b8a0f4c9e11"'


def twice(client, method, url, body, headers):
    return (send_json(client, method, url, body, headers),
            send_json(client, method, url, body, headers))


def assert_replayed(first, second):
    assert second.status_code == first.status_code
    assert second.get_data() == first.get_data()
    assert second.headers["Idempotent-Replayed"] == "true"
    for header in ("ETag", "Location", "Last-Modified"):
        assert second.headers.get(header) == first.headers.get(header)


def test_a_create_retried_with_its_key_creates_one_product(client, sql, editor, catalog):
    body = {"name": "Linen Shade", "price": "45.50", "category_id": catalog["lighting"]}
    first, second = twice(client, "POST", "/api/v1/products", body,
                          {**editor.headers, "Idempotency-Key": KEY})
    assert first.status_code == 201
    assert_replayed(first, second)
    assert sql.scalar("SELECT count(*) FROM products WHERE name = 'Linen Shade'") == 1


def test_a_patch_retried_with_its_key_replays_200_instead_of_412(client, sql, editor, catalog):
    lamp = catalog["lamp"]
    headers = {**editor.headers, "If-Match": '"1"', "Idempotency-Key": "retry-1"}
    first, second = twice(client, "PATCH", f"/api/v1/products/{lamp}", {"stock": 9}, headers)
    assert first.status_code == 200 and first.json["version"] == 2
    assert_replayed(first, second)
    assert sql.scalar("SELECT count(*) FROM product_revisions WHERE product_id = %s", lamp) == 1


def test_a_delete_retried_with_its_key_is_applied_once(client, sql, editor, catalog):
    lamp = catalog["lamp"]
    headers = {**editor.headers, "Idempotency-Key": "delete-lamp-1"}
    first = client.delete(f"/api/v1/products/{lamp}", headers=headers)
    second = client.delete(f"/api/v1/products/{lamp}", headers=headers)
    assert first.status_code == 200
    assert_replayed(first, second)
    assert sql.scalar("SELECT count(*) FROM product_revisions WHERE product_id = %s", lamp) == 1


def test_the_same_key_with_another_body_is_422_and_changes_nothing(client, sql, editor,
                                                                   catalog):
    lamp = catalog["lamp"]
    headers = {**editor.headers, "If-Match": '"1"', "Idempotency-Key": KEY}
    assert send_json(client, "PATCH", f"/api/v1/products/{lamp}", {"stock": 9},
                     headers).status_code == 200
    other = send_json(client, "PATCH", f"/api/v1/products/{lamp}", {"stock": 1}, headers)
    assert other.status_code == 422
    assert "already used for a different request" in other.json["error"]
    assert other.json["fields"] == {"Idempotency-Key": "Already used for another request."}
    assert sql.scalar("SELECT stock FROM products WHERE id = %s", lamp) == 9
    elsewhere = send_json(client, "PATCH", f"/api/v1/products/{catalog['chair']}",
                          {"stock": 9}, headers)
    assert elsewhere.status_code == 422  # another path is another request too


def test_a_refused_request_does_not_use_up_its_key(client, sql, editor, catalog):
    lamp = catalog["lamp"]
    headers = {**editor.headers, "If-Match": '"1"', "Idempotency-Key": KEY}
    bad = send_json(client, "PATCH", f"/api/v1/products/{lamp}", {"stock": -1}, headers)
    assert bad.status_code == 422
    good = send_json(client, "PATCH", f"/api/v1/products/{lamp}", {"stock": 2}, headers)
    assert good.status_code == 200 and "Idempotent-Replayed" not in good.headers


def test_a_stale_if_match_is_still_412_with_a_key(client, sql, editor, catalog):
    lamp = catalog["chair"]
    send_json(client, "PATCH", f"/api/v1/products/{lamp}", {"stock": 1},
              {**editor.headers, "If-Match": '"1"'})
    stale = send_json(client, "PATCH", f"/api/v1/products/{lamp}", {"price": "1.00"},
                      {**editor.headers, "If-Match": '"1"', "Idempotency-Key": KEY})
    assert stale.status_code == 412  # strict: no field-level merge over the API
    assert sql.scalar("SELECT count(*) FROM command_keys") == 0


def test_keys_belong_to_their_user(client, sql, editor, catalog):
    other = sql.user("other@example.com", role="editor")
    insert_token(sql, other, "vit_" + "o" * 43)
    body = {"name": "Linen Shade", "price": "45.50", "category_id": catalog["lighting"]}
    mine = send_json(client, "POST", "/api/v1/products", body,
                     {**editor.headers, "Idempotency-Key": KEY})
    theirs = send_json(client, "POST", "/api/v1/products", body,
                       {"Authorization": "Bearer vit_" + "o" * 43, "Idempotency-Key": KEY})
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json["id"] != theirs.json["id"]


@pytest.mark.parametrize("key", ['""', '"a"b"', "x" * 300, "with space", "\u00e9t\u00e9"])
def test_a_malformed_key_is_400(client, sql, editor, catalog, key):
    response = send_json(client, "POST", "/api/v1/products",
                         {"name": "Shade", "price": "1.00", "category_id": catalog["lighting"]},
                         {**editor.headers, "Idempotency-Key": key})
    assert response.status_code == 400
    assert response.json["fields"] == {"Idempotency-Key": "Not a valid key."}
    assert sql.scalar("SELECT count(*) FROM products WHERE name = 'Shade'") == 0


def test_the_document_describes_the_key_and_the_strict_if_match(client):
    document = client.get("/api/v1/openapi.json").json
    patch = document["paths"]["/products/{ref}"]["patch"]
    names = [p["name"] for p in patch["parameters"] if p["in"] == "header"]
    assert "Idempotency-Key" in names and "If-Match" in names
    assert "409" in patch["responses"] and "Idempotent-Replayed" in \
        patch["responses"]["200"]["headers"]
    assert "no field-level merge" in document["info"]["description"]
    post = document["paths"]["/products"]["post"]
    assert [p["name"] for p in post["parameters"]] == ["Idempotency-Key"]
