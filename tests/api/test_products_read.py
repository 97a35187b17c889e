"""Reading products and categories: JSON shape, visibility, ETag/Last-Modified and 304."""

from __future__ import annotations

from email.utils import format_datetime


def test_product_by_id_and_by_slug(client, catalog):
    by_id = client.get(f"/api/v1/products/{catalog['lamp']}")
    by_slug = client.get("/api/v1/products/brass-floor-lamp")
    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.json == by_slug.json
    body = by_id.json
    assert body["name"] == "Brass Floor Lamp" and body["price"] == "120.00"
    assert body["attributes"] == {"brand": "Lumen", "colour": "brass"}
    assert body["in_stock"] is True and body["category_id"] == catalog["lighting"]
    assert by_id.headers["ETag"] == '"1"' and by_id.headers["Last-Modified"]


def test_inactive_and_missing_products_are_404_for_the_public(client, catalog):
    for ref in (catalog["hidden"], "hidden-stool", "no-such-thing", "99999999999999999999999"):
        response = client.get(f"/api/v1/products/{ref}")
        assert response.status_code == 404, ref
        assert response.json["error"] == "No product with that id or slug."


def test_conditional_get_answers_304_until_the_product_changes(client, sql, catalog):
    url = f"/api/v1/products/{catalog['lamp']}"
    first = client.get(url)
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    sql.execute("UPDATE products SET stock = 0, version = version + 1,"
                " updated_at = now() + interval '2 seconds' WHERE id = %s", catalog["lamp"])
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json["stock"] == 0
    assert changed.headers["ETag"] == '"2"'


def test_if_modified_since_in_the_past_gets_the_body(client, catalog):
    url = f"/api/v1/products/{catalog['lamp']}"
    from datetime import UTC, datetime

    old = format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get(url, headers={"If-Modified-Since": old}).status_code == 200


def test_categories_list_with_etag(client, sql, catalog):
    response = client.get("/api/v1/categories")
    assert response.status_code == 200
    assert [c["name"] for c in response.json["items"]] == ["Lighting", "Seating"]
    etag = response.headers["ETag"]
    assert client.get("/api/v1/categories", headers={"If-None-Match": etag}).status_code == 304
    sql.category("Outdoor")
    changed = client.get("/api/v1/categories", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and len(changed.json["items"]) == 3
