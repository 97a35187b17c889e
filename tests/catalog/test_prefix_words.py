"""A typed prefix matched as the catalog's words that start with it (migration 0017, issue 14):
the vocabulary follows every product write, the rewritten query matches exactly the rows the
prefix matches, and a search finds, counts and orders the same either way."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.catalog.facets import compute_facets
from app.catalog.filters import ProductFilter, bind_filter
from app.catalog.page_query import find_cards
from app.catalog.tree import load_category_tree

from .test_facet_counts import _counts, seeded  # noqa: F401 - the seeded catalog fixture

MISSING = """
    SELECT count(*) FROM (SELECT DISTINCT unnest(tsvector_to_array(search_vector)) AS lexeme
                          FROM products) AS carried
    WHERE NOT EXISTS (SELECT 1 FROM catalog_lexemes l WHERE l.lexeme = carried.lexeme)
"""


def test_the_vocabulary_holds_every_word_of_every_product_after_any_write(sql, seeded):  # noqa: F811
    assert sql.scalar(MISSING) == 0
    sql.execute("UPDATE products SET description = description || ' Zanzibarish quokkas.'"
                " WHERE id % 5 = 0")
    sql.execute("UPDATE products SET is_active = false WHERE id % 7 = 0")  # inactive: kept
    sql.execute("INSERT INTO products (name, slug, price, category_id)"
                " SELECT 'Xylophonic ' || name, slug || '-x', price, category_id"
                " FROM products WHERE id % 11 = 0")
    assert sql.scalar(MISSING) == 0
    assert sql.scalar("SELECT count(*) FROM catalog_lexemes"
                      " WHERE lexeme IN ('zanzibarish', 'quokka', 'xylophon')") == 3


QUERIES = ["( la | la:* )", "( brass ) & ( la | la:* )", "( oak ) & ( ta | ta:* )",
           "oak <-> ta:*", "!( oak ) & ( lam | lam:* )", "( zzqx | zzqx:* )", "wo:* | le:*",
           "( lamp | lamp:* | light )", "( a4 | a4:* )"]


@pytest.mark.parametrize("query", QUERIES)
def test_a_prefix_written_as_words_matches_exactly_the_rows_of_the_prefix(sql, seeded, query):  # noqa: F811
    prefix = sql.all("SELECT id FROM products WHERE search_vector @@ to_tsquery('english', %s)"
                     " ORDER BY id", query)
    rewritten = sql.scalar("SELECT catalog_expand_prefixes(to_tsquery('english', %s))::text",
                           query)
    assert sql.all("SELECT id FROM products WHERE search_vector @@ %s::tsquery ORDER BY id",
                   rewritten) == prefix
    if query.startswith("( la"):
        assert ":*" not in rewritten and "'lamp'" in rewritten  # written as words
    if "zzqx" in query:
        assert rewritten == "'zzqx' | 'zzqx':*"  # no such word: left to the index


def test_a_prefix_with_more_words_than_the_limit_is_left_as_a_prefix(sql, seeded):  # noqa: F811
    assert sql.scalar("SELECT catalog_expand_prefixes(to_tsquery('english', 'l:*'), 1)::text"
                      ) == "'l':*"


def test_searches_find_count_and_order_the_same_with_the_prefix_as_words(run_db, seeded,  # noqa: F811
                                                                         monkeypatch):
    from app.catalog import facets

    filters = [ProductFilter(q=q, categories=c, brands=b, min_price=p)
               for q in ("brass la", "oak ta", "la", "lamp", "the la", "-oak lam", "wo")
               for c, b, p in (((), (), None), (("lighting",), ("Nordhavn",), Decimal("20")))]
    used: set[bool] = set()

    async def go(session):
        tree = await load_category_tree(session)
        out = []
        for filt in filters:
            bound = bind_filter(filt, tree)
            result = await compute_facets(session, filt, tree, bound=bound)
            used.add(bound.shape.lexemes)
            for sort in ("relevance", "price_asc"):
                cards = await find_cards(session, filt, tree=tree, sort=sort, limit=50,
                                         known_total=result.total, bound=bound)
                out.append((_counts(result), [c.id for c in cards]))
        return out

    expanded = run_db(go)
    assert used == {True}

    async def leave(session, bound, kept=None):
        return None

    monkeypatch.setattr(facets, "_expand_prefixes", leave)
    used.clear()
    assert run_db(go) == expanded
    assert used == {False}


# -- the page of an exactly counted text search, found while counting ----------------------------

PAGES = ["q=lamp&sort=price_asc", "q=lamp&sort=price_desc&page=2&per_page=5",
         "q=oak&sort=name&per_page=7&page=3", "q=brass+la&sort=newest",
         "q=la&category=lighting&brand=Nordhavn&min_price=20&sort=price_asc&page=2&per_page=3",
         "q=wool&brand=Halden&brand=Nordhavn&sort=name",
         "q=la&brand=Halden&sort=price_desc", "q=oak+ta&sort=price_asc&page=40",
         "q=lamp", "q=zzqx&sort=price_asc"]


def test_a_counted_text_search_shows_the_page_it_found_while_counting(client, seeded,  # noqa: F811
                                                                      sent_sql, monkeypatch):
    """Sorted by anything but relevance, the page's ids come from the facet counts' statement
    (which reads every match anyway) and only their cards are loaded: the same page, byte for
    byte, as the page query finds - without a second search of the matches."""
    from app.catalog import facets

    from .conftest import HX

    shown = {}
    for url in PAGES:
        sent_sql.clear()
        shown[url] = client.get(f"/products?{url}", headers=HX).data
        counting = [i for i, s in enumerate(sent_sql) if "GROUPING SETS" in s]
        after = sent_sql[counting[-1] + 1:] if counting else []
        clamped = b"so this is the last one" in shown[url]  # another page than asked for
        found = b"product-name" in shown[url]  # (else "did you mean" searches again)
        if "sort=" in url and found and not clamped:
            assert not any("search_vector" in s for s in after), url  # no second search
    monkeypatch.setattr(facets, "_page_sort", lambda shape, sets, page: None)
    for url in PAGES:
        assert client.get(f"/products?{url}", headers=HX).data == shown[url], url
