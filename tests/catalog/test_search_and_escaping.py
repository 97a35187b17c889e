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


#: The result card results.html wrote inline before product_card (app/catalog/page_context.py).
INLINE_CARD = "\n".join([
    '{% from "partials/catalog/picture.html" import picture %}',
    "{% for product, name_html in rows %}",
    "  {% set label, state = stock_text(product) %}",
    '  <li class="product-card">',
    '    <a class="product-link" href="{{ product_url(product, params) }}">',
    "      {%- if product.card_image and product.card_image.variants %}",
    "      {#- The card's link already names the product. #}",
    '      {{ picture(product.card_image, "(max-width: 40rem) 50vw, 16rem",'
    ' class="product-thumb product-photo", alt="") }}',
    "      {%- else %}",
    '      <span class="product-thumb" aria-hidden="true">'
    "{{ ((product.brand or product.name)|string)[:1] }}</span>",
    "      {%- endif %}",
    '      <span class="product-name">{{ name_html }}</span>',
    "    </a>",
    '    <span class="product-meta">{{ product.category.name if product.category }}'
    "{% if product.brand %} · {{ product.brand }}{% endif %}</span>",
    '    <span class="product-price live-price-{{ product.id }}">{{ money(product.price) }}'
    "</span>",
    '    <span class="stock stock-{{ state }} live-stock-{{ product.id }}">{{ label }}</span>',
    "  </li>",
    "  {% endfor %}",
])
NEW_CARD = "\n".join([
    '{% from "partials/catalog/picture.html" import picture %}',
    "{% for product, name_html in rows %}",
    "  {#- The card's link already names the product. #}",
    "  {{ product_card(product, name_html, product_url(product, params),",
    '                  picture(product.card_image, "(max-width: 40rem) 50vw, 16rem",'
    ' class="product-thumb product-photo", alt="")',
    "                  if product.card_image and product.card_image.variants else none) }}",
    "  {% endfor %}",
])


def test_a_result_card_is_written_exactly_as_the_inline_template_wrote_it(app):
    from decimal import Decimal
    from functools import partial

    from markupsafe import Markup

    from app.catalog.page_context import product_card, stock_text
    from app.catalog.page_query import Card
    from app.catalog.tree import CategoryNode

    lamps = CategoryNode(3, "Floor & Table <Lamps>", "lamps", None)
    image = {"alt": "A lamp", "w": 640, "h": 480, "variants": [
        {"w": 320, "h": 240, "webp": "a" * 64, "jpeg": "b" * 64},
        {"w": 640, "h": 480, "webp": "c" * 64, "jpeg": "d" * 64}]}
    cards = [
        Card(1, "brass-lamp", "Brass Lamp", Decimal("1234.5"), 3, "Nordhavn", lamps, None),
        Card(2, "x", "<script>x</script>", Decimal("0"), 0, None, None, None),
        Card(3, "y", "Chair", Decimal("9.99"), 40, 'K & "Co"', None, {"variants": []}),
        Card(4, "z", "Lamp", Decimal("45"), 5, "Halden", lamps, image),
    ]
    names = [Markup("Brass <mark>Lamp</mark>"), Markup("&lt;script&gt;x&lt;/script&gt;"),
             Markup("Chair"), Markup("Lamp")]

    def money(value):
        return "" if value is None else f"£{value:,.2f}"

    context = {"rows": list(zip(cards, names, strict=True)), "params": None,
               "product_url": lambda item, params: f"/products/{item.slug}?q=a&b=<c>",
               "stock_text": stock_text, "money": money,
               "product_card": partial(product_card, money=money)}
    inline = app.jinja_env.from_string(INLINE_CARD).render(context)
    written = app.jinja_env.from_string(NEW_CARD).render(context)
    assert written == inline
    assert "<picture" in written and "&lt;script&gt;" in written and "&lt;Lamps&gt;" in written
