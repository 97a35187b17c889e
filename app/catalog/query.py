"""The catalog query layer: one filter object in, SQL out. Shared by the shopper catalog
(``/products``), the editors' product table (``/editor/products``) and the JSON API listing, so
that all three agree on what "lamps by Nordhavn under 50, in stock" means.

Nothing here knows about Flask or URLs (parsing request parameters is :mod:`.params`' job);
everything here is bound parameters, never interpolated user text.

Interface
---------
:class:`ProductFilter` (frozen dataclass; every field optional)
    ``q``            free text: ``websearch_to_tsquery('english', q)`` plus prefix matching on the
                     last word as typed (see :func:`text_query`); blank = no text filter, text
                     without any word (``%``, ``!!``) matches nothing.
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
import re
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    CompoundSelect,
    Executable,
    Integer,
    Select,
    and_,
    any_,
    false,
    func,
    literal,
    literal_column,
    not_,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload

from ..data.models import Category, Product

__all__ = [
    "EXACT_COUNT_LIMIT", "FACETS", "CategoryNode", "CategoryTree", "ProductFilter", "Sort",
    "Total", "count_products", "decode_cursor", "encode_cursor", "estimate_rows",
    "filter_conditions", "find_products", "keyset", "load_category_tree", "order_by",
    "split_prefix", "text_query",
]

#: Above this many matching rows a count is the planner's estimate instead of ``count(*)``.
EXACT_COUNT_LIMIT = 10_000

#: The multi-select facets, in display order; each is OR within, AND across.
FACETS = ("category", "brand", "colour", "size")
#: Facet name -> key in ``products.attributes``.
ATTRIBUTE_FACETS = {"brand": "brand", "colour": "colour", "size": "size"}

StockFilter = Literal["in", "out"] | None

_table = Product.__table__
_c = _table.c


# -- the filter ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProductFilter:
    """What to match; see the module docstring. Values are used as given (already cleaned)."""

    q: str = ""
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    stock: StockFilter = None
    include_inactive: bool = False
    active: bool | None = None

    def __post_init__(self) -> None:
        if self.stock not in ("in", "out", None):
            raise ValueError(f"stock must be 'in', 'out' or None, not {self.stock!r}")
        if not self.include_inactive and self.active is False:
            raise ValueError("active=False needs include_inactive=True")

    def values(self, facet: str) -> tuple[str, ...]:
        """The selected values of a multi-select facet (``category`` gives slugs)."""
        return {"category": self.categories, "brand": self.brands, "colour": self.colours,
                "size": self.sizes}[facet]

    @property
    def has_text(self) -> bool:
        """Search text with words in it (what relevance needs)."""
        return split_prefix(self.q) != ("", None)

    @property
    def active_only(self) -> bool:
        """True when only active products can match (the shopper's view)."""
        return not self.include_inactive or self.active is True

    def is_broad(self, *, ignoring: str | None = None) -> bool:
        """True when the filter is at most categories + stock over active products: the case the
        precomputed counts answer without scanning (``ignoring`` one facet's own selection)."""
        if not self.active_only or self.q.strip():
            return False
        if self.min_price is not None or self.max_price is not None:
            return False
        return all(not self.values(f) for f in ("brand", "colour", "size") if f != ignoring)


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
    """All categories, by id and slug, with children lists (ordered by name)."""

    nodes: dict[int, CategoryNode]

    def __post_init__(self) -> None:
        self.by_slug = {node.slug: node for node in self.nodes.values()}
        for node in sorted(self.nodes.values(), key=lambda n: (n.name.lower(), n.id)):
            parent = self.nodes.get(node.parent_id) if node.parent_id is not None else None
            if parent is not None:
                parent.children.append(node)
        self.roots = sorted((n for n in self.nodes.values()
                             if n.parent_id is None or n.parent_id not in self.nodes),
                            key=lambda n: (n.name.lower(), n.id))

    def descendant_ids(self, node: CategoryNode) -> set[int]:
        """``node`` and everything below it (cycle-safe)."""
        seen: set[int] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if current.id in seen:
                continue
            seen.add(current.id)
            stack.extend(current.children)
        return seen

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
    rows = (await session.execute(
        select(Category.id, Category.name, Category.slug, Category.parent_id)
    )).all()
    return CategoryTree({r.id: CategoryNode(r.id, r.name, r.slug, r.parent_id) for r in rows})


# -- full text ----------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")


def split_prefix(q: str) -> tuple[str, str | None]:
    """Split typed text into (words for ``websearch_to_tsquery``, last word to prefix-match).

    The last word is prefix-matched only while it is being typed: not after a trailing space,
    not in a query with quotes or the ``or`` operator, not when negated (``-oak``). The prefix
    keeps letters and digits only, so it can never carry tsquery syntax (``:*&|!()<->``).
    """
    q = q or ""
    if not _WORD.search(q):
        return "", None
    if q[-1:].isspace() or '"' in q or re.search(r"(?i)(^|\s)or(\s|$)", q):
        # Inside or after a quoted phrase, or with the OR operator, the words are websearch
        # syntax whose meaning a prefix split would change: no prefix matching.
        return q.strip(), None
    head, _, last = q.rpartition(" ")
    if last.startswith("-") or last.lower() == "or":
        return q.strip(), None
    runs = _WORD.findall(last)
    if not runs or len(runs[-1]) < 2:
        return q.strip(), None
    prefix = runs[-1]
    # Whatever precedes the prefix inside the last word ("o'bri" -> "o") stays a full word.
    rest = last[: last.rfind(prefix)]
    head = f"{head} {rest}".strip()
    return (head if _WORD.search(head) else ""), prefix.lower()


def text_query(q: str) -> ColumnElement[Any] | None:
    """The tsquery for ``q`` (None when it has no words): typed words AND (last word as a word
    OR as a prefix), so "brass la" finds "Brass Lamp" while it is being typed."""
    head, prefix = split_prefix(q)
    terms: list[ColumnElement[Any]] = []
    english = literal_column("'english'::regconfig")
    if head:
        terms.append(func.websearch_to_tsquery(english, head))
    if prefix:
        whole = func.websearch_to_tsquery(english, prefix)
        started = func.to_tsquery(literal_column("'simple'::regconfig"), prefix + ":*")
        terms.append(whole.op("||")(started))
    if not terms:
        return None
    query = terms[0]
    for term in terms[1:]:
        query = query.op("&&")(term)
    return query


def rank_expression(q: str) -> ColumnElement[Any] | None:
    query = text_query(q)
    return None if query is None else func.ts_rank_cd(_c.search_vector, query)


# -- WHERE --------------------------------------------------------------------------------------

def any_of(values: Iterable[Any], item_type: Any) -> ColumnElement[Any]:
    """``ANY(<one array parameter>)``: the SQL stays the same for 1 or 30 values, so every
    selection shares one compiled statement and one prepared statement (an ``IN`` list or an
    ``OR`` chain would be a new statement per length, each cached separately)."""
    return any_(literal(list(values), ARRAY(item_type)))


def category_in(ids: Sequence[int]) -> ColumnElement[bool]:
    # One category stays "=": the planner walks (category_id, price) in price order only for
    # an equality, not for "= ANY" of a one-element array.
    if len(ids) == 1:
        return _c.category_id == literal(ids[0], Integer)
    return _c.category_id == any_of(ids, Integer)


def _attribute_in(key: str, values: Sequence[str]) -> ColumnElement[bool]:
    # ``attributes @> ANY('{"brand": "X"}', ...)`` is answered by the jsonb_path_ops GIN index
    # (one bitmap index search per value, like the OR of single ``@>`` it replaces).
    if len(values) == 1:
        return _c.attributes.contains({key: values[0]})
    return _c.attributes.op("@>", is_comparison=True)(
        any_of(({key: value} for value in values), JSONB))


def facet_condition(filt: ProductFilter, facet: str,
                    tree: CategoryTree) -> ColumnElement[bool] | None:
    """The condition of one multi-select facet, or None when nothing is selected in it."""
    values = filt.values(facet)
    if not values:
        return None
    if facet == "category":
        ids = sorted(tree.expand(values))
        return category_in(ids) if ids else false()
    return _attribute_in(ATTRIBUTE_FACETS[facet], values)


def filter_conditions(filt: ProductFilter, tree: CategoryTree, *,
                      skip: Iterable[str] = ()) -> list[ColumnElement[bool]]:
    """WHERE clauses for ``filt`` (combine with ``and_``); ``skip`` leaves out facets by name."""
    skip = set(skip)
    conditions: list[ColumnElement[bool]] = []
    # Plain "is_active" / "NOT is_active" (not "IS TRUE"): the form partial indexes
    # (WHERE is_active) are proven against.
    if not filt.include_inactive or filt.active is True:
        conditions.append(_c.is_active)
    elif filt.active is False:
        conditions.append(not_(_c.is_active))
    query = text_query(filt.q)
    if query is not None:
        conditions.append(_c.search_vector.op("@@")(query))
    elif filt.q.strip():
        conditions.append(false())  # text without a single word ("%", "!!") finds nothing
    for facet in FACETS:
        if facet in skip:
            continue
        condition = facet_condition(filt, facet, tree)
        if condition is not None:
            conditions.append(condition)
    if filt.min_price is not None:
        conditions.append(_c.price >= filt.min_price)
    if filt.max_price is not None:
        conditions.append(_c.price <= filt.max_price)
    if filt.stock == "in":
        conditions.append(_c.stock > 0)
    elif filt.stock == "out":
        conditions.append(_c.stock == 0)
    return conditions


def where(filt: ProductFilter, tree: CategoryTree, *,
          skip: Iterable[str] = ()) -> ColumnElement[bool]:
    conditions = filter_conditions(filt, tree, skip=skip)
    return and_(*conditions) if conditions else true()


# -- ORDER BY and keyset ------------------------------------------------------------------------

def effective_sort(filt: ProductFilter, sort: Sort | str | None) -> Sort:
    """``sort`` made valid for ``filt``: relevance needs text; None means the default."""
    if sort is None or sort == "":
        return Sort.RELEVANCE if filt.has_text else Sort.NEWEST
    sort = Sort(sort)
    if sort is Sort.RELEVANCE and not filt.has_text:
        return Sort.NEWEST
    return sort


def order_by(filt: ProductFilter, sort: Sort) -> list[ColumnElement[Any]]:
    sort = effective_sort(filt, sort)
    if sort is Sort.RELEVANCE:
        return [rank_expression(filt.q).desc(), _c.id.asc()]
    return [_c[name].desc() if descending else _c[name].asc()
            for name, descending in _SORT_KEYS[sort]]


def keyset(product: Product, sort: Sort) -> tuple[Any, ...]:
    """The values :func:`find_products` needs as ``after=`` to continue after ``product``."""
    if sort is Sort.RELEVANCE:
        raise ValueError("relevance order has no keyset; use offset")
    return tuple(getattr(product, name) for name, _ in _SORT_KEYS[sort])


def _after_condition(sort: Sort, after: Sequence[Any]) -> ColumnElement[bool]:
    keys = _SORT_KEYS[sort]
    if len(after) != len(keys):
        raise ValueError("cursor does not match the sort order")
    columns = tuple_(*(_c[name] for name, _ in keys))
    values = tuple_(*after)
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

async def find_products(session: AsyncSession, filt: ProductFilter, *,
                        sort: Sort | str | None = None, limit: int = 24, offset: int = 0,
                        after: Sequence[Any] | None = None,
                        tree: CategoryTree | None = None,
                        known_total: Total | None = None,
                        rank_candidates: int | None = None,
                        catalog_rows: int | None = None) -> list[Product]:
    """One page of matching products (category loaded), in ``sort`` order.

    ``known_total`` (optional) is the exact or estimated match count when the caller has it;
    it lets the query skip an empty page and choose "collect the few matches, then sort" over
    walking a sort index for a small, selective filter.

    Relevance with a ``known_total`` above ``rank_candidates`` (default
    :data:`RANK_CANDIDATES`; 0 = never) ranks bounded candidate sets instead of every match:
    see :func:`_capped_ranking`. ``catalog_rows`` (the planner's size of the active catalog)
    tells a dense match set (scan the table until enough matches) from a sparse one (collect
    them through the text index).
    """
    if tree is None:
        tree = await load_category_tree(session)
    sort = effective_sort(filt, sort)
    limit, offset = max(0, limit), max(0, offset)
    if known_total is not None and known_total.exact and known_total.value == 0:
        return []
    await use_custom_plans(session)
    statement = (
        select(Product)
        .options(joinedload(Product.category))
        .order_by(*order_by(filt, sort))
        .limit(limit)
    )
    cap = RANK_CANDIDATES if rank_candidates is None else max(0, rank_candidates)
    capped = (sort is Sort.RELEVANCE and after is None and cap > 0
              and known_total is not None and known_total.value > cap)
    merged = None if after is not None else _per_category_page(filt, tree, sort, limit, offset)
    if merged is not None:
        statement = statement.where(_c.id.in_(merged))
    elif capped:
        statement = _capped_ranking(filt, tree, cap, limit, offset)
    elif sort is Sort.RELEVANCE:
        # Rank every match carrying only (id, rank), then load the page's rows: projecting whole
        # rows (descriptions, attributes) of thousands of matches into the sort costs more
        # than ranking them.
        rank = rank_expression(filt.q)
        ranked = (
            select(_c.id, rank.label("rank"))
            .where(where(filt, tree))
            .order_by(rank.desc(), _c.id)
            .limit(limit)
            .offset(offset)
            .subquery("ranked")
        )
        statement = (
            select(Product)
            .join(ranked, Product.id == ranked.c.id)
            .options(joinedload(Product.category))
            .order_by(ranked.c.rank.desc(), Product.id)
        )
    else:
        statement = statement.where(where(filt, tree))
        if after is not None:
            statement = statement.where(_after_condition(sort, after))
        elif offset:
            statement = statement.offset(offset)
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
        await _set_local(session, settings)
    try:
        return list((await session.scalars(statement)).unique().all())
    finally:
        restore = {name: "on" for name in settings if name.startswith("enable_")}
        if restore:
            await _set_local(session, restore)


async def _set_local(session: AsyncSession, settings: dict[str, str]) -> None:
    """Planner settings for the rest of this transaction (``set_config(..., true)``), in one
    round trip. Names are ours (never user input); values are bound."""
    calls = ", ".join(f"set_config('{name}', :v{i}, true)" for i, name in enumerate(settings))
    await session.execute(text(f"SELECT {calls}"),  # noqa: S608 - fixed names, bound values
                          {f"v{i}": value for i, value in enumerate(settings.values())})


#: Relevance ranks at most this many matches per block (see :func:`_capped_ranking`); the
#: app's ``CATALOG_RANK_CANDIDATES`` setting is passed in by the catalog listing.
RANK_CANDIDATES = 2_000
#: A match set at least this fraction of the catalog is "dense" for the ranking's scan choice.
DENSE_FRACTION = 0.05


def _capped_ranking(filt: ProductFilter, tree: CategoryTree, cap: int, limit: int,
                    offset: int) -> Select[Any]:
    """Relevance order over bounded candidate sets, for match sets too large to rank whole.

    Ranking needs every match's ``search_vector`` from the table: at 1,000,000 products a
    common word matches 20,000-700,000 rows and ranking them reads 20,000-100,000 pages (0.3-2
    seconds). Instead the matches are taken in table order, without sorting, in blocks of
    ``cap``; each block is ranked, and pages run through the first block, best first, then the
    next. Only the blocks up to the requested page are read (page 1 reads ``cap`` matches).

    The trade-off, documented for shoppers' sake: with more than ``cap`` matches, page 1 shows
    the best of the first ``cap`` matches in table order rather than the best of all - for a
    query that broad the top results are close in rank anyway (the same word in the name), and
    refining the query brings the match set under the cap, where ranking is exact again.
    Pages stay consistent: blocks do not depend on the page asked for.
    """
    window = cap * math.ceil((offset + limit) / cap) if limit else cap
    matches = (
        select(_c.id, _c.search_vector)
        .where(where(filt, tree))
        .limit(window)
        .subquery("matches")
    )
    position = func.row_number().over() - 1
    scored = select(
        matches.c.id,
        func.ts_rank_cd(matches.c.search_vector, text_query(filt.q)).label("rank"),
        (position // literal(cap, Integer)).label("block"),
    ).subquery("scored")
    ranked = (
        select(scored.c.id, scored.c.rank, scored.c.block)
        .order_by(scored.c.block, scored.c.rank.desc(), scored.c.id)
        .limit(limit)
        .offset(offset)
        .subquery("ranked")
    )
    return (
        select(Product)
        .join(ranked, Product.id == ranked.c.id)
        .options(joinedload(Product.category))
        .order_by(ranked.c.block, ranked.c.rank.desc(), Product.id)
    )


#: At most this many matches count as "small" for :func:`find_products`' plan choice.
SMALL_MATCH_SET = 5_000


def _per_category_page(filt: ProductFilter, tree: CategoryTree, sort: Sort, limit: int,
                       offset: int) -> Select[Any] | None:
    """Ids of one page in price order over several categories, merged from one index range
    per category (``ix_products_active_category_price``) instead of walking the global price
    index past every cheaper product of other departments. None when it does not apply."""
    if sort not in (Sort.PRICE_ASC, Sort.PRICE_DESC) or not filt.categories or filt.has_text:
        return None
    if not filt.active_only:
        return None
    ids = sorted(tree.expand(filt.categories))
    if len(ids) < 2 or len(ids) > 40:
        return None
    keys = order_by(filt, sort)
    others = filter_conditions(filt, tree, skip={"category"})
    selected = per_category(ids)
    branch = (
        select(_c.id, _c.price)
        .where(*others, _c.category_id == selected.c.category_id)
        .order_by(*keys)
        .limit(offset + limit)
        .lateral("branch")
    )
    descending = sort is Sort.PRICE_DESC
    return (
        select(branch.c.id)
        .select_from(selected)
        .join(branch, true())
        .order_by(branch.c.price.desc() if descending else branch.c.price.asc(),
                  branch.c.id.desc() if descending else branch.c.id.asc())
        .offset(offset)
        .limit(limit)
    )


def per_category(ids: Sequence[int]) -> Any:
    """``unnest(<ids>) AS selected(category_id)``: one row per category, to run a subquery per
    category with ``LATERAL`` - the same SQL for any number of categories."""
    return (func.unnest(literal(list(ids), ARRAY(Integer)))
            .table_valued("category_id").render_derived(name="selected"))


async def use_custom_plans(session: AsyncSession) -> None:
    """Plan searches for their own parameters, for a catalog that lives in memory.

    * ``plan_cache_mode``: a generic plan cannot know whether a text query matches 30 or 70,000
      rows and would pick one index strategy for both.
    * ``random_page_cost`` 1.1 (default 4, tuned for spinning disks): with the table cached, a
      GIN bitmap scan over a few thousand rows beats a sequential scan that evaluates ``@@`` on
      every row; at 4 the planner picks the scan and is 3-5x slower.

    Both are transaction-local (``set_config(..., true)``), so nothing leaks to other users of
    the pooled connection. Sent once per (sub)transaction: facets, count and page all call
    this, and each extra call would be one more round trip.
    """
    sync = session.sync_session
    current = sync.get_nested_transaction() or sync.get_transaction()
    if current is not None and current in _CUSTOM_PLANS:
        return
    await session.execute(text(
        "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
        " set_config('random_page_cost', '1.1', true)"
    ))
    current = sync.get_nested_transaction() or sync.get_transaction()
    if current is not None:
        _CUSTOM_PLANS.add(current)


#: (Sub)transactions that already run with :func:`use_custom_plans`' settings.
_CUSTOM_PLANS: weakref.WeakSet[Any] = weakref.WeakSet()


async def estimate_rows(session: AsyncSession, condition: ColumnElement[bool]) -> int:
    """The planner's row estimate for ``SELECT 1 FROM products WHERE condition`` (no scan)."""
    return (await estimate_many(session, [condition]))[0]


async def estimate_many(session: AsyncSession,
                        conditions: Sequence[ColumnElement[bool]]) -> list[int]:
    """Planner estimates for several conditions in one round trip (one EXPLAIN of a UNION ALL)."""
    if not conditions:
        return []
    selects = [select(literal_column(str(i))).select_from(_table).where(c)
               for i, c in enumerate(conditions)]
    statement = selects[0] if len(selects) == 1 else selects[0].union_all(*selects[1:])
    plan = await session.scalar(Explain(statement))
    if isinstance(plan, str):
        plan = json.loads(plan)
    top = plan[0]["Plan"]
    if len(conditions) == 1:
        return [int(top["Plan Rows"])]
    children = _append_children(top)
    if len(children) != len(conditions):  # pragma: no cover - a plan shape we did not expect
        return [int(top["Plan Rows"])] * len(conditions)
    return [int(child["Plan Rows"]) for child in children]


class Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>`` with the statement's bound parameters kept bound
    (``analyze=True`` runs it: for benchmarks)."""

    inherit_cache = False

    def __init__(self, statement: Select[Any] | CompoundSelect[Any], *,
                 analyze: bool = False) -> None:
        self.statement = statement
        self.analyze = analyze


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
    await use_custom_plans(session)
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
