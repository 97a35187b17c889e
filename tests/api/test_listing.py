"""``GET /api/v1/products``: the catalog's filters, page and cursor pagination, bad values."""

from __future__ import annotations

import pytest


def names(response) -> list[str]:
    return [item["name"] for item in response.json["items"]]


def test_lists_active_products_newest_first(client, catalog):
    response = client.get("/api/v1/products")
    assert response.status_code == 200
    assert set(names(response)) == {"Brass Floor Lamp", "Glass Pendant", "Oak Chair"}
    assert response.json["total"] == 3 and response.json["total_exact"] is True
    assert response.json["next"] is None and response.json["prev"] is None


@pytest.mark.parametrize("query,expected", [
    # "lamp" and "light" are seeded synonyms, and the category path ("Lighting") is searched.
    ("q=lamp", {"Brass Floor Lamp", "Glass Pendant"}),
    ("q=bras", {"Brass Floor Lamp"}),
    ("category=lighting", {"Brass Floor Lamp", "Glass Pendant"}),
    ("category=lighting&category=seating", {"Brass Floor Lamp", "Glass Pendant", "Oak Chair"}),
    ("brand=Nordform", {"Oak Chair"}),
    ("brand=Lumen&in_stock=1", {"Brass Floor Lamp"}),
    ("min_price=90&max_price=100", {"Oak Chair"}),
    ("in_stock=true&max_price=100", {"Oak Chair"}),
])
def test_filters_match_the_catalog(client, catalog, query, expected):
    response = client.get(f"/api/v1/products?{query}")
    assert response.status_code == 200
    assert set(names(response)) == expected
    assert response.json["total"] == len(expected)


def test_sort_by_price(client, catalog):
    up = client.get("/api/v1/products?sort=price_asc")
    down = client.get("/api/v1/products?sort=price_desc")
    assert names(up) == ["Glass Pendant", "Oak Chair", "Brass Floor Lamp"]
    assert names(down) == list(reversed(names(up)))


def test_next_links_walk_every_product_once(client, sql, catalog):
    for index in range(7):
        sql.product(f"Extra {index}", category_id=catalog["seating"], price=f"{10 + index}.00")
    url = "/api/v1/products?sort=price_asc&per_page=3&category=seating"
    seen = []
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json
        seen += names(response)
        url = response.json["next"]
        assert url is None or ("category=seating" in url and "sort=price_asc" in url)
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 8
    assert seen[0] == "Extra 0" and seen[-1] == "Oak Chair"


def test_relevance_pages_by_number(client, sql, catalog):
    for index in range(5):
        sql.product(f"Lamp {index}", category_id=catalog["lighting"])
    first = client.get("/api/v1/products?q=lamp&per_page=4")
    assert first.json["page"] == 1 and "page=2" in first.json["next"]
    second = client.get(first.json["next"])
    assert second.json["page"] == 2 and "page=1" in second.json["prev"]
    # 5 lamps, the floor lamp and (lamp = light, a seeded synonym, in "Lighting") the pendant
    assert len(names(first) + names(second)) == 7
    assert set(names(first)).isdisjoint(names(second))


@pytest.mark.parametrize("query,message", [
    ("min_price=-1", "min_price"),
    ("min_price=abc", "min_price"),
    ("max_price=NaN", "max_price"),
    ("min_price=10&max_price=5", "min_price cannot be more than max_price"),
    ("sort=cheapest", "sort must be one of"),
    ("page=0", "page"),
    ("page=99999999999", "page"),
    ("per_page=1000", "per_page"),
    ("in_stock=maybe", "in_stock"),
    ("cursor=garbage", "cursor"),
    ("q=" + "x" * 201, "q can be at most"),
    ("q=lamp%00", "NUL"),
])
def test_bad_parameters_are_400_with_a_message(client, catalog, query, message):
    response = client.get(f"/api/v1/products?{query}")
    assert response.status_code == 400
    assert message in response.json["error"]


def test_tampered_cursor_out_of_range_is_400(client, catalog):
    import base64
    import json

    raw = json.dumps(["price_asc", ["1.00", 10**30]]).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    response = client.get(f"/api/v1/products?sort=price_asc&cursor={cursor}")
    assert response.status_code == 400


def test_list_etag_gives_304_until_something_changes(client, sql, catalog):
    first = client.get("/api/v1/products")
    etag = first.headers["ETag"]
    assert client.get("/api/v1/products", headers={"If-None-Match": etag}).status_code == 304
    sql.execute("UPDATE products SET price = 1, version = version + 1 WHERE id = %s",
                catalog["lamp"])
    assert client.get("/api/v1/products", headers={"If-None-Match": etag}).status_code == 200
