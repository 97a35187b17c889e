"""``/products`` end to end: every parameter changes what a shopper sees, bad values get a clear
400 (as a fragment for htmx) or a normalised page with a notice, and both renderings agree."""

import pytest

from tests.support.html import parse

from .conftest import HX, checked, facet_counts, names


def get(client, url, htmx=False):
    return client.get(url, headers=HX if htmx else {})


# -- the two renderings -------------------------------------------------------------------------

def test_home_redirects_to_the_catalog(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/products")


def test_full_page_is_a_plain_get_form_with_every_region(client, shop):
    response = get(client, "/products")
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    root = parse(response.data)
    form = root.by_id("catalog-form")
    assert form.get("method") == "get" and form.get("action") == "/products"
    assert form.find("button", type="submit") is not None
    for region in ("catalog-search", "catalog-facets", "catalog-price", "catalog-price-hint",
                   "catalog-summary", "catalog-toolbar", "catalog-results"):
        root.by_id(region)
    assert root.by_id("catalog-summary").get("aria-live") == "polite"
    assert root.find("html") is not None
    assert len(names(root)) == 7  # the inactive product is not listed


def test_htmx_rendering_is_the_results_plus_partials_without_the_page(client, shop):
    response = get(client, "/products?q=lamp&brand=Nordhavn&sort=", htmx=True)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    body = response.data.decode()
    assert "<html" not in body and "catalog-form" not in body
    targets = [p.get("hx-target") for p in parse(body).find_all("hx-partial")]
    assert targets == ["#catalog-summary", "#catalog-toolbar", "#catalog-facets", "#messages",
                       "#catalog-price-hint", "#catalog-search", "#catalog-price",
                       "#catalog-filter-count", "#catalog-show-results"]
    assert names(body) == ["Brass Floor Lamp", "Brass Table Lamp"]
    # The address bar gets the canonical URL, not the raw form query with empty fields.
    assert response.headers["HX-Push-Url"] == "/products?q=lamp&brand=Nordhavn"


def test_typing_in_the_form_does_not_replace_the_fields_being_typed_in(client, shop):
    response = client.get("/products?q=lam", headers={**HX, "HX-Source": "form#catalog-form"})
    targets = [p.get("hx-target") for p in parse(response.data).find_all("hx-partial")]
    assert "#catalog-search" not in targets and "#catalog-price" not in targets
    assert "#catalog-facets" in targets


def test_both_renderings_show_the_same_results_and_facets(client, shop):
    url = "/products?category=lighting&colour=white&sort=price_desc"
    page, fragment = get(client, url), get(client, url, htmx=True)
    assert names(page.data) == names(fragment.data) == ["Linen Floor Lamp", "Ceramic Table Lamp"]
    for facet in ("category", "brand", "colour", "size"):
        assert facet_counts(page.data, facet) == facet_counts(fragment.data, facet)


def test_history_restore_gets_the_full_page(client, shop):
    response = client.get("/products?brand=Halden",
                          headers={**HX, "HX-History-Restore-Request": "true"})
    assert b"<html" in response.data and b'id="catalog-form"' in response.data
    assert "HX-Push-Url" not in response.headers


# -- each parameter -----------------------------------------------------------------------------

def test_q_searches_names_and_descriptions_with_stemming(client, shop):
    assert set(names(get(client, "/products?q=lamps").data)) == {
        "Brass Floor Lamp", "Linen Floor Lamp", "Oak Reading Lamp", "Brass Table Lamp",
        "Ceramic Table Lamp"}
    # "Mossgrove" only appears in a description.
    assert names(get(client, "/products?q=mossgrove").data) == ["Ceramic Table Lamp"]


def test_q_matches_the_last_word_as_a_prefix_while_typing(client, shop):
    assert set(names(get(client, "/products?q=brass+ta").data)) == {"Brass Table Lamp"}
    assert set(names(get(client, "/products?q=lea").data)) == {"Leather Lounge Chair"}
    # A negated word is never a prefix: "-lea" excludes only the word "lea".
    assert set(names(get(client, "/products?q=oak+-lea").data)) == {"Oak Reading Lamp",
                                                                    "Oak Dining Chair"}


def test_q_is_ranked_by_relevance_with_name_matches_first(client, shop, sql):
    sql.product("Plain Stool", category_id=shop.chairs, description="Not a reading lamp at all",
                attributes={"brand": "Halden"})
    found = names(get(client, "/products?q=reading").data)
    assert found[0] == "Oak Reading Lamp" and found[-1] == "Plain Stool"


def test_websearch_syntax_phrases_and_exclusions(client, shop):
    # The category path is searched too (issue 13): "Oak Reading Lamp" is a floor lamp.
    assert set(names(get(client, '/products?q="floor+lamp"+-linen').data)) == {
        "Brass Floor Lamp", "Oak Reading Lamp"}
    assert set(names(get(client, "/products?q=lamp+-linen+-brass").data)) == {
        "Oak Reading Lamp", "Ceramic Table Lamp"}
    assert set(names(get(client, "/products?q=leather+or+ceramic").data)) == {
        "Leather Lounge Chair", "Ceramic Table Lamp"}


def test_category_includes_its_sub_categories_and_several_are_ored(client, shop):
    lighting = names(get(client, "/products?category=lighting").data)
    assert len(lighting) == 5
    assert set(names(get(client, "/products?category=lighting-table-lamps"
                                 "&category=furniture-chairs").data)) == {
        "Brass Table Lamp", "Ceramic Table Lamp", "Leather Lounge Chair", "Oak Dining Chair"}


def test_unknown_category_is_dropped_with_a_notice(client, shop):
    response = get(client, "/products?category=nope&category=furniture")
    assert response.status_code == 200
    assert set(names(response.data)) == {"Leather Lounge Chair", "Oak Dining Chair"}
    assert "couldn't find the category “nope”" in parse(response.data).by_id("catalog-summary").text


def test_category_changes_show_on_the_next_request(client, shop, sql):
    """Workers keep the category tree between requests, but never past a change to it."""
    def labels(response):
        return [label.text.split(" ")[0] for label in
                parse(response.data).by_id("facet-category").find_all("label")]

    assert "Furniture" in labels(get(client, "/products"))
    sql.execute("UPDATE categories SET name = 'Seating' WHERE id = %s", shop.chairs)
    sql.execute("UPDATE categories SET name = 'Interiors' WHERE id = %s", shop.furniture)
    page = get(client, "/products?category=furniture")
    assert "Interiors" in labels(page) and "Furniture" not in labels(page)
    assert "Seating" in labels(page)  # the selected department drills down to its children
    moved = sql.category("Lounge", "furniture-lounge", parent_id=shop.furniture)
    sql.execute("UPDATE products SET category_id = %s WHERE id = %s", moved,
                shop.products["Leather Lounge Chair"])
    assert names(get(client, "/products?category=furniture-lounge").data) == [
        "Leather Lounge Chair"]
    sql.execute("DELETE FROM products WHERE category_id = %s", moved)
    sql.execute("DELETE FROM categories WHERE id = %s", moved)
    response = get(client, "/products?category=furniture-lounge")
    assert "couldn't find the category" in parse(response.data).by_id("catalog-summary").text


def test_brands_are_ored_and_attribute_facets_anded(client, shop):
    assert set(names(get(client, "/products?brand=Halden&brand=Greywood").data)) == {
        "Linen Floor Lamp", "Oak Reading Lamp", "Oak Dining Chair"}
    assert names(get(client, "/products?brand=Halden&brand=Greywood&colour=natural"
                             "&size=M&sort=name").data) == ["Oak Dining Chair", "Oak Reading Lamp"]


def test_price_bounds_are_inclusive(client, shop):
    found = names(get(client, "/products?min_price=45&max_price=99.99&sort=price_asc").data)
    assert found == ["Brass Table Lamp", "Linen Floor Lamp", "Oak Reading Lamp"]


def test_in_stock_only_hides_sold_out_products(client, shop):
    found = set(names(get(client, "/products?in_stock=1").data))
    assert "Linen Floor Lamp" not in found and "Oak Dining Chair" not in found
    assert len(found) == 5


@pytest.mark.parametrize(("sort", "first", "last"), [
    ("price_asc", "Ceramic Table Lamp", "Leather Lounge Chair"),
    ("price_desc", "Leather Lounge Chair", "Ceramic Table Lamp"),
    ("newest", "Oak Dining Chair", "Brass Floor Lamp"),
    ("name", "Brass Floor Lamp", "Oak Reading Lamp"),
    ("", "Oak Dining Chair", "Brass Floor Lamp"),
])
def test_sort_orders(client, shop, sort, first, last):
    found = names(get(client, f"/products?sort={sort}").data)
    assert (found[0], found[-1]) == (first, last)


def test_pages_and_page_size(client, shop):
    first = names(get(client, "/products?per_page=12&sort=name").data)
    assert len(first) == 7
    root = parse(get(client, "/products?per_page=5&sort=name").data)  # snapped to 12
    assert "12 products per page" in root.by_id("catalog-summary").text or \
        "this page shows 12" in root.by_id("catalog-summary").text


def test_numbered_pages_with_previous_and_next(client, sql):
    category = sql.category("Bulk")
    for i in range(30):
        sql.product(f"Item {i:02d}", category_id=category, price=str(10 + i))
    root = parse(get(client, "/products?sort=price_asc&per_page=12&page=2").data)
    assert names(root)[0] == "Item 12"
    nav = root.find("nav", class_="pagination")
    assert nav.by_id("page-prev").get("href") == "/products?sort=price_asc&per_page=12"
    assert nav.by_id("page-next").get("href") == "/products?sort=price_asc&page=3&per_page=12"
    assert nav.by_id("page-2").get("aria-current") == "page"
    assert nav.by_id("page-3").get("hx-get") == nav.by_id("page-3").get("href")
    assert "showing 13–24" in root.by_id("catalog-summary").text


def test_page_past_the_end_shows_the_last_page_with_a_notice(client, shop):
    root = parse(get(client, "/products?page=99").data)
    assert len(names(root)) == 7
    assert "There is only 1 page of results, so this is the last one." in \
        root.by_id("catalog-summary").text
    response = get(client, "/products?page=99", htmx=True)
    assert response.headers["HX-Push-Url"] == "/products"


def test_deep_pages_are_capped_and_say_so(client, sql, monkeypatch):
    from app.catalog import listing

    monkeypatch.setattr(listing, "MAX_RESULT_WINDOW", 24)
    category = sql.category("Bulk")
    for i in range(40):
        sql.product(f"Item {i:02d}", category_id=category)
    root = parse(get(client, "/products?per_page=12&page=3").data)
    assert "There are only 2 pages of results" in root.by_id("catalog-summary").text
    assert "Only the first 24 results" in root.find("nav", class_="pagination").text


# -- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "message"), [
    ("min_price=-5", "Minimum price can't be negative."),
    ("max_price=lots", "Maximum price must be a number like 25 or 19.99."),
    ("page=zero", "Page must be a whole number."),
    ("per_page=all", "Results per page must be a whole number."),
    ("q=" + "a" * 300, "Search text can be at most 200 characters."),
    ("in_stock=perhaps", "In stock only must be on or off."),
    ("brand=%00", "The text contains characters that are not allowed."),
])
def test_bad_values_are_a_400_page_with_the_reason_and_a_way_out(client, shop, query, message):
    response = get(client, f"/products?{query}&brand=Halden")
    assert response.status_code == 400
    root = parse(response.data)
    alert = root.find(role="alert")
    assert message in alert.text
    links = [a.get("href") for a in alert.find_all("a")]
    assert "/products" in links
    assert any(href.startswith("/products?") or href == "/products" for href in links)


def test_bad_values_for_htmx_are_a_fragment_in_the_message_area(client, shop):
    response = get(client, "/products?min_price=-1", htmx=True)
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#messages"
    assert response.headers["HX-Push-Url"] == "false"
    assert b"<html" not in response.data
    assert b"Minimum price can&#39;t be negative." in response.data


def test_the_way_out_of_a_400_drops_only_the_bad_parameter(client, shop):
    root = parse(get(client, "/products?min_price=oops&brand=Halden&page=2").data)
    fixed = root.find(role="alert").find("a").get("href")
    assert fixed == "/products?brand=Halden"
    assert get(client, fixed).status_code == 200


def test_garbage_and_unknown_parameters_never_500(client, shop):
    for query in ["sort=%FF", "page=99999999999999999999999999", "per_page=999999999",
                  "category=%2F..%2F", "q=%E2%80%8B", "utm_source=x", "q=lamp&q=chair",
                  "min_price=0&max_price=0", "size=&colour=", "brand[]=x"]:
        response = get(client, f"/products?{query}")
        assert response.status_code in (200, 400), query


def test_min_above_max_is_swapped_and_shown(client, shop):
    root = parse(get(client, "/products?min_price=100&max_price=40&sort=price_asc").data)
    assert names(root) == ["Brass Table Lamp", "Linen Floor Lamp", "Oak Reading Lamp"]
    assert "swapped" in root.by_id("catalog-summary").text


# -- facets as shown ----------------------------------------------------------------------------

def test_selecting_a_brand_keeps_the_other_brands_counts(client, shop):
    root = parse(get(client, "/products?brand=Halden").data)
    assert facet_counts(root, "brand") == {"Greywood": 1, "Halden": 2, "Mossgrove": 1,
                                            "Nordhavn": 3}
    assert checked(root, "brand") == {"Halden"}
    # Other facets are counted within the selection.
    assert facet_counts(root, "colour") == {"natural": 1, "white": 1}


def test_zero_count_values_are_hidden_but_a_selected_one_stays_to_be_unticked(client, shop):
    root = parse(get(client, "/products?colour=gold&size=L").data)
    assert names(root) == []
    sizes = facet_counts(root, "size")
    assert sizes == {"S": 1, "L": 0}  # M has nothing gold: hidden; L is selected: kept
    box = root.by_id("facet-size").find("input", value="L")
    assert box.has("checked") and not box.has("disabled")


def test_category_facet_drills_down_into_the_selected_department(client, shop):
    plain = facet_counts(get(client, "/products").data, "category")
    assert plain == {"furniture": 2, "lighting": 5}
    selected = facet_counts(get(client, "/products?category=lighting").data, "category")
    assert selected == {"furniture": 2, "lighting": 5, "lighting-floor-lamps": 3,
                        "lighting-table-lamps": 2}


def test_price_hint_shows_the_range_of_the_current_results(client, shop):
    hint = parse(get(client, "/products?category=lighting").data).by_id("catalog-price-hint")
    assert "£35.50" in hint.text and "£120.00" in hint.text


def test_exact_totals_are_exact(client, shop):
    summary = parse(get(client, "/products?brand=Nordhavn").data).by_id("catalog-summary")
    assert summary.text.startswith("3 products")


def test_large_match_sets_show_estimates(client, shop, monkeypatch):
    """Past the exact-count budget, counts come from a page sample and the total from the
    planner: both are shown as estimates, never as exact numbers."""
    from app.catalog import facets

    monkeypatch.setattr(facets, "EXACT_ROW_BUDGET", 0)
    monkeypatch.setattr(facets, "SAMPLE_TARGET_ROWS", 10**9)  # sample 100%: counts still right
    root = parse(get(client, "/products?q=lamp").data)
    summary = root.by_id("catalog-summary").text
    assert summary.startswith("About ")
    assert "Counts are estimates." in root.by_id("facet-brand").text
    assert facet_counts(root, "brand") == {"Halden": 2, "Mossgrove": 1, "Nordhavn": 2}


# -- empty state --------------------------------------------------------------------------------

def test_empty_state_offers_ways_out(client, shop):
    root = parse(get(client, "/products?q=lamp&brand=Greywood").data)
    empty = root.find("div", class_="empty-state")
    assert "No products match" in empty.text
    hrefs = {a.text: a.get("href") for a in empty.find_all("a")}
    assert hrefs["Clear the filters"] == "/products?q=lamp"
    assert hrefs["Browse all products"] == "/products"


def test_active_filters_are_removable_one_by_one(client, shop):
    root = parse(get(client, "/products?brand=Halden&colour=white&in_stock=1").data)
    chips = {a.text: a.get("href") for a in root.find("ul", class_="chips").find_all("a")}
    assert chips["Brand: Halden × (remove)"] == "/products?colour=white&in_stock=1"
    assert chips["In stock only × (remove)"] == "/products?brand=Halden&colour=white"
    assert chips["Clear all filters"] == "/products"


def test_an_empty_catalog_is_an_empty_state_not_an_error(client):
    for headers in ({}, HX):
        response = client.get("/products", headers=headers)
        assert response.status_code == 200
        root = parse(response.data)
        assert names(root) == []
        assert root.find("div", class_="empty-state") is not None


def test_search_pages_are_the_same_whether_statements_run_directly_or_through_the_session(
        client, shop):
    """The catalog's statements run directly on asyncpg (app.data.direct) unless something
    watches the SQL; watching switches every statement to the session - same pages."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    urls = ["/products", "/products?q=lamp", "/products?q=brass+la&brand=Nordhavn",
            "/products?category=lighting&sort=price_asc", "/products?q=oak&in_stock=1&page=2",
            "/products?q=zzzz", "/products?colour=black&size=L&min_price=50"]
    # (A different HX-Target per pass: the response cache keys on it, so nothing is a hit.)
    def page(url, rendering):
        return client.get(url, headers={**HX, "HX-Target": rendering}).data

    direct = [page(url, "first") for url in urls]
    seen: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", watch)
    try:
        through_session = [page(url, "second") for url in urls]
    finally:
        event.remove(Engine, "before_cursor_execute", watch)
    assert direct == through_session
    assert len(seen) >= 2 * len(urls)  # every statement was seen on the watched pass
