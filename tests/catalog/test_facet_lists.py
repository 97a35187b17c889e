"""Facet lists that scale: long lists fold after their first values ("Show N more", a
<details>: no JavaScript needed) with every count still exact, a search box in long lists,
sizes grouped by kind, the price distribution, and what the phone's sheet shows (the number
of active filters, "Show N results"). The price inputs show a swapped range."""

import pytest

from app.catalog import facets
from tests.support.html import parse

from .conftest import HX, facet_counts

BRANDS = ["Aster", "Brightwater", "Cobalt", "Fennwick", "Greywood", "Halden", "Juniper",
          "Kestrel", "Lumen", "Marlow", "Nordhavn", "Orrery"]


@pytest.fixture
def brands(sql):
    """Twelve brands, brand i with i + 1 products; sizes of three kinds."""
    category = sql.category("Mixed")
    sizes = ["M", "42", "A5", "XS", "40", "A4", "L", "38"]
    for i, brand in enumerate(BRANDS):
        for j in range(i + 1):
            sql.product(f"{brand} item {j}", category_id=category, price=str(5 + 40 * i),
                        attributes={"brand": brand, "size": sizes[(i + j) % len(sizes)]},
                        slug=f"{brand.lower()}-{j}")
    return category


def brand_lists(root):
    fieldset = root.by_id("facet-brand")
    shown = [box.get("value") for box in fieldset.by_id("facet-brand-values").find_all("input")]
    more = fieldset.find("details", class_="facet-more")
    folded = [box.get("value") for box in more.find_all("input")] if more else []
    return shown, folded, more


def test_a_long_list_shows_six_and_folds_the_rest_with_exact_counts(client, brands):
    root = parse(client.get("/products").data)
    shown, folded, more = brand_lists(root)
    assert shown == BRANDS[:6] and folded == BRANDS[6:]
    assert not more.has("open")
    assert "Show 6 more" in more.find("summary").text
    assert facet_counts(root, "brand") == {b: i + 1 for i, b in enumerate(BRANDS)}
    # A search box for a list this long, tied to its fieldset.
    search = root.by_id("facet-search-brand")
    assert search.get("aria-controls") == "facet-brand" and search.get("name") is None
    assert root.find("label", **{"for": "facet-search-brand"}) is not None


def test_a_ticked_value_in_the_folded_part_keeps_it_open_both_ways(client, brands):
    for htmx in (False, True):
        body = client.get("/products?brand=Nordhavn", headers=HX if htmx else {}).data
        _, folded, more = brand_lists(parse(body))
        assert "Nordhavn" in folded and more.has("open")


def test_a_short_list_is_not_folded(client, shop):
    root = parse(client.get("/products").data)
    shown, folded, more = brand_lists(root)
    assert more is None and folded == []
    assert shown == ["Greywood", "Halden", "Mossgrove", "Nordhavn"]
    assert root.find("input", id="facet-search-brand") is None


def test_sizes_are_grouped_by_kind_in_wearing_order(client, brands):
    fieldset = parse(client.get("/products").data).by_id("facet-size")
    headings = [h.text for h in fieldset.find_all("h3", class_="facet-group")]
    assert headings == ["Clothing", "Shoes", "Paper"]
    groups = [[box.get("value") for box in group.find_all("input")]
              for group in fieldset.find_all("div", role="group")]
    assert groups == [["XS", "M", "L"], ["38", "40", "42"], ["A5", "A4"]]
    assert [g.get("aria-labelledby") for g in fieldset.find_all("div", role="group")] == [
        "facet-size-clothing-title", "facet-size-shoes-title", "facet-size-paper-title"]


def bands(root):
    """(label, count, link) of the price distribution (a page, or an htmx answer's partial)."""
    region = root.find(id="catalog-price-hint") or root.find(
        "hx-partial", **{"hx-target": "#catalog-price-hint"})
    out = []
    for row in region.find_all("li", class_="price-band"):
        label = row.find(class_="band-label")
        out.append((label.text, row.find("span", class_="count").text, label.get("href")))
    return out


def test_the_price_distribution_counts_each_band_and_links_to_it(client, shop):
    # The whole catalog: the ledger's set, counted exactly in the same statement.
    root = parse(client.get("/products").data)
    assert bands(root) == [
        ("£25 – £49.99", "2", "/products?min_price=25&max_price=49.99"),
        ("£50 – £99.99", "2", "/products?min_price=50&max_price=99.99"),
        ("£100 – £249.99", "2", "/products?min_price=100&max_price=249.99"),
        ("£250 – £499.99", "1", "/products?min_price=250&max_price=499.99"),
    ]
    assert root.by_id("catalog-price-hint").find("ul").get("aria-label") == \
        "Number of results by price"
    # A text search: counted with its matches; the fragment carries the same rows.
    fragment = parse(client.get("/products?q=lamp", headers=HX).data)
    assert [(label, n) for label, n, _ in bands(fragment)] == [
        ("£25 – £49.99", "2"), ("£50 – £99.99", "2"), ("£100 – £249.99", "1")]
    # A band without matches between two with matches stays (it is part of the shape) and
    # is not a link; the filters already set stay in a band's link.
    root = parse(client.get("/products?brand=Nordhavn").data)
    assert bands(root) == [
        ("£25 – £49.99", "1", "/products?brand=Nordhavn&min_price=25&max_price=49.99"),
        ("£50 – £99.99", "0", None),
        ("£100 – £249.99", "1", "/products?brand=Nordhavn&min_price=100&max_price=249.99"),
        ("£250 – £499.99", "1", "/products?brand=Nordhavn&min_price=250&max_price=499.99"),
    ]


def test_a_band_link_filters_to_its_range(client, shop):
    root = parse(client.get("/products?min_price=50&max_price=99.99").data)
    assert sorted(n.text for n in root.find_all("span", class_="product-name")) == [
        "Linen Floor Lamp", "Oak Reading Lamp"]


@pytest.fixture
def fresh_statements():
    """Statements are built once per shape: build them again with patched constants."""
    facets._counts_statement.cache_clear()
    yield
    facets._counts_statement.cache_clear()


def test_a_broad_distribution_is_exact_from_the_ledger_and_follows_an_edit(client, shop, sql,
                                                                          sent_sql):
    """The whole catalog, a department, in stock: their price bands are the ledger's ``band``
    facet (migration 0017) - exact, no product row read - and an edit moves a product between
    bands on the very next page."""
    sent_sql.clear()
    root = parse(client.get("/products?category=lighting").data)
    assert [(label, n) for label, n, _ in bands(root)] == [
        ("£25 – £49.99", "2"), ("£50 – £99.99", "2"), ("£100 – £249.99", "1")]
    assert root.by_id("catalog-price-hint").find("ul").get("aria-label") == \
        "Number of results by price"
    assert not any("width_bucket" in s for s in sent_sql)  # the ledger, not the rows
    sql.execute("UPDATE products SET price = 300 WHERE name = 'Linen Floor Lamp'")
    root = parse(client.get("/products?category=lighting&in_stock=1").data)
    assert [(label, n) for label, n, _ in bands(root)] == [
        ("£25 – £49.99", "2"), ("£50 – £99.99", "1"), ("£100 – £249.99", "1")]
    root = parse(client.get("/products?category=lighting").data)
    assert [(label, n) for label, n, _ in bands(root)][-1] == ("£250 – £499.99", "1")


def test_a_sampled_match_set_has_an_estimated_distribution(client, shop, monkeypatch):
    monkeypatch.setattr(facets, "EXACT_ROW_BUDGET", 0)
    monkeypatch.setattr(facets, "SAMPLE_TARGET_ROWS", 10**9)
    root = parse(client.get("/products?q=lamp").data)
    assert [(label, n) for label, n, _ in bands(root)] == [
        ("£25 – £49.99", "about ~2"), ("£50 – £99.99", "about ~2"),
        ("£100 – £249.99", "about ~1")]


# -- the phone's sheet ----------------------------------------------------------------------------

def test_the_filters_button_counts_active_filters_and_the_sheet_shows_the_total(client, shop):
    root = parse(client.get("/products").data)
    toggle = root.by_id("catalog-filters-toggle")
    assert toggle.get("popovertarget") == "catalog-filters" and toggle.text.strip() == "Filters"
    assert root.by_id("catalog-filters").has("popover")
    assert root.by_id("catalog-show-results").text.strip() == "Show 7 results"

    url = "/products?brand=Halden&brand=Nordhavn&in_stock=1"
    for htmx in (False, True):
        body = parse(client.get(url, headers=HX if htmx else {}).data)
        count = body.find(class_="filter-count")
        assert count.text == "3 active"
        show = body.by_id("catalog-show-results") if not htmx else body.find(
            "hx-partial", **{"hx-target": "#catalog-show-results"})
        assert show.text.strip() == "Show 4 results"
    nothing = parse(client.get("/products?q=zzzz").data)
    assert nothing.by_id("catalog-show-results").text.strip() == "No results: change the filters"


# -- small fixes ----------------------------------------------------------------------------------

def test_swapped_prices_refresh_the_inputs_even_while_typing(client, shop):
    response = client.get("/products?min_price=25&max_price=10",
                          headers={**HX, "HX-Source": "form#catalog-form"})
    root = parse(response.data)
    price = root.find("hx-partial", **{"hx-target": "#catalog-price"})
    assert price is not None
    assert price.by_id("catalog-min-price").get("value") == "10"
    assert price.by_id("catalog-max-price").get("value") == "25"
    # Not swapped: the inputs being typed in are left alone.
    typed = parse(client.get("/products?min_price=10&max_price=25",
                             headers={**HX, "HX-Source": "form#catalog-form"}).data)
    assert typed.find("hx-partial", **{"hx-target": "#catalog-price"}) is None
    # The full page shows the applied values too.
    page = parse(client.get("/products?min_price=25&max_price=10").data)
    assert page.by_id("catalog-min-price").get("value") == "10"


def test_the_menus_search_once_the_choice_settles(client, shop):
    root = parse(client.get("/products").data)
    assert "change delay:500ms target:.js-live-menu" in root.by_id("catalog-form").get("hx-trigger")
    for menu in ("catalog-sort", "catalog-per-page"):
        assert root.by_id(menu).get("class") == "js-live-menu"


#: The macro facet_item (app/catalog/page_context.py) replaced, as it was in facets.html.
FACET_ITEM_MACRO = "\n".join([
    "{% macro facet_item(name, v) -%}",
    "{% set id = input_id(name, v.value) %}",
    '<li class="facet-value depth-{{ v.depth }}{% if v.disabled %} is-disabled{% endif %}">',
    '  <input type="checkbox" class="js-live-choice" id="{{ id }}" name="{{ name }}"'
    ' value="{{ v.value }}"',
    "         {%- if v.selected %} checked{% endif %}{% if v.disabled %} disabled{% endif %}>",
    '  <label for="{{ id }}">{{ v.label }} <span class="count">',
    '    {%- if v.approximate and v.count %}<span class="visually-hidden">about </span>~'
    '{{ "{:,}".format(v.count) }}{% else %}{{ "{:,}".format(v.count) }}{% endif -%}',
    "  </span></label>",
    "</li>",
    "{%- endmacro %}{{ facet_item(name, v) }}",
])


def test_a_facet_item_is_written_exactly_as_the_template_macro_wrote_it(app):
    from app.catalog.facets import FacetValue
    from app.catalog.page_context import facet_item, input_id

    template = app.jinja_env.from_string(FACET_ITEM_MACRO)
    values = [
        FacetValue("Nordhavn", "Nordhavn", 1234, False),
        FacetValue("Kestrel & Co", "Kestrel & Co", 0, True),  # selected with nothing: usable
        FacetValue('<b>"x"</b>', "<script>alert(1)</script>", 0, False),  # disabled, escaped
        FacetValue("lighting-floor-lamps", "Floor Lamps", 12_345, False, True, 1),  # estimate
        FacetValue("M", "M", 0, False, True, group="Clothing"),  # an estimate of nothing
    ]
    for name in ("brand", "category", "size"):
        for value in values:
            expected = template.render(name=name, v=value, input_id=input_id)
            assert str(facet_item(name, value)) == expected


#: The loop body of price_bands.html that price_band_item (app/catalog/page_context.py)
#: replaced, as it was.
PRICE_BAND_LOOP = "\n".join([
    "{% for band in bands %}",
    '{% set low = money(band.low)|replace(".00", "") %}',
    '{% set label = ("Under " ~ money(band.high)|replace(".00", "")) if band.low == 0 else'
    ' ((low ~ " and over") if band.high is none else (low ~ " – " ~ money(band.max_price)))'
    " %}",
    '{% set level = ((band.count / top * 20)|round(0, "ceil")|int) if top else 0 %}',
    '<li class="price-band">',
    "{%- set count -%}",
    '{%- if approximate and band.count %}<span class="visually-hidden">about </span>~'
    '{% endif %}{{ "{:,}".format(band.count) -}}',
    "{%- endset %}",
    "{% if band.count %}{% set url = band_url(band) %}",
    '<a class="band-label" href="{{ url }}" hx-get="{{ url }}">{{ label }}</a>',
    '{%- else %}<span class="band-label">{{ label }}</span>{% endif %}',
    '<span class="count">{{ count }}</span>',
    '<span class="band-bar w-{{ level }}" aria-hidden="true"></span>',
    "</li>",
    "{% endfor %}",
])


def test_a_price_band_is_written_as_the_template_loop_wrote_it(app):
    """The same elements, text, attributes and spacing (a browser collapses a run of white
    space to one space: the loop wrote blank lines between tags), every value escaped."""
    import re
    from decimal import Decimal

    from app.catalog.facets import PriceBand
    from app.catalog.page_context import price_band_item

    def as_shown(html: str) -> str:
        return re.sub(r"\s+", " ", html).strip()

    template = app.jinja_env.from_string(PRICE_BAND_LOOP)
    bands = [
        PriceBand(Decimal(0), Decimal(10), 3),            # "Under £10"
        PriceBand(Decimal(10), Decimal(25), 0),           # no matches: no link
        PriceBand(Decimal(25), Decimal(50), 1234),        # the largest: a full bar
        PriceBand(Decimal(250), Decimal(500), 7),         # a bar of one step
        PriceBand(Decimal(1000), None, 41),               # "and over"
    ]
    for currency in ("£", "<b>&</b>"):
        def money(value, currency=currency):
            return "" if value is None else f"{currency}{value:,.2f}"

        def band_url(band):
            return f"/products?q=a<b>&min_price={band.min_price}&max_price={band.max_price}"

        for approximate in (False, True):
            for top in (1234, 0):
                expected = template.render(bands=bands, top=top, approximate=approximate,
                                           money=money, band_url=band_url)
                written = "".join(
                    str(price_band_item(band, top, approximate=approximate, band_url=band_url,
                                        money=money)) for band in bands)
                assert as_shown(written) == as_shown(expected)
                assert "<b>" not in written and "a<b>" not in written
