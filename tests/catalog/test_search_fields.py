"""What a search reads and how it helps (issue 13): the category path, brand and attributes are
searched with their weights, synonyms, one-click refinements for a named category or brand,
per-word "Did you mean", the any-word fallback, and facets that stay on an empty result."""

from __future__ import annotations

import psycopg
import pytest

from app.catalog.facet_memo import EXTENSION_KEY
from app.catalog.filters import text_query
from app.data.urls import libpq_dsn
from tests.support.html import parse

from .conftest import HX, facet_counts, names


@pytest.fixture
def hifi(sql):
    audio = sql.category("Audio", "audio")
    headphones = sql.category("Headphones", "audio-headphones", parent_id=audio)
    speakers = sql.category("Speakers", "audio-speakers", parent_id=audio)
    lighting = sql.category("Lighting", "lighting")
    table_lamps = sql.category("Table Lamps", "lighting-table-lamps", parent_id=lighting)
    floor_lamps = sql.category("Floor Lamps", "lighting-floor-lamps", parent_id=lighting)
    furniture = sql.category("Furniture", "furniture")
    sofas = sql.category("Sofas", "furniture-sofas", parent_id=furniture)
    rows = [
        ("Studio Over-Ear Headphones", headphones, "Orrery", "black", "aluminium", ""),
        ("Bookshelf Speaker", speakers, "Halden", "white", "walnut", ""),
        ("Walnut Table Lamp", table_lamps, "Nordhavn", "ochre", "brass", ""),
        ("Brass Floor Lamp", floor_lamps, "Mossgrove", "black", "brass", ""),
        ("Oak Reading Light", floor_lamps, "Mossgrove", "sand", "oak",
         "Looks right next to walnut furniture."),
        ("Velvet Sofa", sofas, "Greywood", "navy", "velvet", ""),
    ]
    ids = {}
    for name, category, brand, colour, material, description in rows:
        ids[name] = sql.product(name, category_id=category, description=description,
                                attributes={"brand": brand, "colour": colour,
                                            "material": material})
    return {"audio": audio, "speakers": speakers, "lighting": lighting, **ids}


def get(client, url, htmx=False):
    response = client.get(url, headers=HX if htmx else {})
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    return response


@pytest.mark.parametrize("htmx", [False, True])
def test_a_category_name_finds_its_products_and_offers_the_refinement(client, hifi, htmx):
    root = parse(get(client, "/products?q=audio", htmx=htmx).data)
    assert set(names(root)) == {"Studio Over-Ear Headphones", "Bookshelf Speaker"}
    assert ("<!doctype html>" in str(root.html).lower()) is not htmx
    links = root.select(".refinements a")
    assert [" ".join(a.text.split()) for a in links] == ["Audio — 2 products (category)"]
    href = links[0].get("href")
    assert href == "/products?q=audio&category=audio" and links[0].get("hx-get") == href
    refined = parse(get(client, href).data)
    assert set(names(refined)) == {"Studio Over-Ear Headphones", "Bookshelf Speaker"}
    assert refined.find("input", name="category", value="audio").has("checked")
    assert refined.select(".refinements a") == []  # already ticked: nothing more to offer


def test_two_words_naming_a_sub_category_offer_it_first(client, hifi):
    root = parse(get(client, "/products?q=floor+lamps").data)
    assert set(names(root)) == {"Brass Floor Lamp", "Oak Reading Light"}
    assert [a.text.split(" —")[0] for a in root.select(".refinements a")] == ["Floor Lamps"]
    # A word that names no category or brand on its own offers nothing.
    assert parse(get(client, "/products?q=lamp").data).select(".refinements a") == []


def test_a_brand_is_offered_as_a_refinement(client, hifi):
    root = parse(get(client, "/products?q=mossgrove").data)
    assert set(names(root)) == {"Brass Floor Lamp", "Oak Reading Light"}
    link = root.select(".refinements a")[0]
    assert link.text.startswith("Mossgrove — 2 products")
    assert link.get("href") == "/products?q=mossgrove&brand=Mossgrove"


@pytest.mark.parametrize(("q", "found"), [
    ("orrery", {"Studio Over-Ear Headphones"}),      # brand
    ("navy", {"Velvet Sofa"}),                       # colour
    ("aluminium", {"Studio Over-Ear Headphones"}),   # material
    ("sofas", {"Velvet Sofa"}),                      # category, plural
    ("speakers white", {"Bookshelf Speaker"}),       # category and colour together
])
def test_brand_colour_material_and_category_are_searched(client, hifi, q, found):
    assert set(names(get(client, f"/products?q={q}").data)) == found


def test_name_weighs_more_than_attributes_and_attributes_more_than_description(client, hifi):
    assert names(get(client, "/products?q=walnut").data) == [
        "Walnut Table Lamp",   # in the name
        "Bookshelf Speaker",   # its material
        "Oak Reading Light",   # only its description
    ]


def test_renaming_or_moving_a_category_changes_what_finds_its_products(client, hifi, sql):
    sql.execute("UPDATE categories SET name = 'Sound' WHERE id = %s", hifi["audio"])
    assert set(names(get(client, "/products?q=sound").data)) == {
        "Studio Over-Ear Headphones", "Bookshelf Speaker"}
    assert names(get(client, "/products?q=audio").data) == []
    sql.execute("UPDATE categories SET parent_id = %s WHERE id = %s",
                hifi["lighting"], hifi["speakers"])
    assert "Bookshelf Speaker" in names(get(client, "/products?q=lighting").data)
    assert names(get(client, "/products?q=sound").data) == ["Studio Over-Ear Headphones"]
    # Whatever a writer sends as the path is replaced by the real one.
    sql.execute("UPDATE products SET category_path = 'Garden' WHERE id = %s", hifi["Velvet Sofa"])
    assert names(get(client, "/products?q=garden").data) == []
    assert names(get(client, "/products?q=sofas").data) == ["Velvet Sofa"]


def test_a_synonym_finds_the_other_words_of_its_group(client, hifi, sql):
    assert names(get(client, "/products?q=couch").data) == ["Velvet Sofa"]  # seeded group
    assert names(get(client, "/products?q=couches").data) == ["Velvet Sofa"]
    assert names(get(client, "/products?q=cans").data) == []
    sql.execute("INSERT INTO search_synonyms (words) VALUES ('headphones, cans')")
    root = parse(get(client, "/products?q=cans").data)  # the next request knows it
    assert names(root) == ["Studio Over-Ear Headphones"]
    sql.execute("DELETE FROM search_synonyms WHERE words = 'headphones, cans'")
    assert names(get(client, "/products?q=cans").data) == []


@pytest.mark.parametrize("htmx", [False, True])
def test_each_misspelt_word_is_corrected_on_its_own(client, hifi, htmx):
    root = parse(get(client, "/products?q=walnutt+lampp", htmx=htmx).data)
    assert names(root) == []
    suggestion = root.find("p", class_="suggestion")
    assert suggestion is not None and suggestion.find("a").text == "walnut lamp"
    assert suggestion.find("a").get("href") == "/products?q=walnut+lamp"
    # (the reading light is a lamp by synonym, with walnut in its description: ranked after)
    assert names(get(client, suggestion.find("a").get("href")).data)[0] == "Walnut Table Lamp"


def test_words_are_corrected_in_place_by_one_statement_whatever_their_number(
        app, client, hifi, sent_statements):
    """The closest words of one, two or three words come from the same SQL (the words are one
    array parameter), so a worker prepares it once instead of compiling a statement per
    search; a correct word between two misspelt ones stays where it was."""
    for q, corrected in (("lampp", "lamp"), ("walnutt+lampp", "walnut lamp"),
                         ("walnutt+table+lampp", "walnut table lamp")):
        app.extensions[EXTENSION_KEY].clear()  # each search looks all its words up
        root = parse(client.get(f"/products?q={q}").data)
        suggestion = root.find("p", class_="suggestion")
        assert suggestion is not None and suggestion.find("a").text == corrected
    sent = [(statement, tuple(parameters)) for statement, parameters in sent_statements
            if "catalog_words" in statement and "similarity" in statement]
    assert [parameters for _statement, parameters in sent] == [
        (["lampp"],), (["walnutt", "lampp"],), (["walnutt", "table", "lampp"],)]
    assert len({statement for statement, _parameters in sent}) == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_no_match_for_all_words_falls_back_to_any_word_with_a_notice(client, hifi, htmx):
    root = parse(get(client, "/products?q=velvet+spaceship", htmx=htmx).data)
    assert names(root) == ["Velvet Sofa"]
    summary = root.by_id("catalog-summary") if not htmx else root
    assert "No product matches all of “velvet spaceship”, so these match any of its words." \
        in summary.text
    # One word, nothing to fall back to: the empty state.
    assert names(get(client, "/products?q=spaceship").data) == []


@pytest.mark.parametrize("htmx", [False, True])
def test_filters_that_find_nothing_alone_try_no_text_under_them(client, hifi, sent_statements,
                                                               htmx):
    """Orrery makes no lamps: under "Orrery, Lighting" no text can find anything, so neither
    its words one by one nor a corrected spelling is searched for under those filters. The
    page says so and counts the filters alone; the spelling is offered without them."""
    def counted(word: str) -> list[str]:
        """The text searches containing ``word`` whose facets were counted."""
        return [p for statement, parameters in sent_statements if "GROUPING SETS" in statement
                for p in parameters if isinstance(p, str) and word in p]

    url = "/products?q=walnutt+lampp&brand=Orrery&category=lighting"
    root = parse(get(client, url, htmx=htmx).data)
    assert names(root) == []
    assert "Nothing matches “walnutt lampp”, so the filters count the whole catalog." \
        in root.text
    assert "any of its words" not in root.text
    assert facet_counts(root, "brand") == {"Nordhavn": 1, "Mossgrove": 2, "Orrery": 0}
    suggestion = root.find("p", class_="suggestion")
    assert suggestion.find("a").get("href") == "/products?q=walnut+lamp"
    assert "without the current filters" in suggestion.text
    searches = counted("walnutt")
    assert searches and all("&" in q for q in searches)  # all the words, never any of them
    probes = [parameters for statement, parameters in sent_statements
              if statement.startswith("SELECT EXISTS")]
    assert [len(parameters) for parameters in probes] == [1]  # the corrected text alone
    # Filters that find products on their own: the words are tried one by one under them.
    sent_statements.clear()
    root = parse(get(client, "/products?q=velvet+spaceship&category=furniture",
                     htmx=htmx).data)
    assert names(root) == ["Velvet Sofa"]
    assert "match any of its words" in root.text
    assert any("&" not in q for q in counted("velvet"))


@pytest.mark.parametrize("htmx", [False, True])
def test_facets_stay_on_the_empty_state_as_ways_into_the_catalog(client, hifi, htmx):
    root = parse(get(client, "/products?q=xyzzy", htmx=htmx).data)
    assert names(root) == []
    counts = facet_counts(root, "category")
    assert "Nothing matches “xyzzy”, so the filters count the whole catalog." in root.text
    assert counts["audio"] == 2 and counts["lighting"] == 3 and counts["furniture"] == 1
    browse = {a.text: a.get("href") for a in root.select(".browse-categories a")}
    assert browse == {"Audio": "/products?category=audio",
                      "Furniture": "/products?category=furniture",
                      "Lighting": "/products?category=lighting"}


def test_the_query_text_is_always_valid_tsquery(database_url):
    """Whatever a shopper types becomes a tsquery PostgreSQL accepts (no syntax reaches it)."""
    hostile = ["a & b", "!!", "(sofa", "sofa)", "a:*", "'; drop", '"unclosed phrase', "-", "- -x",
               "or", "sofa or", "or sofa", "x <-> y", "t-shirt", "ÄÖÜ café", "\\", "a|b&c",
               "x" * 3000, " ".join(["word"] * 100), "-sofa", '"" -""', "1:*", "o'brien la"]
    with psycopg.connect(libpq_dsn(database_url)) as connection:
        for q in hostile:
            for match in ("all", "any"):
                text = text_query(q, {"sofa": ("sofa", "couch")}, match)  # type: ignore[arg-type]
                if text:
                    connection.execute("SELECT to_tsquery('english', %s)", (text,))


def test_query_text_structure():
    synonyms = {"sofa": ("sofa", "couch"), "t shirt": ("tee", "t shirt"), "tee": ("tee", "t shirt")}
    assert text_query("velvet sofa", synonyms) == "( velvet ) & ( sofa | sofa:* | couch )"
    assert text_query("velvet sofa ", synonyms) == "( velvet ) & ( sofa | couch )"
    assert text_query("velvet sofa ", synonyms, "any") == "( velvet ) | ( sofa | couch )"
    assert text_query("tee -oak ", synonyms) == "( ( tee | t <-> shirt ) ) & !( oak )"
    assert text_query('"floor lamp" or rug ', synonyms) == "( floor <-> lamp ) | ( rug )"
    assert text_query("%% !!", synonyms) == ""


def test_products_of_a_category_the_query_names_rank_first(client, sql):
    lighting = sql.category("Lighting", "lighting")
    table_lamps = sql.category("Table Lamps", "lighting-table-lamps", parent_id=lighting)
    furniture = sql.category("Furniture", "furniture")
    tables = sql.category("Tables", "furniture-tables", parent_id=furniture)
    sql.product("Oak Table Lamp", category_id=table_lamps, attributes={"material": "oak"})
    sql.product("Oak Dining Table", category_id=tables, attributes={"material": "oak"})
    # "Oak Table Lamp" holds the words closer together, but a shopper asking for an oak table
    # wants a table: "table" names the Tables category.
    assert names(get(client, "/products?q=oak+table").data) == ["Oak Dining Table",
                                                                "Oak Table Lamp"]
    assert names(get(client, "/products?q=oak+table+lamp").data)[0] == "Oak Table Lamp"


def test_a_named_sub_category_is_offered_with_its_count_from_the_facet_counts(client, hifi,
                                                                              sent_sql):
    """The category facet lists departments only, yet "Floor Lamps" gets its exact number:
    summed from the per-category counts the page ran anyway, not counted by a query of its
    own (issue 14: the search sends no estimate + count per named sub-category)."""
    sent_sql.clear()
    root = parse(get(client, "/products?q=floor+lamps", htmx=True).data)
    assert [" ".join(a.text.split()) for a in root.select(".refinements a")] == [
        "Floor Lamps — 2 products (category)"]
    assert sum(s.startswith("EXPLAIN") for s in sent_sql) == 1  # the facet estimates only
    assert not any("count(*)" in s and "GROUPING SETS" not in s for s in sent_sql)


def test_one_planner_settings_statement_per_page_and_no_restore(client, hifi, sent_sql):
    """A selective filter sorted by price is collected through its indexes (planner settings
    for the page statement): the settings are one statement, never followed by a second one
    switching them back when nothing planned comes after (issue 14)."""
    sent_sql.clear()
    # (no search text: an exactly counted text search finds its page while counting, with
    # no page statement at all - see test_prefix_words)
    root = parse(get(client, "/products?brand=Mossgrove&sort=price_asc", htmx=True).data)
    assert set(names(root)) == {"Brass Floor Lamp", "Oak Reading Light"}
    assert sum("set_config" in s for s in sent_sql) == 1
