"""Facet counts against a brute-force count in Python over a seeded catalog, through every way
they are produced: the precomputed ledger (broad pages), exact counting and the sampled path;
and the ledger staying right after every kind of product change, inside the editing
transaction too."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import replace
from decimal import Decimal

import psycopg
import pytest

from app.catalog.facets import PRICE_BANDS, compute_facets
from app.catalog.filters import ProductFilter
from app.catalog.tree import load_category_tree
from app.data.seed import category_rows, generate_products
from app.data.urls import libpq_dsn

ATTRS = ("brand", "colour", "size")


@pytest.fixture
def seeded(sql):
    """300 generated products (the dev seed's generator) in the seed's category tree."""
    ids: dict[str, int] = {}
    for name, slug, parent in category_rows():
        ids[slug] = sql.category(name, slug, parent_id=ids.get(parent) if parent else None)
    rows = generate_products(300, 7, ids)
    columns = "name, slug, description, price, stock, is_active, attributes, category_id," \
        " created_at, updated_at"
    with sql.connection.cursor() as cursor, \
            cursor.copy(f"COPY products ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    parents = {slug: parent for _, slug, parent in category_rows()}
    names = {slug: name for name, slug, _ in category_rows()}
    return [_product(sql, row, ids, parents, names) for row in rows]


def _product(sql, row, ids, parents, names):
    name, slug, description, price, stock, active, attributes, category_id, *_ = row
    attributes = json.loads(attributes)
    category_slug = next(s for s, i in ids.items() if i == category_id)
    department = parents[category_slug]
    # Everything a search reads (issue 13): name, brand, category path, attributes, description.
    searched = [name, names[department], names[category_slug], *attributes.values(), description]
    return {"name": name, "price": Decimal(price), "stock": stock, "active": active,
            "category": category_slug, "department": department,
            "text": " ".join(searched).lower(), **{a: attributes.get(a) for a in ATTRS}}


#: The seeded synonyms of the words the random filters search for.
SYNONYMS = {"lamp": ("lamp", "light")}


def _matches(product, filt: ProductFilter, skip: str | None = None) -> bool:
    if not product["active"]:
        return False
    words = SYNONYMS.get(filt.q.lower(), (filt.q.lower(),))
    if filt.q and not any(word in product["text"] for word in words):
        return False
    if skip != "category" and filt.categories and not (
            product["category"] in filt.categories or product["department"] in filt.categories):
        return False
    for facet, values in (("brand", filt.brands), ("colour", filt.colours), ("size", filt.sizes)):
        if skip != facet and values and product[facet] not in values:
            return False
    if filt.min_price is not None and product["price"] < filt.min_price:
        return False
    if filt.max_price is not None and product["price"] > filt.max_price:
        return False
    return not (filt.stock == "in" and product["stock"] <= 0)


def brute_force(products, filt: ProductFilter) -> dict[str, Counter]:
    expected: dict[str, Counter] = {"total": Counter()}
    for facet in ("category", *ATTRS):
        counts: Counter = Counter()
        for product in products:
            if _matches(product, filt, skip=facet):
                if facet == "category":
                    counts[product["category"]] += 1
                    counts[product["department"]] += 1
                elif product[facet] is not None:  # not every product has a size
                    counts[product[facet]] += 1
        expected[facet] = counts
    expected["total"]["all"] = sum(1 for p in products if _matches(p, filt))
    return expected


def shown(result, facet):
    return {v.value: v.count for v in result.facets[facet].values if v.count}


def random_filters(products, count, seed):
    rng = random.Random(seed)
    departments = sorted({p["department"] for p in products})
    leaves = sorted({p["category"] for p in products})
    values = {a: sorted({p[a] for p in products if p[a] is not None}) for a in ATTRS}
    filters = []
    for _ in range(count):
        filters.append(ProductFilter(
            q=rng.choice(["", "", "", "oak", "leather", "brass", "lamp", "wool"]),
            categories=tuple(rng.sample(departments + leaves, rng.choice([0, 0, 1, 2]))),
            brands=tuple(rng.sample(values["brand"], rng.choice([0, 0, 1, 2, 3]))),
            colours=tuple(rng.sample(values["colour"], rng.choice([0, 0, 1, 2]))),
            sizes=tuple(rng.sample(values["size"], rng.choice([0, 0, 0, 1]))),
            min_price=rng.choice([None, None, Decimal("20"), Decimal("55.5")]),
            max_price=rng.choice([None, None, Decimal("150"), Decimal("400")]),
            stock=rng.choice([None, None, "in"]),
        ))
    return filters


def check(products, result, filt):
    expected = brute_force(products, filt)
    assert result.total.exact
    assert result.total.value == expected["total"]["all"], filt
    for facet in ATTRS:
        wanted = {k: v for k, v in expected[facet].items() if v}
        assert shown(result, facet) == wanted, (facet, filt)
        selected = {v.value for v in result.facets[facet].values if v.selected}
        assert selected == set(filt.values(facet))
    # Categories are drilled into: every shown department/leaf has the brute-force count.
    categories = shown(result, "category")
    for slug, count in categories.items():
        assert expected["category"][slug] == count, (slug, filt)
    departments = {p["department"] for p in products}
    assert {s for s in categories if s in departments} == {
        s for s in departments if expected["category"][s]}
    for slug in filt.categories:  # a selected node always shows (to untick it)
        assert slug in {v.value for v in result.facets["category"].values}


@pytest.mark.parametrize("seed", range(6))
def test_counts_match_brute_force_for_random_filters(run_db, seeded, seed):
    # The test catalog is small, so non-broad sets are counted exactly; broad ones use the ledger.
    async def go(session):
        tree = await load_category_tree(session)
        for filt in random_filters(seeded, 12, seed):
            result = await compute_facets(session, filt, tree)
            check(seeded, result, filt)

    run_db(go)


@pytest.mark.parametrize("filt", [
    ProductFilter(),
    ProductFilter(categories=("lighting",)),
    ProductFilter(categories=("furniture-chairs", "kitchen"), stock="in"),
    ProductFilter(brands=("Nordhavn",)),
    ProductFilter(categories=("textiles",), colours=("black", "ivory")),
], ids=["catalog", "department", "leaves+stock", "one-brand", "dept+colours"])
def test_broad_pages_use_the_ledger_and_match_brute_force(run_db, seeded, filt):
    async def go(session):
        return await compute_facets(session, filt, await load_category_tree(session))

    result = run_db(go)
    check(seeded, result, filt)
    if filt.is_broad():
        assert result.sources["match"] == "precomputed"
    for facet in filt_selected(filt):
        if filt.is_broad(ignoring=frozenset({facet})):
            assert result.sources[facet] == "precomputed"


def filt_selected(filt):
    return [f for f in ("category", *ATTRS) if filt.values(f)]


def test_sampled_counts_are_marked_and_scaled(run_db, seeded, monkeypatch):
    from app.catalog import facets

    monkeypatch.setattr(facets, "EXACT_ROW_BUDGET", 0)
    monkeypatch.setattr(facets, "SAMPLE_TARGET_ROWS", 10**9)  # 100% sample: exact numbers
    filt = ProductFilter(q="oak", brands=("Nordhavn", "Halden"))

    async def go(session):
        return await compute_facets(session, filt, await load_category_tree(session))

    result = run_db(go)
    assert result.sources == {"match": "sampled", "brand": "sampled"}
    assert not result.total.exact
    expected = brute_force(seeded, filt)
    assert shown(result, "colour") == {k: v for k, v in expected["colour"].items() if v}
    assert all(v.approximate for v in result.facets["colour"].values)


# -- the ledger after changes -------------------------------------------------------------------

def ledger(sql) -> Counter:
    rows = sql.all("SELECT category_id, in_stock, facet, value, sum(n) AS n"
                   " FROM catalog_facet_counts GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0")
    return Counter({(r["category_id"], r["in_stock"], r["facet"], r["value"]): r["n"]
                    for r in rows})


#: A product's price band as the app counts them (facets.PRICE_BANDS): the ledger's ``band``
#: facet, kept by migration 0017's trigger, must agree with it.
BAND = f"width_bucket(p.price, '{{{','.join(str(b) for b in PRICE_BANDS)}}}'::numeric[])::text"


def truth(sql) -> Counter:
    rows = sql.all("""
        SELECT p.category_id, p.stock > 0 AS in_stock, f.facet, f.value, count(*) AS n
        FROM products p CROSS JOIN LATERAL (VALUES ('category', ''),
            ('brand', p.attributes->>'brand'), ('colour', p.attributes->>'colour'),
            ('size', p.attributes->>'size'), ('band', BAND)) f (facet, value)
        WHERE p.is_active AND f.value IS NOT NULL
          AND (f.facet IN ('category', 'band') OR f.value <> '')
        GROUP BY 1, 2, 3, 4""".replace("BAND", BAND))
    return Counter({(r["category_id"], r["in_stock"], r["facet"], r["value"]): r["n"]
                    for r in rows})


#: Every kind of change a ledger must follow: attributes and stock, (de)activation, a new
#: category, a removed or emptied attribute, another price band, deletes, inserts, and a change
#: that moves no count.
CHANGES = (
    "UPDATE products SET attributes = attributes || '{\"brand\": \"Zeta\"}', stock = 0"
    " WHERE id % 7 = 0",
    "UPDATE products SET is_active = NOT is_active WHERE id % 11 = 0",
    "UPDATE products SET category_id = (SELECT min(id) FROM categories"
    " WHERE parent_id IS NOT NULL) WHERE id % 13 = 0",
    "UPDATE products SET attributes = attributes - 'colour' WHERE id % 17 = 0",
    "UPDATE products SET attributes = attributes || '{\"size\": \"\"}' WHERE id % 29 = 0",
    "UPDATE products SET price = price * 3 WHERE id % 5 = 0",
    "DELETE FROM products WHERE id % 19 = 0",
    "INSERT INTO products (name, slug, price, category_id, attributes, stock)"
    " SELECT name || ' II', slug || '-ii', price, category_id, attributes, 3"
    " FROM products WHERE id % 23 = 0",
    "UPDATE products SET description = description || ' Updated.'",
)


def _no_compaction_for_a_while(sql) -> None:
    """Restart the triggers' change counters, so that their own compaction (every 200th
    change statement, counted across the whole run) does not fold the deltas of the next few
    statements before the test does - it did when the run's earlier tests left a counter just
    under a multiple of 200."""
    sql.execute("SELECT setval('catalog_facet_changes', 1),"
                " setval('catalog_facet_pair_changes', 1)")


def test_ledger_follows_every_kind_of_change(sql, seeded):
    _no_compaction_for_a_while(sql)
    assert ledger(sql) == truth(sql)
    for change in CHANGES:
        sql.execute(change)
    assert ledger(sql) == truth(sql)
    assert sql.scalar("SELECT catalog_compact_facet_counts()") > 0
    assert ledger(sql) == truth(sql)
    assert sql.scalar("SELECT count(*) FROM catalog_facet_counts") == len(truth(sql))


def test_ledger_is_right_inside_the_editing_transaction_and_rolls_back_with_it(sql, seeded,
                                                                             database_url):
    before = ledger(sql)
    with psycopg.connect(libpq_dsn(database_url)) as editor:  # one transaction
        editor.execute("UPDATE products SET attributes = attributes || '{\"brand\": \"Solo\"}'"
                       " WHERE id = (SELECT min(id) FROM products WHERE is_active)")
        inside = editor.execute(
            "SELECT sum(n) FROM catalog_facet_counts WHERE facet = 'brand' AND value = 'Solo'"
        ).fetchone()[0]
        assert inside == 1
        assert ledger(sql) == before  # not visible to others before commit
        editor.rollback()
    assert ledger(sql) == before == truth(sql)


def test_truncate_empties_the_ledger_and_the_vocabulary(sql, seeded):
    assert sql.scalar("SELECT count(*) FROM catalog_words") > 0
    sql.execute("TRUNCATE products CASCADE")
    assert sql.scalar("SELECT count(*) FROM catalog_facet_counts") == 0
    assert sql.scalar("SELECT count(*) FROM catalog_words") == 0


def test_precomputed_page_reflects_an_edit_immediately(client, sql, shop_like):
    sql.execute("UPDATE products SET attributes = attributes || '{\"brand\": \"Halden\"}'"
                " WHERE name = 'Solo Lamp'")
    from .conftest import facet_counts

    assert facet_counts(client.get("/products").data, "brand") == {"Halden": 2}


@pytest.fixture
def shop_like(sql):
    category = sql.category("Lighting")
    sql.product("Solo Lamp", category_id=category, attributes={"brand": "Nordhavn"})
    sql.product("Duo Lamp", category_id=category, attributes={"brand": "Halden"})


def test_attribute_filters_without_text_stay_exact_past_the_row_budget(run_db, seeded,
                                                                       monkeypatch):
    """A filter on brand, colour or size (no text) is counted from the facet columns' covering
    indexes (migration 0014), exactly, even with no budget left for reading rows - every set
    whose condition keeps an attribute filter (here: two attribute facets ticked, so each
    facet's own set keeps the other); the same filter with text is sampled and says so."""
    from app.catalog import facets
    monkeypatch.setattr(facets, "EXACT_ROW_BUDGET", 0)
    facets._counts_statement.cache_clear()
    filters = [replace(f, q="") for seed in range(6) for f in random_filters(seeded, 12, seed)
               if sum(bool(f.values(a)) for a in ATTRS) >= 2]
    assert len(filters) >= 3

    async def go(session):
        tree = await load_category_tree(session)
        for filt in filters:
            result = await compute_facets(session, filt, tree)
            check(seeded, result, filt)
            assert "sampled" not in result.sources.values()
        with_text = await compute_facets(session, replace(filters[0], q="lamp"), tree)
        assert with_text.sources["match"] == "sampled" and not with_text.total.exact

    try:
        run_db(go)
    finally:
        facets._counts_statement.cache_clear()


def test_a_brand_edit_moves_the_product_between_attribute_filters(client, sql, shop_like):
    """The facet columns are generated from ``attributes``: an edit is in the next count."""
    from .conftest import facet_counts, names

    sql.execute("UPDATE products SET attributes = attributes || '{\"colour\": \"red\"}'"
                " WHERE name = 'Solo Lamp'")
    page = client.get("/products?brand=Nordhavn").data
    assert names(page) == ["Solo Lamp"] and facet_counts(page, "colour") == {"red": 1}
    sql.execute("UPDATE products SET attributes = attributes || '{\"brand\": \"Halden\"}'"
                " WHERE name = 'Solo Lamp'")
    assert names(client.get("/products?brand=Nordhavn").data) == []
    page = client.get("/products?brand=Halden&colour=red").data
    assert names(page) == ["Solo Lamp"] and facet_counts(page, "brand") == {"Halden": 1}


# -- the pair ledger: a broad page + one attribute facet (migration 0018, issue 14) ------------

PAIRED = [
    ProductFilter(brands=("Nordhavn",)),
    ProductFilter(categories=("lighting",), brands=("Nordhavn", "Halden")),
    ProductFilter(categories=("apparel-shirts", "textiles"), stock="in", sizes=("M", "King")),
    ProductFilter(categories=("textiles",), colours=("black", "ivory")),
]


def _bands(products, filt):
    """Matches per price band, by brute force (the band index as the app numbers them)."""
    edges = [Decimal(b) for b in PRICE_BANDS]
    counts: Counter = Counter()
    for product in products:
        if _matches(product, filt):
            counts[sum(1 for edge in edges if product["price"] >= edge) + 1] += 1
    return counts


@pytest.mark.parametrize("filt", PAIRED, ids=["brand", "dept+2 brands", "leaves+stock+sizes",
                                              "dept+colours"])
def test_one_attribute_facet_on_a_broad_page_is_counted_from_the_pair_ledger(
        run_db, seeded, filt, monkeypatch):
    """Every set of such a page is precomputed - exact, with no row budget at all (a set read
    from products would be sampled and marked "about") - and every count, the total and the
    price distribution agree with brute force."""
    from app.catalog import facets
    monkeypatch.setattr(facets, "EXACT_ROW_BUDGET", 0)
    monkeypatch.setattr(facets, "INDEX_ROW_BUDGET", 0)
    facets._counts_statement.cache_clear()

    async def go(session):
        return await compute_facets(session, filt, await load_category_tree(session))

    try:
        result = run_db(go)
    finally:
        facets._counts_statement.cache_clear()
    assert set(result.sources.values()) == {"precomputed"}, result.sources
    assert brute_force(seeded, filt)["total"]["all"] > 0
    check(seeded, result, filt)
    bands = {i + 1: band.count for i, band in enumerate(result.price_bands)}
    first = min(_bands(seeded, filt))
    assert {first + i - 1: n for i, n in bands.items() if n} == dict(_bands(seeded, filt))
    assert not result.bands_approximate


def test_two_attribute_facets_count_each_facet_from_the_pair_ledger(run_db, seeded, monkeypatch):
    """Brand and colour ticked: the brand facet is counted over "this colour", the colour facet
    over "this brand" - both pairs - while the match set itself needs its rows."""
    from app.catalog import facets
    monkeypatch.setattr(facets, "INDEX_ROW_BUDGET", 0)
    filt = ProductFilter(brands=("Nordhavn", "Halden"), colours=("black",))

    async def go(session):
        return await compute_facets(session, filt, await load_category_tree(session))

    result = run_db(go)
    assert result.sources == {"match": "exact", "brand": "precomputed",
                              "colour": "precomputed"}
    check(seeded, result, filt)


def pairs(sql) -> Counter:
    rows = sql.all("SELECT category_id, in_stock, by_facet, by_value, facet, value, sum(n) AS n"
                   " FROM catalog_facet_pairs GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0")
    return Counter({tuple(r[c] for c in ("category_id", "in_stock", "by_facet", "by_value",
                                         "facet", "value")): r["n"] for r in rows})


def pair_truth(sql) -> Counter:
    """The pairs counted from the products: for each of a product's brand, colour and size,
    each other facet value it carries (its category, the other attributes, its price band)."""
    truth_rows = truth_rows_of(sql)
    out: Counter = Counter()
    for (category_id, in_stock, _id), values in truth_rows.items():
        for by_facet in ATTRS:
            by_value = values.get(by_facet)
            if not by_value:
                continue
            for facet, value in values.items():
                if facet != by_facet and (value or facet in ("category", "band")) \
                        and value is not None:
                    out[category_id, in_stock, by_facet, by_value, facet, value] += 1
    return out


def truth_rows_of(sql) -> dict:
    rows = sql.all("""
        SELECT p.id, p.category_id, p.stock > 0 AS in_stock, p.attributes->>'brand' AS brand,
               p.attributes->>'colour' AS colour, p.attributes->>'size' AS size, BAND AS band
        FROM products p WHERE p.is_active""".replace("BAND", BAND))
    return {(r["category_id"], r["in_stock"], r["id"]): {
        "category": "", "brand": r["brand"], "colour": r["colour"], "size": r["size"],
        "band": r["band"]} for r in rows}


def test_pair_ledger_follows_every_kind_of_change(sql, seeded):
    _no_compaction_for_a_while(sql)
    assert pairs(sql) == pair_truth(sql)
    assert len(pair_truth(sql)) > 100
    for change in CHANGES:
        sql.execute(change)
    assert pairs(sql) == pair_truth(sql)
    assert sql.scalar("SELECT catalog_compact_facet_pairs()") > 0
    assert pairs(sql) == pair_truth(sql)
    assert sql.scalar("SELECT count(*) FROM catalog_facet_pairs") == len(pair_truth(sql))
    sql.execute("TRUNCATE products CASCADE")
    assert sql.scalar("SELECT count(*) FROM catalog_facet_pairs") == 0


def test_pair_compaction_rewrites_only_the_keys_that_changed(sql, seeded):
    """An editor's save pays for folding its own keys, not the whole table (which made every
    200th save wait about a second at 100,000 products)."""
    sql.scalar("SELECT catalog_compact_facet_pairs()")
    before = {r["id"] for r in sql.all("SELECT id FROM catalog_facet_pairs")}
    sql.execute("UPDATE products SET attributes = attributes || '{\"colour\": \"teal\"}'"
                " WHERE id = (SELECT min(id) FROM products WHERE is_active"
                " AND attributes ->> 'colour' <> 'teal')")
    sql.scalar("SELECT catalog_compact_facet_pairs()")
    after = {r["id"] for r in sql.all("SELECT id FROM catalog_facet_pairs")}
    assert 0 < len(before - after) <= 24  # one product: its 12 keys before and 12 after
    assert pairs(sql) == pair_truth(sql)


# -- how the text condition finds rows (issue 14) -----------------------------------------------

def _counts(result):
    return ({f: [(v.value, v.count) for v in result.facets[f].values] for f in result.facets},
            result.total, result.price_min, result.price_max,
            [(b.low, b.count) for b in result.price_bands])


@pytest.mark.parametrize("mode", ["none", "head"])
def test_every_way_of_finding_text_rows_counts_the_same(run_db, seeded, monkeypatch, mode):
    """The text index, the head words of a typed prefix, or the other filters' indexes with
    the whole query tested on the rows: the same rows, so the same counts, exact and sampled
    (and the page of products that follows the match set's way)."""
    from app.catalog import facets
    from app.catalog.filters import bind_filter
    from app.catalog.page_query import find_cards

    filters = [ProductFilter(q=q, categories=c, brands=b, min_price=p)
               for q in ("brass la", "oak ta", "lamp", "the la", "-oak lam", "brass lamp")
               for c, b, p in (((), (), None), (("lighting",), ("Nordhavn",), Decimal("20")),
                               ((), ("Halden", "Nordhavn"), None))]

    async def go(session):
        tree = await load_category_tree(session)
        out = []
        for filt in filters:
            bound = bind_filter(filt, tree)
            result = await compute_facets(session, filt, tree, bound=bound)
            modes.add(bound.shape.text_index)
            cards = await find_cards(session, filt, tree=tree, sort="price_asc", limit=50,
                                     known_total=result.total, bound=bound)
            out.append((_counts(result), [c.id for c in cards]))
        return out

    def chosen(bound, s):
        if mode == "head" and "q_head" not in bound.values:
            return "full"
        return mode if bound.shape.text == "query" and s.source != "precomputed" else "full"

    modes: set[str] = set()
    expected = run_db(go)
    monkeypatch.setattr(facets, "_text_index", chosen)
    modes.clear()
    assert run_db(go) == expected
    assert mode in modes  # the page of products was found that way too
    monkeypatch.setattr(facets, "EXACT_ROW_BUDGET", 0)
    monkeypatch.setattr(facets, "SAMPLE_TARGET_ROWS", 10**9)  # samples of everything
    monkeypatch.setattr(facets, "SPARSE_FRACTION", 2.0)       # by id ranges
    sampled = run_db(go)
    monkeypatch.setattr(facets, "_text_index", lambda bound, s: "full")
    assert run_db(go) == sampled


def test_the_head_of_a_typed_query_leaves_out_the_prefix_and_stop_words():
    from app.catalog.filters import head_query

    assert head_query("brass la") == "( brass )"
    assert head_query("brass lamp ") == ""          # nothing being typed
    assert head_query("la") == ""                   # no words before the prefix
    assert head_query("the la") == ""               # only a stop word: an empty tsquery
    assert head_query("the oak ta") == "( oak )"
    assert head_query("-oak la") == ""              # an exclusion alone finds no rows
    assert head_query('"oak table" la') == ""       # quotes: no prefix matching at all
    assert head_query("couch la", {"couch": ("couch", "sofa")}) == "( couch | sofa )"
