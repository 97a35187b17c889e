"""The facet counts each worker keeps per filter (:mod:`app.catalog.facet_memo`): another sort
or page of the same filter shows them without counting again, and they are never older than the
last commit.

"Kept" is shown the way only keeping could show it: a product hidden *behind the triggers'
back* (``session_replication_role = replica``: the catalog version does not change) leaves the
page of products at once - the products are always found afresh - while the counts still
include it. Any real change shows in the counts on the very next request. Answers about a
search's words - a typed prefix written as the catalog's words, a misspelt word's closest
vocabulary word, whether a corrected query finds anything - are kept the same way.
"""

from __future__ import annotations

import pytest

from app.catalog.facet_memo import EXTENSION_KEY, FacetMemo, Kept
from app.catalog.facets import FacetResult, Total
from app.catalog.filters import FilterShape, ProductFilter
from tests.support.clients import sign_in_client
from tests.support.editing import save_fields
from tests.support.html import parse
from tests.support.response_cache import change_unseen, memo_count, text_memo_count

from .conftest import HX, facet_counts, names


def hide_unseen(database_url: str, product_id: int) -> None:
    """Take a product off the shelves without firing any trigger (no new catalog version)."""
    change_unseen(database_url, "UPDATE products SET is_active = false WHERE id = %s", product_id)


@pytest.fixture
def lamps(sql) -> dict[str, int]:
    lighting = sql.category("Lighting")
    return {
        "brass": sql.product("Brass Lamp", category_id=lighting, price="10.00", stock=5,
                             attributes={"brand": "Halden", "colour": "black"}),
        "steel": sql.product("Steel Lamp", category_id=lighting, price="20.00", stock=5,
                             attributes={"brand": "Nordhavn", "colour": "olive"}),
        "glass": sql.product("Glass Lamp", category_id=lighting, price="30.00", stock=5,
                             attributes={"brand": "Halden", "colour": "olive"}),
    }


def counting_statements(sent: list[str]) -> list[str]:
    """The statements that count facets or estimate their sets."""
    return [s for s in sent if "GROUPING SETS" in s or s.startswith("EXPLAIN")]


@pytest.mark.parametrize("q", ["lamp", "lam"], ids=["word", "typed-prefix"])
def test_another_sort_and_page_size_of_a_filter_reuse_its_counts(client, database_url, lamps,
                                                                 sent_sql, q):
    first = client.get(f"/products?q={q}", headers=HX)
    assert facet_counts(first.data, "colour") == {"black": 1, "olive": 2}
    hide_unseen(database_url, lamps["steel"])
    sent_sql.clear()
    second = client.get(f"/products?q={q}&sort=price_desc", headers=HX)
    assert names(second.data) == ["Glass Lamp", "Brass Lamp"]  # the page is found afresh
    assert facet_counts(second.data, "colour") == {"black": 1, "olive": 2}  # the counts kept
    assert counting_statements(sent_sql) == []
    # the full page of another page size: the same filter, the same kept counts
    third = client.get(f"/products?q={q}&per_page=48")
    assert sorted(names(third.data)) == ["Brass Lamp", "Glass Lamp"]
    assert facet_counts(third.data, "colour") == {"black": 1, "olive": 2}
    # another filter is counted
    sent_sql.clear()
    olive = client.get(f"/products?q={q}&colour=olive", headers=HX)
    assert names(olive.data) == ["Glass Lamp"]
    assert facet_counts(olive.data, "brand") == {"Halden": 1}
    assert counting_statements(sent_sql) != []


def test_typing_under_filters_that_find_nothing_counts_no_search(client, sql, lamps, sent_sql):
    """Nordhavn makes no black lamp: once the filters alone are kept as finding nothing, the
    shopper's next keystrokes under them are not counted at all - until a commit."""
    filters = "brand=Nordhavn&colour=black"
    first = client.get(f"/products?q=la&{filters}", headers=HX)  # counted, and found nothing
    assert names(first.data) == []
    assert counting_statements(sent_sql) != []
    for q in ("lam", "lamp"):
        sent_sql.clear()
        typed = client.get(f"/products?q={q}&{filters}", headers=HX)
        assert names(typed.data) == []
        assert f"Nothing matches “{q}”, so the filters count the whole catalog." in \
            parse(typed.data).text
        assert facet_counts(typed.data, "brand") == {"Halden": 1, "Nordhavn": 0}
        assert counting_statements(sent_sql) == []
    lighting = sql.scalar("SELECT id FROM categories WHERE slug = 'lighting'")
    sql.product("Black Lamp", category_id=lighting, price="15.00", stock=5,
                attributes={"brand": "Nordhavn", "colour": "black"})
    assert names(client.get(f"/products?q=lamp&{filters}", headers=HX).data) == ["Black Lamp"]


def test_a_commit_shows_in_the_counts_on_the_next_request(client, sql, lamps):
    assert facet_counts(client.get("/products?q=lamp", headers=HX).data,
                        "colour") == {"black": 1, "olive": 2}
    sql.execute("UPDATE products SET is_active = false WHERE id = %s", lamps["steel"])
    after = client.get("/products?q=lamp&sort=price_desc", headers=HX)
    assert names(after.data) == ["Glass Lamp", "Brass Lamp"]
    assert facet_counts(after.data, "colour") == {"black": 1, "olive": 1}


def test_an_editors_save_shows_in_the_counts_on_the_next_request(app, client, sql, lamps):
    sql.user("ed@example.com", role="editor")
    editor = sign_in_client(app, "ed@example.com")
    assert facet_counts(client.get("/products?q=lamp").data, "brand") == {
        "Halden": 2, "Nordhavn": 1}
    save_fields(editor, sql, lamps["steel"], brand="Halden")
    after = client.get("/products?q=lamp&sort=name")
    assert facet_counts(after.data, "brand") == {"Halden": 3}


def test_signed_in_requests_count_afresh(app, client, database_url, sql, lamps):
    sql.user("ed@example.com", role="editor")
    editor = sign_in_client(app, "ed@example.com")
    assert facet_counts(editor.get("/products?q=lamp").data, "colour") == {
        "black": 1, "olive": 2}
    client.get("/products?q=lamp")  # kept for shoppers
    hide_unseen(database_url, lamps["steel"])
    assert facet_counts(editor.get("/products?q=lamp&sort=name").data, "colour") == {
        "black": 1, "olive": 1}


def test_without_the_response_cache_nothing_is_kept(make_app, database_url, lamps):
    app = make_app(RESPONSE_CACHE=False)
    assert EXTENSION_KEY not in app.extensions
    client = app.test_client()
    assert facet_counts(client.get("/products?q=lamp").data, "colour") == {
        "black": 1, "olive": 2}
    hide_unseen(database_url, lamps["steel"])
    assert facet_counts(client.get("/products?q=lamp&sort=name").data, "colour") == {
        "black": 1, "olive": 1}
    assert EXTENSION_KEY not in make_app(FACET_MEMO_ENTRIES=0).extensions


def _kept(total: int) -> Kept:
    return Kept(FacetResult({}, Total(total, exact=True), None, None), FilterShape(), None)


def test_the_memo_keeps_one_version_and_at_most_its_bound():
    hits, misses = memo_count("hit"), memo_count("miss")
    memo = FacetMemo(max_entries=2)
    lamp, oak, linen = ProductFilter(q="lamp"), ProductFilter(q="oak"), ProductFilter(q="linen")
    assert memo.get("v1", lamp) is None
    memo.put("v1", lamp, _kept(1))
    memo.put("v1", oak, _kept(2))
    assert memo.get("v1", lamp).result.total.value == 1  # lamp is now the most recent
    memo.put("v1", linen, _kept(3))  # so oak goes
    assert memo.get("v1", oak) is None and len(memo) == 2
    assert memo.get("v2", lamp) is None and len(memo) == 0  # a new version forgets all
    memo.put("v1", lamp, _kept(1))  # a request that read the old version keeps nothing
    assert len(memo) == 0
    assert (memo_count("hit") - hits, memo_count("miss") - misses) == (1, 3)


# -- answers about words, kept the same way ---------------------------------------------------

def expansions(sent: list[str]) -> list[str]:
    """The statements writing a typed prefix as the catalog's words."""
    return [s for s in sent if "catalog_expand_prefixes" in s]


def test_a_typed_prefix_is_written_as_the_catalogs_words_once_per_version(client, sql, lamps,
                                                                         sent_sql):
    assert sorted(names(client.get("/products?q=lam", headers=HX).data)) == [
        "Brass Lamp", "Glass Lamp", "Steel Lamp"]
    assert len(expansions(sent_sql)) == 1
    sent_sql.clear()  # another filter, counted afresh; its prefix is not expanded again
    olive = client.get("/products?q=lam&colour=olive", headers=HX)
    assert sorted(names(olive.data)) == ["Glass Lamp", "Steel Lamp"]
    assert counting_statements(sent_sql) != [] and expansions(sent_sql) == []
    # A commit brings a new word starting with "lam": the next request expands the prefix anew.
    sql.product("Olive Lampshade", category_id=sql.scalar(
        "SELECT id FROM categories WHERE slug = 'lighting'"), price="12.00", stock=5,
        attributes={"brand": "Halden", "colour": "olive"})
    sent_sql.clear()
    after = client.get("/products?q=lam&colour=olive&sort=name", headers=HX)
    assert names(after.data) == ["Glass Lamp", "Olive Lampshade", "Steel Lamp"]
    assert len(expansions(sent_sql)) == 1


def spelling_statements(sent: list[str]) -> list[str]:
    """The statements "Did you mean" sends: the vocabulary lookup and the probes."""
    return [s for s in sent if "catalog_words" in s or s.startswith("SELECT EXISTS")]


def suggested(body: bytes) -> str | None:
    """The corrected query "Did you mean" links to, if it offers one."""
    suggestion = parse(body).find("p", class_="suggestion")
    return None if suggestion is None else suggestion.find("a").get("href")


def test_a_misspelling_asked_again_is_corrected_without_looking_it_up(client, database_url,
                                                                     sql, shop, sent_sql):
    assert suggested(client.get("/products?q=lether", headers=HX).data) == "/products?q=leather"
    assert spelling_statements(sent_sql) != []
    # Behind the triggers' back the chair leaves the shelves: "leather" would find nothing now,
    # but at this catalog version the kept answers still offer it (another URL: not a cached
    # response).
    hide_unseen(database_url, shop.products["Leather Lounge Chair"])
    sent_sql.clear()
    again = client.get("/products?q=lether&sort=price_asc", headers=HX)
    assert suggested(again.data) == "/products?q=leather&sort=price_asc"
    assert spelling_statements(sent_sql) == []
    # Commits are seen on the next request: the chair is put back, then every product but the
    # oak chair taken off the shelves - "leather" finds nothing now.
    sql.execute("UPDATE products SET is_active = true WHERE id = %s",
                shop.products["Leather Lounge Chair"])
    sql.execute("UPDATE products SET is_active = false WHERE name <> 'Oak Dining Chair'")
    sent_sql.clear()
    assert suggested(client.get("/products?q=lether&sort=name", headers=HX).data) is None
    assert spelling_statements(sent_sql) != []


def test_a_correction_whose_counts_are_kept_is_not_probed(client, shop, sent_sql):
    """The shopper searched "leather" before: its counts say it finds something."""
    assert names(client.get("/products?q=leather", headers=HX).data) == ["Leather Lounge Chair"]
    sent_sql.clear()
    assert suggested(client.get("/products?q=lether", headers=HX).data) == "/products?q=leather"
    sent = spelling_statements(sent_sql)
    assert len(sent) == 1 and "catalog_words" in sent[0]  # the lookup, not the probe


def test_answers_about_words_are_kept_for_one_version_and_at_most_their_bound():
    kinds = ("prefix", "closest_word", "finds_any")
    before = {(k, r): text_memo_count(k, r) for k in kinds for r in ("hit", "miss")}
    memo = FacetMemo(max_entries=2)
    assert memo.expansion("v1", "lam:*") is None
    memo.put_expansion("v1", "lam:*", "lamp | lampshad")
    assert memo.expansion("v1", "lam:*") == "lamp | lampshad"
    assert memo.closest_words("v1", ["lether", "lampp"]) == ({}, ["lether", "lampp"])
    memo.put_closest_words("v1", {"lether": "leather", "lampp": "lamp"})
    memo.put_closest_words("v1", {"oak": None})  # a word itself: nothing to offer
    # "lether" was the least recently used: it went
    assert memo.closest_words("v1", ["oak", "lampp", "lether"]) == ({"lampp": "lamp"},
                                                                     ["lether"])
    leather, oak = ProductFilter(q="leather"), ProductFilter(q="oak")
    assert memo.finds_any("v1", leather) is None
    memo.put_finds_any("v1", leather, True)
    memo.put("v1", oak, _kept(0))  # counted exactly: finds nothing
    assert (memo.finds_any("v1", leather), memo.finds_any("v1", oak)) == (True, False)
    memo.put("v1", ProductFilter(q="linen"), Kept(FacetResult({}, Total(900, exact=False), None,
                                                              None), FilterShape(), None))
    assert memo.finds_any("v1", ProductFilter(q="linen")) is None  # an estimate is no answer
    assert memo.finds_any("v2", leather) is None  # a new version forgets all
    assert memo.closest_words("v2", ["lampp"]) == ({}, ["lampp"])
    memo.put_finds_any("v1", leather, True)  # a request that read the old version keeps none
    memo.put_closest_words("v1", {"lampp": "lamp"})
    memo.put_expansion("v1", "lam:*", "lamp")
    assert memo.finds_any("v2", leather) is None
    assert memo.closest_words("v2", ["lampp"]) == ({}, ["lampp"])
    assert memo.expansion("v2", "lam:*") is None
    counted = {key: text_memo_count(*key) - value for key, value in before.items()}
    assert counted == {("prefix", "hit"): 1, ("prefix", "miss"): 2,
                       ("closest_word", "hit"): 2, ("closest_word", "miss"): 5,
                       ("finds_any", "hit"): 2, ("finds_any", "miss"): 4}
