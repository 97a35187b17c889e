"""The page query: one page of matching products, and how many match.

``products = await find_products(session, filt, sort=..., limit=24, offset=0, tree=tree)``
    ORM :class:`~app.data.models.Product` rows with ``category`` loaded. ``after`` is a
    :func:`.ordering.keyset` tuple of the previous page's last product (or
    :func:`.ordering.decode_cursor` of a string from :func:`.ordering.encode_cursor`); with
    ``after`` do not also pass ``offset``. Relevance over more matches than ``rank_candidates``
    (given a ``known_total``) is ranked in bounded blocks - see :func:`_capped_ranking` for the
    trade-off.

``cards = await find_cards(session, filt, ...)``
    The same page as :class:`Card` rows: only the columns a result card shows, read as Core
    rows on the session's connection (no ORM identity map, no ``joinedload`` of the category:
    its name comes from the category tree). The shopper catalog's listing uses it.

``total = await count_products(session, filt, tree=tree)``
    :class:`Total` - exact when the match set is small (at most :data:`EXACT_COUNT_LIMIT`),
    otherwise the planner's estimate (``total.exact`` is False; show "about N"). Whole-catalog
    counts of active products come from the precomputed facet ledger (exact, no scan).

Statements are built once per filter shape, sort and plan and kept (see :mod:`.filters`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, undefer

from ..data import direct
from ..data.models import Product
from .filters import (
    PREPARED_CACHE_SIZE,
    SHAPE_CACHE_SIZE,
    BoundFilter,
    FilterShape,
    ProductFilter,
    TextIndex,
    bind_filter,
    conditions,
    rank,
    where,
    where_clause,
)
from .ledger import precomputed_total
from .ordering import SORT_KEYS, Sort, after_condition, effective_sort, order_by
from .sql import (
    MAX_MERGED_CATEGORIES,
    estimate_rows,
    per_category,
    plan_freely,
    set_planner_settings,
)
from .tree import CategoryNode, CategoryTree, load_category_tree

__all__ = [
    "DENSE_FRACTION", "EXACT_COUNT_LIMIT", "RANK_CANDIDATES", "SMALL_MATCH_SET", "Card", "Total",
    "count_products", "find_cards", "find_products",
]

#: Above this many matching rows a count is the planner's estimate instead of ``count(*)``.
EXACT_COUNT_LIMIT = 10_000

_table = Product.__table__
_c = _table.c
#: What an ORM page loads besides the row: its category, and its first ready image as one
#: JSON column (a correlated subquery on ``ix_product_images_product_position``): one query.
_PRODUCT_LOAD = (joinedload(Product.category), undefer(Product.card_image))

@dataclass(frozen=True)
class Total:
    """How many products match: ``exact`` False means ``value`` is an estimate."""

    value: int
    exact: bool = True


@dataclass(frozen=True, slots=True)
class Card:
    """What a result card shows of a product (:func:`find_cards`)."""

    id: int
    slug: str
    name: str
    price: Decimal
    stock: int
    brand: str | None
    category: CategoryNode | None
    #: The first image shoppers can see (its variants ready) as JSON, or None: the letter tile.
    card_image: dict[str, Any] | None


#: The columns of a :class:`Card`, in its field order (``category`` from ``category_id``).
_CARD_COLUMNS = (_c.id, _c.slug, _c.name, _c.price, _c.stock,
                 _c.facet_brand.label("brand"),
                 _c.category_id,
                 Product.card_image.expression.label("card_image"))


#: The cards of given products (``ids``), in no order.
_CARDS_BY_ID = select(*_CARD_COLUMNS).where(
    _c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))

#: Relevance ranks at most this many matches per block (see :func:`_capped_ranking`); the
#: app's ``CATALOG_RANK_CANDIDATES`` setting is passed in by the catalog listing.
RANK_CANDIDATES = 500
#: A match set at least this fraction of the catalog is "dense" for the ranking's scan choice
#: when its text index's cost is not known (see :func:`_dense`).
DENSE_FRACTION = 0.05
#: What passing one row of a table scan costs (reading it and testing the text), in postings of
#: the text index. Measured on the capped ranking at 1,000,000 products: "oak & table" scanned
#: 44,000 rows in 12 ms of CPU more than reading its 176,000 postings and 500 rows (so ~6);
#: "sto" (63,000 matches, 64,000 postings) scans 7,700 rows in about the time of the index.
#: (Higher than :data:`.filters.ROW_COST_IN_POSTINGS`, which prices rows read through an index
#: bitmap, not passed over in a scan.)
SCAN_ROW_COST_IN_POSTINGS = 6
#: At most this many matches count as "small" for :func:`find_products`' plan choice (and,
#: on a large catalog, more: see :func:`_small`).
SMALL_MATCH_SET = 5_000


async def find_cards(session: AsyncSession, filt: ProductFilter, *, tree: CategoryTree,
                     sort: Sort | str | None = None, limit: int = 24, offset: int = 0,
                     known_total: Total | None = None, rank_candidates: int | None = None,
                     catalog_rows: int | None = None,
                     text_postings: int | None = None,
                     bound: BoundFilter | None = None,
                     ids: Sequence[int] | None = None) -> list[Card]:
    """:func:`find_products`' page as :class:`Card` rows (same plans, same order), for the
    shopper's result cards: only their columns, as Core rows - no ORM loading.

    ``ids``: the page's products, in order, already found (by the facet counts, see
    :class:`.facets.PageWanted`): only their cards are loaded, by primary key."""
    if ids is not None:
        rows: list[Any] = []
        if ids:
            connection = await session.connection()
            found = {r[0]: r for r in await connection.execute(_CARDS_BY_ID, {"ids": list(ids)})}
            rows = [found[i] for i in ids if i in found]
    else:
        rows = await _find(session, filt, sort=sort, limit=limit, offset=offset, after=None,
                           tree=tree, known_total=known_total, rank_candidates=rank_candidates,
                           catalog_rows=catalog_rows, text_postings=text_postings,
                           bound=bound, cards=True)
    nodes = tree.nodes
    return [Card(r[0], r[1], r[2], r[3], r[4], r[5], nodes.get(r[6]), r[7]) for r in rows]


async def find_products(session: AsyncSession, filt: ProductFilter, *,
                        sort: Sort | str | None = None, limit: int = 24, offset: int = 0,
                        after: Sequence[Any] | None = None,
                        tree: CategoryTree | None = None,
                        known_total: Total | None = None,
                        rank_candidates: int | None = None,
                        catalog_rows: int | None = None,
                        text_postings: int | None = None,
                        bound: BoundFilter | None = None) -> list[Product]:
    """One page of matching products (category loaded), in ``sort`` order.

    ``known_total`` (optional) is the exact or estimated match count when the caller has it;
    it lets the query skip an empty page and choose "collect the few matches, then sort" over
    walking a sort index for a small, selective filter.

    Relevance with a ``known_total`` above ``rank_candidates`` (default
    :data:`RANK_CANDIDATES`; 0 = never) ranks bounded candidate sets instead of every match:
    see :func:`_capped_ranking`. ``catalog_rows`` (the planner's size of the active catalog)
    and ``text_postings`` (the planner's rows of any of the text's terms) tell a dense match set
    (scan the table until enough matches) from a sparse one (collect them through the text
    index): see :func:`_dense`. ``bound`` is ``bind_filter(filt, tree)`` if the caller has it.
    """
    return list(await _find(session, filt, sort=sort, limit=limit, offset=offset, after=after,
                            tree=tree, known_total=known_total,
                            rank_candidates=rank_candidates, catalog_rows=catalog_rows,
                            text_postings=text_postings, bound=bound, cards=False))


async def _find(session: AsyncSession, filt: ProductFilter, *, sort: Sort | str | None,
                limit: int, offset: int, after: Sequence[Any] | None,
                tree: CategoryTree | None, known_total: Total | None,
                rank_candidates: int | None, catalog_rows: int | None,
                bound: BoundFilter | None, cards: bool,
                text_postings: int | None = None) -> list[Any]:
    """The page: ORM products, or (``cards``) Core rows of :data:`_CARD_COLUMNS`."""
    if tree is None:
        tree = await load_category_tree(session)
    sort = effective_sort(filt, sort)
    limit, offset = max(0, limit), max(0, offset)
    if known_total is not None and known_total.exact and known_total.value == 0:
        return []
    bound = bound or bind_filter(filt, tree)
    values: dict[str, Any] = {**bound.values, "page_limit": limit, "page_offset": offset}
    cap = RANK_CANDIDATES if rank_candidates is None else max(0, rank_candidates)
    capped = (sort is Sort.RELEVANCE and after is None and cap > 0
              and known_total is not None and known_total.value > cap)
    if after is None and _merges_categories(filt, bound, sort):
        plan = "merged"
        values["branch_limit"] = offset + limit
    elif capped:
        plan = "capped"
        values["rank_cap"] = cap
        values["rank_window"] = cap * math.ceil((offset + limit) / cap) if limit else cap
    elif sort is Sort.RELEVANCE:
        plan = "ranked"
    elif after is not None:
        if len(after) != len(SORT_KEYS[sort]):
            raise ValueError("cursor does not match the sort order")
        plan = "after"
        values.update({f"after_{i}": value for i, value in enumerate(after)})
    else:
        plan = "plain" if offset == 0 else "offset"
    small = (known_total is not None and known_total.exact and not filt.is_broad()
             and _small(known_total.value, offset + limit, catalog_rows))
    settings: dict[str, str] = {}
    if capped:
        assert known_total is not None
        dense = _dense(known_total.value, values["rank_window"], catalog_rows,
                       bound.shape.text_index, text_postings)
        # "The first N matches" must be the same N on every request (pages stay consistent):
        # no parallel workers, no synchronised scans that start mid-table. A dense match set
        # is met quickly by reading the table in order; a sparse one through the text index
        # (reading the table would pass over many rows per match).
        settings = {"max_parallel_workers_per_gather": "0", "synchronize_seqscans": "off",
                    "enable_seqscan": "on" if dense else "off",
                    "enable_bitmapscan": "off" if dense else "on",
                    # sparse: not along a sort index either, filtering row by row
                    "enable_indexscan": "on" if dense else "off"}
    elif small and sort is not Sort.RELEVANCE:
        # A selective filter with a non-relevance order: the planner may hope to meet matches
        # early while walking the sort index and then scan most of it. We know the set is
        # small: collect it through the filter's own indexes, then sort it.
        settings = {"enable_indexscan": "off"}
    if settings:
        await set_planner_settings(session, settings, restore_later=cards)
    else:
        await plan_freely(session)
    if cards:
        # A fixed shape of plain columns: run directly on asyncpg, without the ORM's execution.
        products: list[Any] = await direct.fetch(
            session, _card_page_statement(bound.shape, sort, plan), values)
    else:
        products = list((await session.scalars(_page_statement(bound.shape, sort, plan),
                                                values)).unique().all())
    # Later statements of this transaction plan freely again. (Not in a ``finally``: after a
    # failed or cancelled query the transaction is usually aborted - a statement there would
    # replace the real error with "current transaction is aborted" - and the request's
    # rollback undoes the settings anyway.)
    # (Cards: the restore is left pending for the next planned statement, if one comes - the
    # catalog page's highlighting reads no table - see set_planner_settings.)
    restore = {name: "on" for name in settings if name.startswith("enable_")}
    if restore and not cards:
        await set_planner_settings(session, restore)
    return products


def _dense(matches: int, window: int, catalog_rows: int | None, text_index: TextIndex,
           text_postings: int | None) -> bool:
    """Whether the first ``window`` matches of a capped ranking are found by reading the table
    in order, testing each row, rather than through the text index.

    Reading the table passes over ``window x catalog / matches`` rows; the text index reads
    every posting of the text's terms (``text_postings``; a row passed costs
    :data:`SCAN_ROW_COST_IN_POSTINGS` of them) and then only the window's rows. So the index
    pays for a word in 7% of 100,000 products (7,000 postings against 7,000 rows passed), not
    for the same word at 1,000,000 (70,000 postings); and for a rarer pair of words at
    1,000,000 too. When the match set's rows were not found through the text index
    (``text_index`` other than ``full``: its postings cost more than its rows, see
    :func:`.facets._text_index`), or without the estimates, a set is dense from
    :data:`DENSE_FRACTION` of the catalog."""
    if not catalog_rows:
        return False
    if text_index == "full" and text_postings:
        passed = window * catalog_rows / max(1, matches)
        return passed * SCAN_ROW_COST_IN_POSTINGS < (text_postings
                                                     + window * SCAN_ROW_COST_IN_POSTINGS)
    return matches >= DENSE_FRACTION * catalog_rows


def _small(matches: int, page_end: int, catalog_rows: int | None) -> bool:
    """Whether to collect the matches through the filter's indexes and sort them, rather than
    walk a sort index testing rows until the page is filled.

    Collecting reads each match once; walking reads about ``page_end x catalog / matches`` rows
    when the matches are spread evenly along the sort order - and far more when they cluster at
    its far end (6,000 lamps of one brand above a price floor at 1,000,000 products: 127,000
    rows walked for page 2). So: up to :data:`SMALL_MATCH_SET`, or up to where the two break
    even (``matches² <= page_end x catalog``: 6,900 matches for page 2 of 24 at 1,000,000)."""
    if matches <= SMALL_MATCH_SET:
        return True
    return bool(catalog_rows) and matches * matches <= page_end * (catalog_rows or 0)


def _rows(cards: bool) -> Select[Any]:
    """What a page selects: ORM products with their category, or the card columns."""
    if cards:
        return select(*_CARD_COLUMNS)
    return select(Product).options(*_PRODUCT_LOAD)


@lru_cache(maxsize=SHAPE_CACHE_SIZE)
def _page_statement(shape: FilterShape, sort: Sort, plan: str) -> Select[Any]:
    """:func:`_build_page_statement` of ORM products (kept as a tree: the ORM runs it)."""
    return _build_page_statement(shape, sort, plan)


@lru_cache(maxsize=PREPARED_CACHE_SIZE)
def _card_page_statement(shape: FilterShape, sort: Sort, plan: str) -> direct.Prepared:
    """:func:`_build_page_statement` of the card columns, prepared (kept as its plan)."""
    return direct.Prepared(partial(_build_page_statement, shape, sort, plan, cards=True))


def _build_page_statement(shape: FilterShape, sort: Sort, plan: str, cards: bool = False
                          ) -> Select[Any]:
    """The page query of one filter shape, sort and plan (``plain``, ``offset`` - a later page
    in the sort order -, ``after`` a keyset, ``ranked`` by relevance, ``capped`` relevance,
    ``merged`` per-category price order), of ORM products or (``cards``) the card columns.
    Parameters: the filter's, ``page_limit`` and ``page_offset``, and the plan's own."""
    limit = bindparam("page_limit", type_=Integer)
    offset = bindparam("page_offset", type_=Integer)
    products = _rows(cards)
    if plan == "capped":
        return _capped_ranking(shape, cards)
    if plan == "ranked":
        # Rank every match carrying only (id, rank), then load the page's rows: projecting whole
        # rows (descriptions, attributes) of thousands of matches into the sort costs more
        # than ranking them.
        relevance = rank(shape.text)
        ranked = (
            select(_c.id, relevance.label("rank"))
            .where(where_clause(shape))
            .order_by(relevance.desc(), _c.id)
            .limit(limit)
            .offset(offset)
            .subquery("ranked")
        )
        return (products.join(ranked, _c.id == ranked.c.id)
                .order_by(ranked.c.rank.desc(), _c.id))
    statement = products.order_by(*order_by(shape.text, sort)).limit(limit)
    if plan == "merged":
        return statement.where(_c.id.in_(_per_category_ids(shape, sort)))
    if plan == "offset":
        # The rows skipped by the offset carry only their ids (and sort keys), and the page's
        # rows are loaded after the offset: a card's columns include its image (a correlated
        # subquery), which PostgreSQL otherwise evaluates for every skipped row too - 3,600
        # image look-ups for page 150 of 24 (7,200 of the page's 10,800 buffers at 1,000,000
        # products) - and an order served by a covering sort index ((is_active, price, id))
        # skips them without reading the table.
        page = (select(_c.id).where(where_clause(shape))
                .order_by(*order_by(shape.text, sort)).limit(limit).offset(offset)
                .subquery("page"))
        return statement.join(page, _c.id == page.c.id)
    statement = statement.where(where_clause(shape))
    if plan == "after":
        return statement.where(after_condition(sort))
    return statement.offset(offset)


def _capped_ranking(shape: FilterShape, cards: bool = False) -> Select[Any]:
    """Relevance order over bounded candidate sets, for match sets too large to rank whole.

    Ranking needs every match's ``search_vector`` from the table: at 1,000,000 products a
    common word matches 20,000-700,000 rows and ranking them reads 20,000-100,000 pages (0.3-2
    seconds). Instead the matches are taken in table order, without sorting, in blocks of
    ``rank_cap``; each block is ranked, and pages run through the first block, best first, then
    the next. Only the blocks up to the requested page are read (``rank_window``: page 1 reads
    ``rank_cap`` matches).

    The trade-off, documented for shoppers' sake: with more than ``rank_cap`` matches, page 1
    shows the best of the first ``rank_cap`` matches in table order rather than the best of all
    - for a query that broad the top results are close in rank anyway (the same word in the
    name), and refining the query brings the match set under the cap, where ranking is exact
    again. Pages stay consistent: blocks do not depend on the page asked for.
    """
    matches = (
        select(_c.id, _c.search_vector, _c.category_id)
        .where(where_clause(shape))
        .limit(bindparam("rank_window", type_=Integer))
        .subquery("matches")
    )
    position = func.row_number().over() - 1
    scored = select(
        matches.c.id,
        rank(shape.text, matches.c.search_vector, matches.c.category_id).label("rank"),
        (position // bindparam("rank_cap", type_=Integer)).label("block"),
    ).subquery("scored")
    ranked = (
        select(scored.c.id, scored.c.rank, scored.c.block)
        .order_by(scored.c.block, scored.c.rank.desc(), scored.c.id)
        .limit(bindparam("page_limit", type_=Integer))
        .offset(bindparam("page_offset", type_=Integer))
        .subquery("ranked")
    )
    return (
        _rows(cards)
        .join(ranked, _c.id == ranked.c.id)
        .order_by(ranked.c.block, ranked.c.rank.desc(), _c.id)
    )


def _merges_categories(filt: ProductFilter, bound: BoundFilter, sort: Sort) -> bool:
    """Whether a price-ordered page over several categories is merged per category."""
    return (sort in (Sort.PRICE_ASC, Sort.PRICE_DESC) and bound.shape.category == "many"
            and not filt.has_text and filt.active_only
            and len(bound.category_ids or ()) <= MAX_MERGED_CATEGORIES)


def _per_category_ids(shape: FilterShape, sort: Sort) -> Select[Any]:
    """Ids of one page in price order over several categories, merged from one index range
    per category (``ix_products_active_category_price``) instead of walking the global price
    index past every cheaper product of other departments. Parameters: the filter's (its
    ``categories``), ``branch_limit`` (offset + limit), ``page_offset`` and ``page_limit``."""
    selected = per_category("categories")
    branch = (
        select(_c.id, _c.price)
        .where(*conditions(shape, frozenset({"category"})),
               _c.category_id == selected.c.category_id)
        .order_by(*order_by(shape.text, sort))
        .limit(bindparam("branch_limit", type_=Integer))
        .lateral("branch")
    )
    descending = sort is Sort.PRICE_DESC
    return (
        select(branch.c.id)
        .select_from(selected)
        .join(branch, true())
        .order_by(branch.c.price.desc() if descending else branch.c.price.asc(),
                  branch.c.id.desc() if descending else branch.c.id.asc())
        .offset(bindparam("page_offset", type_=Integer))
        .limit(bindparam("page_limit", type_=Integer))
    )


async def count_products(session: AsyncSession, filt: ProductFilter, *,
                         tree: CategoryTree | None = None,
                         exact_limit: int = EXACT_COUNT_LIMIT) -> Total:
    """How many products match: exact up to ``exact_limit`` rows, else the planner's estimate.

    Never counts more than ``exact_limit + 1`` rows. Broad filters over active products (no
    text, price or attribute filters) are answered exactly from the precomputed counts.
    """
    if tree is None:
        tree = await load_category_tree(session)
    if filt.is_broad():
        return Total(await precomputed_total(session, filt, tree), exact=True)
    condition = where(filt, tree)
    estimate = await estimate_rows(session, condition)
    if estimate <= exact_limit * 2:
        matches: Select[Any] = select(literal_column("1")).select_from(_table).where(condition)
        capped = matches.limit(exact_limit + 1).subquery()
        counted = int(await session.scalar(select(func.count()).select_from(capped)) or 0)
        if counted <= exact_limit:
            return Total(counted, exact=True)
        estimate = max(estimate, counted)
    return Total(estimate, exact=False)
