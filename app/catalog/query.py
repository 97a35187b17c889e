"""The catalog query layer: one filter object in, SQL out. Shared by the shopper catalog
(``/products``), the editors' product table (``/editor/products``) and the JSON API listing, so
that all three agree on what "lamps by Nordhavn under 50, in stock" means.

Nothing here knows about Flask or URLs (parsing request parameters is :mod:`.params`' job);
everything here is bound parameters, never interpolated user text. What a filter means in SQL
lives in :mod:`.filters`: statements are built once per *shape* of filter and then run with
each request's values (building them is a search's largest Python cost otherwise).

Interface
---------
:class:`ProductFilter` (frozen dataclass; every field optional)
    ``q``            free text: ``websearch_to_tsquery('english', q)`` plus prefix matching on the
                     last word as typed (see :func:`.filters.split_prefix`); blank = no text
                     filter, text without any word (``%``, ``!!``) matches nothing.
    ``categories``   category slugs; a parent category includes its sub-categories (OR).
    ``brands``, ``colours``, ``sizes``
                     exact attribute values (``attributes->>'brand'`` ...), OR within each.
    ``min_price``, ``max_price``   inclusive bounds (Decimal).
    ``stock``        ``"in"`` (stock > 0), ``"out"`` (stock = 0) or None (either).
    ``include_inactive`` False (shoppers): active products only, ``active`` must be None/True.
                     True (editors): ``active`` True / False / None = only active, only inactive,
                     both.

:class:`Sort` - ``relevance`` (needs text; falls back to ``newest`` without it), ``newest``,
``price_asc``, ``price_desc``, ``name``, ``updated``. Every order ends with ``id`` so pages are
stable and :func:`find_products` can use keyset pagination (``after=``) for all but relevance.

``tree = await load_category_tree(session)``
    The categories (one small query); pass it to the calls below to resolve slugs once.

``products = await find_products(session, filt, sort=..., limit=24, offset=0, tree=tree)``
    ORM :class:`~app.data.models.Product` rows with ``category`` loaded. ``after`` is a
    :func:`keyset` tuple of the previous page's last product (or :func:`decode_cursor` of a
    string from :func:`encode_cursor`); with ``after`` do not also pass ``offset``. Relevance
    over more matches than ``rank_candidates`` (given a ``known_total``) is ranked in bounded
    blocks - see :func:`_capped_ranking` for the trade-off.

``total = await count_products(session, filt, tree=tree)``
    :class:`Total` - exact when the match set is small (at most :data:`EXACT_COUNT_LIMIT`),
    otherwise the planner's estimate (``total.exact`` is False; show "about N"). Whole-catalog
    counts of active products come from the precomputed facet-count table (exact, no scan).

``conditions = filter_conditions(filt, tree)``
    The WHERE clauses (a list to ``and_``) for your own statements over ``products``, e.g. a
    bulk action "apply to every product matching this filter". ``skip={"brand"}`` leaves out a
    facet's own condition (what facet counts need).

Facet counts live in :mod:`.facets`, text-search helpers (suggestions, highlighting) in
:mod:`.search`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    CompoundSelect,
    Executable,
    Integer,
    Select,
    TextClause,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.visitors import InternalTraversal

from ..data.models import Category, Product
from .filters import (
    SHAPE_CACHE_SIZE,
    BoundFilter,
    FilterShape,
    ProductFilter,
    TextShape,
    bind_filter,
    conditions,
    filter_conditions,
    rank,
    split_prefix,
    tsquery,
    where,
    where_clause,
)

# ProductFilter, split_prefix, filter_conditions and where are defined in .filters and are
# part of this interface.
__all__ = [
    "EXACT_COUNT_LIMIT", "CategoryNode", "CategoryTree", "ProductFilter", "Sort", "Total",
    "count_products", "decode_cursor", "encode_cursor", "estimate_rows", "filter_conditions",
    "estimates_statement", "find_products", "keyset", "load_category_tree", "per_category",
    "run_estimates", "set_planner_settings", "split_prefix", "where",
]

#: Above this many matching rows a count is the planner's estimate instead of ``count(*)``.
EXACT_COUNT_LIMIT = 10_000

_table = Product.__table__
_c = _table.c


# -- sort orders and totals ----------------------------------------------------------------------

class Sort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NAME = "name"
    UPDATED = "updated"


#: Sort -> ((column, descending), ...); ``id`` always last, in the same direction.
_SORT_KEYS: dict[Sort, tuple[tuple[str, bool], ...]] = {
    Sort.NEWEST: (("created_at", True), ("id", True)),
    Sort.PRICE_ASC: (("price", False), ("id", False)),
    Sort.PRICE_DESC: (("price", True), ("id", True)),
    Sort.NAME: (("name", False), ("id", False)),
    Sort.UPDATED: (("updated_at", True), ("id", True)),
}


@dataclass(frozen=True)
class Total:
    """How many products match: ``exact`` False means ``value`` is an estimate."""

    value: int
    exact: bool = True


# -- categories ---------------------------------------------------------------------------------

@dataclass
class CategoryNode:
    id: int
    name: str
    slug: str
    parent_id: int | None
    children: list[CategoryNode] = field(default_factory=list)


@dataclass
class CategoryTree:
    """All categories, by id and slug, with children lists (ordered by name).

    Read-only once built: a worker shares one tree between its requests (see
    :func:`load_category_tree`)."""

    nodes: dict[int, CategoryNode]

    def __post_init__(self) -> None:
        self._descendants: dict[int, frozenset[int]] = {}
        self.by_slug = {node.slug: node for node in self.nodes.values()}
        for node in sorted(self.nodes.values(), key=lambda n: (n.name.lower(), n.id)):
            parent = self.nodes.get(node.parent_id) if node.parent_id is not None else None
            if parent is not None:
                parent.children.append(node)
        self.roots = sorted((n for n in self.nodes.values()
                             if n.parent_id is None or n.parent_id not in self.nodes),
                            key=lambda n: (n.name.lower(), n.id))

    def descendant_ids(self, node: CategoryNode) -> frozenset[int]:
        """``node`` and everything below it (cycle-safe; worked out once per node)."""
        known = self._descendants.get(node.id)
        if known is not None:
            return known
        seen: set[int] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if current.id in seen:
                continue
            seen.add(current.id)
            stack.extend(current.children)
        self._descendants[node.id] = frozen = frozenset(seen)
        return frozen

    def expand(self, slugs: Iterable[str]) -> set[int]:
        """Ids matched by selecting these slugs (unknown slugs match nothing)."""
        ids: set[int] = set()
        for slug in slugs:
            node = self.by_slug.get(slug)
            if node is not None:
                ids |= self.descendant_ids(node)
        return ids

    def ancestors(self, node: CategoryNode) -> list[CategoryNode]:
        """Root first, ``node`` excluded (for breadcrumbs)."""
        chain: list[CategoryNode] = []
        seen = {node.id}
        current = self.nodes.get(node.parent_id) if node.parent_id is not None else None
        while current is not None and current.id not in seen:
            chain.append(current)
            seen.add(current.id)
            current = self.nodes.get(current.parent_id) if current.parent_id is not None else None
        return list(reversed(chain))


async def load_category_tree(session: AsyncSession) -> CategoryTree:
    """The category tree as this session's transaction sees it.

    A worker keeps the tree it last read, per engine (one database, one event loop), with the
    ``category_tree_version`` it was read at (migration 0004: a trigger gives the version a new
    random value at every change of ``categories``). Each call asks for the version only - one
    row - and reads and builds the tree again only when it differs. A transaction that changed
    categories sees its own new version, so it never gets a tree without its own changes.
    """
    engine = session.get_bind()
    version = await session.scalar(_TREE_VERSION)
    kept = _KEPT_TREES.get(engine)
    if kept is not None and version is not None and kept[0] == version:
        return kept[1]
    rows = (await session.execute(_CATEGORY_ROWS)).all()
    tree = CategoryTree({r.id: CategoryNode(r.id, r.name, r.slug, r.parent_id) for r in rows})
    if version is not None:
        # (If the categories changed between the two reads, the tree is newer than the version
        # it is kept under: the next call sees another version and reads it again.)
        _KEPT_TREES[engine] = (version, tree)
    return tree


_TREE_VERSION = select(column("version")).select_from(table("category_tree_version"))
_CATEGORY_ROWS = select(Category.id, Category.name, Category.slug, Category.parent_id)
#: engine -> (category_tree_version, tree read at that version)
_KEPT_TREES: weakref.WeakKeyDictionary[Any, tuple[Any, CategoryTree]] = (
    weakref.WeakKeyDictionary())


# -- ORDER BY and keyset ------------------------------------------------------------------------

def effective_sort(filt: ProductFilter, sort: Sort | str | None) -> Sort:
    """``sort`` made valid for ``filt``: relevance needs text; None means the default."""
    if sort is None or sort == "":
        return Sort.RELEVANCE if filt.has_text else Sort.NEWEST
    sort = Sort(sort)
    if sort is Sort.RELEVANCE and not filt.has_text:
        return Sort.NEWEST
    return sort


def _order_by(text: TextShape, sort: Sort) -> list[ColumnElement[Any]]:
    if sort is Sort.RELEVANCE:
        return [rank(text).desc(), _c.id.asc()]
    return [_c[name].desc() if descending else _c[name].asc()
            for name, descending in _SORT_KEYS[sort]]


def keyset(product: Product, sort: Sort) -> tuple[Any, ...]:
    """The values :func:`find_products` needs as ``after=`` to continue after ``product``."""
    if sort is Sort.RELEVANCE:
        raise ValueError("relevance order has no keyset; use offset")
    return tuple(getattr(product, name) for name, _ in _SORT_KEYS[sort])


def _after_condition(sort: Sort) -> ColumnElement[bool]:
    """Rows after the keyset ``after_0, after_1`` (parameters) in ``sort`` order."""
    keys = _SORT_KEYS[sort]
    columns = tuple_(*(_c[name] for name, _ in keys))
    values = tuple_(*(bindparam(f"after_{i}", type_=_c[name].type)
                      for i, (name, _) in enumerate(keys)))
    return columns < values if keys[0][1] else columns > values


_CURSOR_TYPES = {"created_at": "datetime", "updated_at": "datetime", "price": "decimal",
                 "name": "str", "id": "int"}


def encode_cursor(product: Product, sort: Sort) -> str:
    """An opaque URL-safe string for "the page after ``product``" in ``sort`` order."""
    values = []
    for value in keyset(product, sort):
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        values.append(value)
    raw = json.dumps([sort.value, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[Any, ...]:
    """The ``after=`` tuple from :func:`encode_cursor`; ValueError if it is not one for ``sort``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_name, values = json.loads(raw)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValueError("invalid cursor") from None
    if sort_name != sort.value or sort is Sort.RELEVANCE or not isinstance(values, list):
        raise ValueError("cursor belongs to another sort order")
    keys = _SORT_KEYS[sort]
    if len(values) != len(keys):
        raise ValueError("invalid cursor")
    decoded: list[Any] = []
    for (name, _), value in zip(keys, values, strict=True):
        kind = _CURSOR_TYPES[name]
        try:
            if kind == "datetime" and isinstance(value, str):
                decoded.append(datetime.fromisoformat(value))
            elif kind == "decimal" and isinstance(value, str):
                number = Decimal(value)
                if not number.is_finite():
                    raise ValueError
                decoded.append(number)
            elif (kind == "int" and isinstance(value, int) and not isinstance(value, bool)) or (
                    kind == "str" and isinstance(value, str)):
                decoded.append(value)
            else:
                raise ValueError
        except (ValueError, InvalidOperation):
            raise ValueError("invalid cursor") from None
    return tuple(decoded)


# -- reading ------------------------------------------------------------------------------------

#: Relevance ranks at most this many matches per block (see :func:`_capped_ranking`); the
#: app's ``CATALOG_RANK_CANDIDATES`` setting is passed in by the catalog listing.
RANK_CANDIDATES = 2_000
#: A match set at least this fraction of the catalog is "dense" for the ranking's scan choice.
DENSE_FRACTION = 0.05
#: At most this many matches count as "small" for :func:`find_products`' plan choice.
SMALL_MATCH_SET = 5_000
#: Most categories walked one index range each (merged price order, price ranges).
MAX_MERGED_CATEGORIES = 40


async def find_products(session: AsyncSession, filt: ProductFilter, *,
                        sort: Sort | str | None = None, limit: int = 24, offset: int = 0,
                        after: Sequence[Any] | None = None,
                        tree: CategoryTree | None = None,
                        known_total: Total | None = None,
                        rank_candidates: int | None = None,
                        catalog_rows: int | None = None,
                        bound: BoundFilter | None = None) -> list[Product]:
    """One page of matching products (category loaded), in ``sort`` order.

    ``known_total`` (optional) is the exact or estimated match count when the caller has it;
    it lets the query skip an empty page and choose "collect the few matches, then sort" over
    walking a sort index for a small, selective filter.

    Relevance with a ``known_total`` above ``rank_candidates`` (default
    :data:`RANK_CANDIDATES`; 0 = never) ranks bounded candidate sets instead of every match:
    see :func:`_capped_ranking`. ``catalog_rows`` (the planner's size of the active catalog)
    tells a dense match set (scan the table until enough matches) from a sparse one (collect
    them through the text index). ``bound`` is ``bind_filter(filt, tree)`` if the caller has it.
    """
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
        if len(after) != len(_SORT_KEYS[sort]):
            raise ValueError("cursor does not match the sort order")
        plan = "after"
        values.update({f"after_{i}": value for i, value in enumerate(after)})
    else:
        plan = "plain"
    statement = _page_statement(bound.shape, sort, plan)
    small = (known_total is not None and known_total.exact
             and known_total.value <= SMALL_MATCH_SET and not filt.is_broad())
    settings: dict[str, str] = {}
    if capped:
        assert known_total is not None
        dense = bool(catalog_rows) and known_total.value >= DENSE_FRACTION * catalog_rows
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
        await set_planner_settings(session, settings)
    products = list((await session.scalars(statement, values)).unique().all())
    # Later statements of this transaction plan freely again. (Not in a ``finally``: after a
    # failed or cancelled query the transaction is usually aborted - a statement there would
    # replace the real error with "current transaction is aborted" - and the request's
    # rollback undoes the settings anyway.)
    restore = {name: "on" for name in settings if name.startswith("enable_")}
    if restore:
        await set_planner_settings(session, restore)
    return products


@lru_cache(maxsize=SHAPE_CACHE_SIZE)
def _page_statement(shape: FilterShape, sort: Sort, plan: str) -> Select[Any]:
    """The page query of one filter shape, sort and plan (``plain``, ``after`` a keyset,
    ``ranked`` by relevance, ``capped`` relevance, ``merged`` per-category price order).
    Parameters: the filter's, ``page_limit`` and ``page_offset``, and the plan's own."""
    limit = bindparam("page_limit", type_=Integer)
    offset = bindparam("page_offset", type_=Integer)
    products = select(Product).options(joinedload(Product.category))
    if plan == "capped":
        return _capped_ranking(shape)
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
        return (products.join(ranked, Product.id == ranked.c.id)
                .order_by(ranked.c.rank.desc(), Product.id))
    statement = products.order_by(*_order_by(shape.text, sort)).limit(limit)
    if plan == "merged":
        return statement.where(_c.id.in_(_per_category_ids(shape, sort)))
    statement = statement.where(where_clause(shape))
    if plan == "after":
        return statement.where(_after_condition(sort))
    return statement.offset(offset)


async def set_planner_settings(session: AsyncSession, settings: dict[str, str]) -> None:
    """Planner settings for the rest of this transaction (``set_config(..., true)``), in one
    round trip. Names are ours (never user input); values are bound."""
    await session.execute(_set_config(tuple(settings)),
                          {f"v{i}": value for i, value in enumerate(settings.values())})


@lru_cache(maxsize=16)
def _set_config(names: tuple[str, ...]) -> TextClause:
    calls = ", ".join(f"set_config('{name}', :v{i}, true)" for i, name in enumerate(names))
    return text(f"SELECT {calls}")  # noqa: S608 - fixed names, bound values


def _capped_ranking(shape: FilterShape) -> Select[Any]:
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
        select(_c.id, _c.search_vector)
        .where(where_clause(shape))
        .limit(bindparam("rank_window", type_=Integer))
        .subquery("matches")
    )
    position = func.row_number().over() - 1
    scored = select(
        matches.c.id,
        func.ts_rank_cd(matches.c.search_vector, tsquery(shape.text)).label("rank"),
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
        select(Product)
        .join(ranked, Product.id == ranked.c.id)
        .options(joinedload(Product.category))
        .order_by(ranked.c.block, ranked.c.rank.desc(), Product.id)
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
        .order_by(*_order_by(shape.text, sort))
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


def per_category(parameter: str) -> Any:
    """``unnest(:parameter) AS selected(category_id)``: one row per category id of an integer
    array parameter, to run a subquery per category with ``LATERAL`` - the same SQL for any
    number of categories."""
    return (func.unnest(bindparam(parameter, type_=ARRAY(Integer)))
            .table_valued("category_id").render_derived(name="selected"))


async def estimate_rows(session: AsyncSession, condition: ColumnElement[bool]) -> int:
    """The planner's row estimate for ``SELECT 1 FROM products WHERE condition`` (no scan)."""
    return (await run_estimates(session, estimates_statement([condition]), 1))[0]


def estimates_statement(clauses: Sequence[ColumnElement[bool]]) -> Explain:
    """One EXPLAIN of a UNION ALL of ``SELECT .. FROM products WHERE <clause>``: the planner's
    estimate of each clause's rows in one round trip (see :func:`run_estimates`)."""
    selects = [select(literal_column(str(i))).select_from(_table).where(c)
               for i, c in enumerate(clauses)]
    return Explain(selects[0] if len(selects) == 1 else selects[0].union_all(*selects[1:]))


async def run_estimates(session: AsyncSession, statement: Explain, count: int,
                        values: dict[str, Any] | None = None) -> list[int]:
    """The ``count`` row estimates of an :func:`estimates_statement`, run with ``values``."""
    plan = await session.scalar(statement, values or {})
    if isinstance(plan, str):
        plan = json.loads(plan)
    top = plan[0]["Plan"]
    if count == 1:
        return [int(top["Plan Rows"])]
    children = _append_children(top)
    if len(children) != count:  # pragma: no cover - a plan shape we did not expect
        return [int(top["Plan Rows"])] * count
    return [int(child["Plan Rows"]) for child in children]


class Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>`` with the statement's bound parameters kept bound
    (``analyze=True`` runs it: for benchmarks).

    Cacheable like any statement (its cache key is the explained statement's and ``analyze``):
    every filtered search sends one, and an uncached construct is compiled anew each time."""

    inherit_cache = True
    _traverse_internals = [("statement", InternalTraversal.dp_clauseelement),
                           ("analyze", InternalTraversal.dp_boolean)]

    def __init__(self, statement: Select[Any] | CompoundSelect[Any], *,
                 analyze: bool = False) -> None:
        self.statement = statement
        self.analyze = analyze

    @property
    def _all_selected_columns(self) -> tuple[()]:
        # The plan is one text/json column that maps to none of the statement's columns;
        # a cached result's metadata is adapted through this.
        return ()


@compiles(Explain, "postgresql")
def _compile_explain(element: Explain, compiler: Any, **kw: Any) -> str:
    options = "ANALYZE, BUFFERS, FORMAT JSON" if element.analyze else "FORMAT JSON"
    return f"EXPLAIN ({options}) " + compiler.process(element.statement, **kw)


def _append_children(node: dict[str, Any]) -> list[dict[str, Any]]:
    while node.get("Node Type") != "Append" and node.get("Plans"):
        node = node["Plans"][0]
    return list(node.get("Plans", []))


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
        from .facets import precomputed_total  # noqa: PLC0415 - facets imports this module

        return Total(await precomputed_total(session, filt, tree), exact=True)
    condition = where(filt, tree)
    estimate = await estimate_rows(session, condition)
    if estimate <= exact_limit * 2:
        capped = select(literal_column("1")).select_from(_table).where(condition)
        capped = capped.limit(exact_limit + 1).subquery()
        counted = await session.scalar(select(func.count()).select_from(capped))
        if counted <= exact_limit:
            return Total(int(counted), exact=True)
        estimate = max(estimate, counted)
    return Total(estimate, exact=False)
