"""The catalog's large-catalog paths, exercised on small catalogs by lowering their thresholds:
relevance ranked over bounded candidate blocks, facet counts sampled by id ranges, and a seed
that is not bound by the per-request database timeouts."""

from __future__ import annotations

import pytest

from app.catalog import facet_memo, facets
from app.catalog.facets import ID_WINDOWS, _id_windows
from tests.support.html import parse

from .conftest import HX, facet_counts, names

NAME_MATCH_EVERY = 5  # every 5th product has the word in its name, the others in the text


@pytest.fixture
def lamps(sql) -> list[str]:
    """30 products matching "lamp", in table order: in each run of five, four mention a lamp
    only in the description (weaker matches) and the fifth is called "Lamp" (the best match)."""
    category = sql.category("Lighting", "lighting")
    made = []
    for i in range(30):
        if i % NAME_MATCH_EVERY == NAME_MATCH_EVERY - 1:
            name, description = f"Lamp {i:02d}", "A plain shape."
        else:
            name, description = f"Shade {i:02d}", "Fits any lamp."
        sql.product(name, category_id=category, description=description)
        made.append(name)
    return made


def _all_pages(client, url: str, pages: int) -> list[str]:
    shown: list[str] = []
    for page in range(1, pages + 1):
        response = client.get(f"{url}&page={page}", headers=HX)
        assert response.status_code == 200
        shown += names(response.data)
    return shown


def _block_order(lamps: list[str], cap: int) -> list[str]:
    """Each block of ``cap`` products in table order, best matches first (ties by id)."""
    order = []
    for start in range(0, len(lamps), cap):
        block = lamps[start:start + cap]
        order += [n for n in block if n.startswith("Lamp")]
        order += [n for n in block if not n.startswith("Lamp")]
    return order


def test_relevance_is_exact_while_the_matches_fit_under_the_cap(client, app, lamps,
                                                                monkeypatch):
    monkeypatch.setitem(app.config, "CATALOG_RANK_CANDIDATES", 50)
    shown = _all_pages(client, "/products?q=lamp&per_page=12", 3)
    best = [n for n in lamps if n.startswith("Lamp")]
    assert shown == best + [n for n in lamps if n not in best]


def test_a_capped_ranking_still_puts_the_best_matches_of_each_block_first(client, app, lamps,
                                                                          monkeypatch):
    """Over the cap, matches are ranked in blocks of ``cap`` in table order: each block best
    first; pages run through the blocks without repeating or losing a product."""
    monkeypatch.setitem(app.config, "CATALOG_RANK_CANDIDATES", NAME_MATCH_EVERY)
    first = client.get("/products?q=lamp&per_page=12", headers=HX)
    assert first.status_code == 200
    assert names(first.data)[0] == "Lamp 04"  # the best of the first block leads page 1
    shown = _all_pages(client, "/products?q=lamp&per_page=12", 3)
    assert shown == _block_order(lamps, NAME_MATCH_EVERY)
    summary = parse(client.get("/products?q=lamp&per_page=12").data).by_id("catalog-summary").text
    assert summary.startswith("30 products")  # the total is not capped


def test_a_deep_relevance_page_reads_further_blocks(client, app, lamps, monkeypatch):
    monkeypatch.setitem(app.config, "CATALOG_RANK_CANDIDATES", NAME_MATCH_EVERY)
    response = client.get("/products?q=lamp&per_page=12&page=3", headers=HX)
    # asked for directly, page 3 is the same as when paging through: products 25-30
    assert names(response.data) == _block_order(lamps, NAME_MATCH_EVERY)[24:]


@pytest.mark.parametrize("dense", [True, False])
def test_the_blocks_are_the_same_whether_the_table_or_the_text_index_finds_them(
        client, app, sql, lamps, monkeypatch, dense):
    """The first matches in table order are met by reading the table (a dense match set) or
    through the text index (a sparse one): a shopper sees the same pages either way, also
    after edits moved rows to the end of the table."""
    from app.catalog import page_query

    monkeypatch.setitem(app.config, "CATALOG_RANK_CANDIDATES", NAME_MATCH_EVERY)
    monkeypatch.setattr(facets, "_page_sort", lambda shape, sets, page: None)
    sql.execute("UPDATE products SET stock = stock + 1 WHERE name IN ('Lamp 09', 'Shade 01')")
    chosen: list[bool] = []

    def scan(*args: object) -> bool:
        chosen.append(dense)
        return dense

    monkeypatch.setattr(page_query, "_dense", scan)
    shown = _all_pages(client, "/products?q=lamp&per_page=12", 3)
    assert chosen and set(chosen) == {dense}
    moved = [n for n in lamps if n not in ("Lamp 09", "Shade 01")] + ["Lamp 09", "Shade 01"]
    assert shown[:25] == _block_order(moved, NAME_MATCH_EVERY)[:25]
    # the edited two now close the table: the last block, best first, ties by id
    assert shown[25:] == ["Lamp 09", "Lamp 29", "Shade 01", "Shade 27", "Shade 28"]


def test_a_common_word_is_read_from_the_table_and_a_rare_one_through_its_index():
    """The capped ranking's scan choice, from the planner's numbers of the measured cases."""
    from app.catalog.page_query import _dense

    # a word in 7% of 100,000 products: its 7,000 postings beat passing 7,000 rows
    assert not _dense(7_000, 500, 100_000, "full", 7_300)
    # the same word at 1,000,000: 70,000 postings against 7,000 rows passed
    assert _dense(70_000, 500, 1_000_000, "full", 73_000)
    # two words at 1,000,000: 11,000 matches, 176,000 postings, 44,000 rows passed
    assert not _dense(11_000, 500, 1_000_000, "full", 176_000)
    # rows found without the text index, or no estimates: by the share of the catalog
    assert _dense(65_000, 500, 1_000_000, "none", 133_000)
    assert not _dense(20_000, 500, 1_000_000, "head", 600_000)
    assert not _dense(65_000, 500, None, "full", 133_000)


def test_id_windows_cover_the_requested_share_of_the_ids_evenly():
    windows, percent = _id_windows(101, 1100, 0.1)
    assert len(windows) == ID_WINDOWS
    assert all(101 <= start <= end <= 1100 for start, end in windows)
    assert all(a_end < b_start for (_, a_end), (b_start, _) in zip(windows, windows[1:],
                                                                    strict=False))
    covered = sum(end - start + 1 for start, end in windows)
    assert covered == round(percent / 100 * 1000)
    assert 9.5 <= percent <= 11.5
    # spread over the whole range: old and new products alike
    assert windows[0][0] == 101 and windows[-1][0] > 1000


def test_id_windows_at_full_share_cover_every_id_once():
    windows, percent = _id_windows(1, 37, 1.0)
    ids = [i for start, end in windows for i in range(start, end + 1)]
    assert ids == list(range(1, 38))
    assert percent == 100.0


def test_counts_sampled_by_id_ranges_are_right_when_the_sample_is_everything(
        client, shop, monkeypatch):
    """A large, sparse match set is sampled by id ranges; sampling all of them must give the
    true counts (shown as estimates), and the price range comes from the sample."""
    monkeypatch.setattr(facets, "EXACT_ROW_BUDGET", 0)
    monkeypatch.setattr(facets, "SAMPLE_TARGET_ROWS", 10**9)
    monkeypatch.setattr(facets, "SPARSE_FRACTION", 2.0)  # every sampled set counts as sparse
    root = parse(client.get("/products?q=lamp&per_page=48").data)  # (not the cached page)
    assert root.by_id("catalog-summary").text.startswith("About ")
    assert facet_counts(root, "brand") == {"Halden": 2, "Mossgrove": 1, "Nordhavn": 2}
    assert facet_counts(root, "colour") == {"black": 1, "gold": 1, "natural": 1, "white": 2}
    hint = root.by_id("catalog-price-hint").text
    assert "about" in hint and "£35.50" in hint and "£120.00" in hint


BRANDS = ("Aalto", "Birch", "Cedar", "Dune")


@pytest.fixture
def priced_run(sql) -> int:
    """80 products priced inside a price filter, in consecutive ids, the four brands in turn."""
    category = sql.category("Kitchen", "kitchen")
    for i in range(80):
        sql.product(f"Bowl {i:02d}", category_id=category, price="30.00",
                    attributes={"brand": BRANDS[i % 4]})
    return 80


@pytest.mark.parametrize("target, read", [(8, 32), (40, 80)])
def test_an_id_sample_stops_at_its_probes_when_they_hold_its_target(
        client, priced_run, monkeypatch, target, read):
    """The planner sized the set far too small (one row here; a quarter or less of the truth,
    as for words and a department taken as independent, is enough), so its id ranges cover
    every id. Their probes - the first quarter of each range, 32 of the 80 products - already
    hold a target of 8 rows: nothing more is read, and the counts are the probes' scaled by
    their share. A target of 40 reads the rest too. Either way the counts are right."""
    monkeypatch.setattr(facets, "EXACT_ROW_BUDGET", 0)
    monkeypatch.setattr(facets, "SPARSE_FRACTION", 2.0)  # every sampled set by id ranges
    monkeypatch.setattr(facets, "SAMPLE_TARGET_ROWS", target)

    async def tiny_estimates(session, statement, count, values=None):
        return [1] * count

    monkeypatch.setattr(facets, "run_estimates", tiny_estimates)
    totals: list[int] = []
    settle = facets._settle_probes

    def spy(sets, rows):
        totals.extend(r.n for r in rows if r.branch == "match" and r.facet == facets._TOTAL)
        settle(sets, rows)

    monkeypatch.setattr(facets, "_settle_probes", spy)
    root = parse(client.get("/products?min_price=20&max_price=60&per_page=12").data)
    assert totals == [read]  # rows the statement read for the match set
    assert root.by_id("catalog-summary").text.startswith("About 80")
    assert facet_counts(root, "brand") == dict.fromkeys(BRANDS, 20)


@pytest.mark.parametrize("share_of_estimate, floored", [(0.005, False), (0.000001, True)])
def test_a_page_sample_reads_the_share_its_target_needs_down_to_the_floor(
        app, client, shop, monkeypatch, share_of_estimate, floored):
    """A dense set sampled by table pages reads the share of the table its sample target needs
    - 0.5% for a set two hundred times the target, where 1% was the least before - and never
    less than MIN_PAGE_PERCENT; the counts still come back, shown as estimates."""
    monkeypatch.setattr(facets, "EXACT_ROW_BUDGET", 0)
    monkeypatch.setattr(facets, "SPARSE_FRACTION", 0.0)  # every sampled set by table pages
    sampled: list[tuple[float, int]] = []
    values = facets._sample_values

    def spy(s):
        if s.source == "sampled":
            sampled.append((s.percent, s.estimate))
        return values(s)

    monkeypatch.setattr(facets, "_sample_values", spy)
    assert client.get("/products?q=lamp").status_code == 200
    estimate = sampled[0][1]  # the planner's size of the match set (a few rows here)
    # a target of that share of the set's estimate, as a large set's 1,500 rows would be
    monkeypatch.setattr(facets, "SAMPLE_TARGET_ROWS", share_of_estimate * estimate)
    sampled.clear()
    app.extensions[facet_memo.EXTENSION_KEY].clear()  # the worker's counts of the first target
    root = parse(client.get("/products?q=lamp&per_page=48").data)  # (not the cached page)
    assert root.by_id("catalog-summary").text.startswith("About ")
    share = sampled[0][0]
    assert share == pytest.approx(facets.MIN_PAGE_PERCENT if floored else 0.5)


def test_seeding_is_not_bound_by_the_request_timeouts(app):
    """The seed generates rows before its transaction opens and lifts the statement timeout
    for its COPY: it succeeds even where requests get a tiny budget."""
    from app import create_app
    from app.data.seed import product_count, seed_catalog

    strict = create_app("testing", DB_STATEMENT_TIMEOUT_MS=50,
                        DB_IDLE_IN_TRANSACTION_TIMEOUT_MS=300)
    database = strict.extensions["vitrine_db"]

    async def seed() -> tuple[int, int]:
        loaded = await seed_catalog(database.engine, products=20_000, seed=3, replace=True)
        return loaded, await product_count(database.engine)

    try:
        assert strict.run_blocking(seed()) == (20_000, 20_000)
    finally:
        strict.close()
