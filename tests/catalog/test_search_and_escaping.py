"""Text search edge cases: tsquery and LIKE metacharacters, hostile names and queries (always
escaped), highlighting and "Did you mean"."""

import pytest

from tests.support.html import parse

from .conftest import HX, names

HOSTILE = '<script>alert("x")</script> & <b>Bold</b> Lamp \'quoted\''


@pytest.mark.parametrize("q", [
    "%", "_", "\\", "%_%", "lamp%", "l_mp", "lamp:*", "lamp & chair", "lamp | !chair",
    "(lamp", "lamp)", "'", "''", "<->", "lamp <-> chair", '"', '"unclosed phrase', "-", "--lamp",
    "or", "lamp or", "!", ":", "*", "&&", "lamp\\", "\u00a0lamp", "😀", "lämp", "ß", "a" * 200,
    "select * from products; --", "' OR 1=1 --",
])
def test_special_characters_in_q_never_break_the_search(client, shop, q):
    for headers in ({}, HX):
        response = client.get("/products", query_string={"q": q}, headers=headers)
        assert response.status_code == 200, q


def test_like_wildcards_are_not_wildcards(client, sql):
    category = sql.category("Deals")
    sql.product("Percent Lamp", category_id=category, attributes={"brand": "50% Off"})
    sql.product("Other Lamp", category_id=category, attributes={"brand": "50X Off"})
    sql.product("Under Lamp", category_id=category, attributes={"brand": "A_B"})
    sql.product("Other Under", category_id=category, attributes={"brand": "AXB"})
    assert names(client.get("/products", query_string={"brand": "50% Off"}).data) == [
        "Percent Lamp"]
    assert names(client.get("/products", query_string={"brand": "A_B"}).data) == ["Under Lamp"]
    assert names(client.get("/products", query_string={"brand": "%"}).data) == []
    assert names(client.get("/products", query_string={"q": "%"}).data) == []


def test_hostile_product_names_are_escaped_everywhere(client, sql):
    category = sql.category("Lighting")
    sql.product(HOSTILE, category_id=category, slug="hostile",
                attributes={"brand": '"><img src=x onerror=alert(1)>', "colour": "<i>red</i>"},
                description="<iframe src=//evil></iframe>")
    for url in ("/products", "/products?q=lamp", "/products?q=quoted", "/products?q=bol",
                "/products/hostile"):
        for headers in ({}, HX):
            body = client.get(url, headers=headers).data.decode()
            assert "<script>" not in body and "<img src=x" not in body, url
            assert "<iframe" not in body and "<i>red</i>" not in body, url
            assert "&lt;script&gt;" in body, url
    # The checkbox value round-trips the raw brand, escaped in the attribute.
    box = parse(client.get("/products").data).by_id("facet-brand").find("input")
    assert box.get("value") == '"><img src=x onerror=alert(1)>'


def test_hostile_queries_are_escaped_in_every_place_they_are_echoed(client, shop):
    q = '"><script>alert(1)</script>'
    for headers in ({}, HX):
        body = client.get("/products", query_string={"q": q}, headers=headers).data.decode()
        assert "<script>alert(1)" not in body
    page = parse(client.get("/products", query_string={"q": q}).data)
    assert page.by_id("catalog-q").get("value") == q  # shown back exactly, as text


def test_matched_words_are_highlighted_in_names_with_everything_else_escaped(client, sql):
    category = sql.category("Lighting")
    sql.product("Brass Lamps & <Shade> \"B\"", category_id=category, slug="brass-lamp")
    body = client.get("/products?q=lamp").data.decode()  # stemmed: lamp finds "Lamps"
    assert ('<span class="product-name">Brass <mark>Lamps</mark> &amp; &lt;Shade&gt; '
            '&#34;B&#34;</span>') in body
    typed = client.get("/products?q=bra").data.decode()  # as typed: a prefix
    assert "<mark>Brass</mark> Lamps &amp; &lt;Shade&gt;" in typed
    plain = client.get("/products").data.decode()
    assert "<mark>" not in plain


def test_highlighting_cannot_be_forged_with_control_characters(client, sql):
    category = sql.category("Lighting")
    sql.product("Lamp \x01<b>x</b>\x02 end", category_id=category, slug="forged")
    body = client.get("/products?q=lamp").data.decode()
    assert "<b>x</b>" not in body
    assert "<mark>Lamp</mark>" in body


def test_did_you_mean_suggests_a_catalog_word_that_finds_products(client, shop):
    root = parse(client.get("/products?q=lether").data)
    suggestion = root.find("p", class_="suggestion")
    assert suggestion is not None and suggestion.text.startswith("Did you mean")
    link = suggestion.find("a")
    assert link.text == "leather"
    assert link.get("href") == "/products?q=leather"
    assert names(client.get(link.get("href")).data) == ["Leather Lounge Chair"]


def test_did_you_mean_keeps_filters_when_it_can(client, shop):
    root = parse(client.get("/products?q=lether&category=furniture").data)
    assert root.find("p", class_="suggestion").find("a").get("href") == \
        "/products?q=leather&category=furniture"
    # With filters under which the corrected word finds nothing, it offers it without them.
    root = parse(client.get("/products?q=lether&category=lighting").data)
    suggestion = root.find("p", class_="suggestion")
    assert suggestion.find("a").get("href") == "/products?q=leather"
    assert "without the current filters" in suggestion.text


def test_no_suggestion_for_words_that_left_the_catalog(client, sql):
    category = sql.category("Lighting")
    gone = sql.product("Velvet Lamp", category_id=category)
    sql.product("Linen Lamp", category_id=category)
    sql.execute("DELETE FROM products WHERE id = %s", gone)
    root = parse(client.get("/products?q=velvt").data)
    assert root.find("p", class_="suggestion") is None  # "velvet" finds nothing any more
    assert root.find("div", class_="empty-state") is not None


def test_no_suggestion_when_nothing_is_close(client, shop):
    root = parse(client.get("/products?q=qqqqzzzz").data)
    assert root.find("p", class_="suggestion") is None
