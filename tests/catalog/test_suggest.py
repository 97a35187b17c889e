"""The search box's suggestions (``/products/suggest``): categories, brands and products whose
names start with what is typed, as the combobox's listbox for htmx and as a page of links
without it; bounded, escaped, and refusing what cannot be searched."""

import pytest

from app.catalog.suggest import MAX_PRODUCTS, like_escape, words_of
from tests.support.html import parse

from .conftest import HX


def suggest(client, q, htmx=True):
    return client.get("/products/suggest", query_string={"q": q}, headers=HX if htmx else {})


def options(html):
    """(kind, label) of every option in the listbox fragment."""
    out = []
    for option in parse(html).find_all(role="option"):
        kind = "product" if option.get("data-href") else option.get("data-facet")
        out.append((kind, option.find("span", class_="suggest-label").text))
    return out


def test_htmx_gets_the_listbox_options_grouped_by_kind(client, shop):
    response = suggest(client, "lamp")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    body = response.data.decode()
    assert "<html" not in body
    # "Lamps" starts a word of both sub-categories; products by a word of their name, the
    # shortest names first.
    assert options(body) == [
        ("category", "Floor Lamps"), ("category", "Table Lamps"),
        ("product", "Brass Floor Lamp"), ("product", "Brass Table Lamp"),
        ("product", "Linen Floor Lamp"), ("product", "Oak Reading Lamp"),
        ("product", "Ceramic Table Lamp"),
    ]
    root = parse(body)
    floor = root.find(role="option", **{"data-value": "lighting-floor-lamps"})
    assert floor.get("data-facet") == "category"
    assert "in Lighting · 3 products" in floor.text
    # Every option has an id for aria-activedescendant, and the group a heading.
    ids = [o.get("id") for o in root.find_all(role="option")]
    assert all(ids) and len(set(ids)) == len(ids)
    assert [g.get("aria-labelledby") for g in root.find_all(role="group")] == [
        "suggest-h-category", "suggest-h-product"]
    # The count for the screen reader's live region.
    status = root.find("hx-partial", **{"hx-target": "#catalog-suggest-status"})
    assert status.text.startswith("7 suggestions")


def test_a_brand_counts_only_active_products_and_a_product_links_to_its_page(client, shop):
    body = suggest(client, "nord").data
    root = parse(body)
    brand = root.find(role="option", **{"data-facet": "brand"})
    assert brand.get("data-value") == "Nordhavn"
    assert "3 products" in brand.text  # the inactive chair is not counted
    assert options(body)[0] == ("brand", "Nordhavn")
    product = parse(suggest(client, "leather lo").data).find(role="option")
    assert product.get("data-href") == "/products/leather-lounge-chair"


def test_a_department_counts_its_sub_categories(client, shop):
    root = parse(suggest(client, "light").data)
    lighting = root.find(role="option", **{"data-value": "lighting"})
    assert "5 products" in lighting.text and "in " not in lighting.text


def test_full_page_without_htmx_lists_the_suggestions_as_links(client, shop):
    response = suggest(client, "oak", htmx=False)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    root = parse(response.data)
    assert root.find("html") is not None
    links = {a.text: a.get("href") for a in root.select(".suggest-links a")}
    assert links == {"Oak Dining Chair": "/products/oak-dining-chair",
                     "Oak Reading Lamp": "/products/oak-reading-lamp"}
    assert root.find("a", href="/products?q=oak").text == "Search for “oak”"
    brand_page = parse(suggest(client, "hal", htmx=False).data)
    assert brand_page.find("a", href="/products?brand=Halden") is not None
    category_page = parse(suggest(client, "chai", htmx=False).data)
    assert category_page.find("a", href="/products?category=furniture-chairs") is not None


@pytest.mark.parametrize("q", ["", " ", "l", "zzzq"])
def test_too_short_or_unknown_text_suggests_nothing(client, shop, q):
    response = suggest(client, q)
    assert response.status_code == 200
    assert options(response.data) == []


def test_like_wildcards_are_literal(client, sql, shop):
    throws = sql.category("Throws")
    sql.product("100% Linen Throw", category_id=throws, slug="linen-throw-100")
    sql.product("Cotton_Wool Throw", category_id=throws, slug="cotton-wool-throw")
    assert options(suggest(client, "100%").data) == [("product", "100% Linen Throw")]
    # Unescaped, "%" would match every name and "_" any letter ("_al" -> "Halden").
    assert options(suggest(client, "%").data) == []
    assert options(suggest(client, "_al").data) == []
    assert options(suggest(client, "cotton_w").data) == [("product", "Cotton_Wool Throw")]
    assert options(suggest(client, "cotton w").data) == []


def test_products_are_bounded_and_folded_by_name(client, sql, shop):
    bowls = sql.category("Bowls")
    for i in range(30):
        sql.product(f"Oak Bowl {i % 12:02d}", category_id=bowls, slug=f"oak-bowl-{i}")
    shown = [label for kind, label in options(suggest(client, "oak bo").data)]
    assert len(shown) == len(set(shown)) == MAX_PRODUCTS
    assert all(label.startswith("Oak Bowl") for label in shown)


@pytest.mark.parametrize(("q", "message"), [
    ("lamp\x00", "characters that are not allowed"),
    ("x" * 201, "at most 200 characters"),
])
def test_bad_input_gets_a_clear_error_both_ways(client, shop, q, message):
    fragment = suggest(client, q)
    assert fragment.status_code == 400
    assert fragment.headers["HX-Retarget"] == "#messages"
    assert message in fragment.data.decode() and "<html" not in fragment.data.decode()
    page = suggest(client, q, htmx=False)
    assert page.status_code == 400
    assert message in page.data.decode() and "<html" in page.data.decode()


def test_long_text_within_the_limit_is_looked_at_in_part(client, shop):
    response = suggest(client, "oak " * 50)
    assert response.status_code == 200


def test_escaping_and_words():
    assert like_escape("50%_off\\") == "50\\%\\_off\\\\"
    assert words_of("  Oak, TABLE-lamp ") == ["oak", "table", "lamp"]
    assert len(words_of("a b c d e f")) == 4


def test_suggestions_have_a_rate_limit_of_their_own(make_app):
    app = make_app("testing", RATELIMIT_ENABLED=True, RATELIMIT_SEARCH="4 per minute",
                   REDIS_URL=None)
    client = app.test_client()
    for _ in range(4):
        assert suggest(client, "oak").status_code == 200
    refused = suggest(client, "oak")
    assert refused.status_code == 429 and refused.headers["HX-Retarget"] == "#messages"
    # Typing asks for both: the suggestions do not use up the search's own limit.
    assert client.get("/products?q=oak").status_code == 200
