"""Facet counts (category, brand, colour, size), the result total, its price range and
price distribution.

Semantics: OR within a facet, AND across facets, and a value's count ignores its own facet's
selection - so ticking one brand does not zero out the others. Each facet is therefore counted
over its own set of products, "everything the filter matches, minus this facet's condition";
facets with nothing selected share the match set itself.

Each such set is answered by the cheapest source that is still right:

``precomputed``  the set is broad (active products, no text, no price or attribute filter; any
                 categories and in/out of stock): the ``catalog_facet_counts`` ledger kept by
                 triggers (migration 0002, :mod:`.ledger`) - exact and never a scan of
                 ``products``. Also a set that is broad but for one attribute facet ("a
                 department, in stock, brand A or B"): the pair ledger
                 (``catalog_facet_pairs``, migration 0018, :func:`.ledger.pairs_select`), and
                 its price range by a walk of that facet's covering index per (value,
                 category) it holds (:func:`_pairs_price_select`).
``exact``        the planner expects a small set: counted with ``GROUP BY GROUPING SETS`` in the
                 same statement (all exact sets together stay under :data:`EXACT_ROW_BUDGET`
                 rows read from the table). A set filtered on brand, colour or size without
                 text is read from that facet column's covering index instead (migration
                 0014, :func:`_index_only`), exact up to :data:`INDEX_ROW_BUDGET` on its own;
                 the exact sets of a text search share one read of their rows
                 (:func:`_shared_counting_selects`).
``sampled``      a large set: counted on a sample and scaled; shown as "about N". A dense set
                 (at least :data:`SPARSE_FRACTION` of the catalog) is sampled by table pages
                 (``TABLESAMPLE SYSTEM``, fixed seed, so the numbers are stable between
                 requests); a sparse one by :data:`ID_WINDOWS` id ranges spread over the
                 catalog, which PostgreSQL intersects with the set's own index so that only
                 matches are read (a page sample of a word in 2% of a million products reads 15%
                 of the table); read through the set's (value, id) indexes, the ranges' first
                 quarters come first, and the rest only if those held too few rows for the
                 sample (:data:`PROBE_SHARE`). A value the sample misses is left out rather
                 than shown as a trap with 0. Should the sample reveal that the planner badly
                 overestimated the set, it is recounted exactly.

A text search's sets also choose how their text condition finds rows (:func:`_text_index`,
:data:`.filters.TextIndex`): through the text index, which reads every posting of every term
("lamp | lamp:* | light" is 125,000 postings at 1,000,000 products, a typed "la:*" 300,000); or
through the words before a typed prefix; or through the set's other conditions (a brand and a
category, or a sample's id ranges), the whole query then tested on each row read - whichever
the planner's estimates (one more row per set in the same EXPLAIN) make cheapest. The rows are
the same either way; the page of products follows the match set's choice.

The total follows the match set's source: exact, or for a large set an estimate shown as "about
N" - the planner's row estimate picks the sampled path, and the sample drawn for the counts then
gives the number (it agrees with the sampled facet counts; the planner is often a quarter off for
prefix and multi-word queries). The price range is the cheapest and dearest match, found by
index walks (per selected category on ``(category_id, price)``) rather than by aggregating -
except for a sampled text search, whose range comes from its sample (shown as "about"): a
walk along prices until the first match of a word only dear products carry reads most of the
index.

The price distribution (matches per :data:`PRICE_BANDS` band, shown under the price filter
and each band a link to that price range) comes with the match set's counts: one more grouping
of the same rows when the set is counted exactly or sampled; for a precomputed set, which no
branch reads, the ledger's ``band`` facet (migration 0017), exact like its other counts.

Sizes are grouped by kind (clothing, shoes, paper: :func:`size_group`) for the size facet's
headings.

Everything runs in two round trips: one EXPLAIN for all estimates, one UNION ALL for all counts.
Both statements are built once per shape (the filter's, and each set's source and sampler; see
:mod:`.filters`) and run with the request's values, sample percentages and id windows.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any, Literal, Protocol

from sqlalchemy import (
    CTE,
    BigInteger,
    Boolean,
    ColumnElement,
    Integer,
    Numeric,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    table,
    tablesample,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TextualSelect
from sqlalchemy.sql.util import ClauseAdapter

from ..data import direct
from ..data.models import Product
from .filters import (
    ATTRIBUTE_FACETS,
    EXPAND_PREFIXES,
    FACET_COLUMNS,
    FACETS,
    PREPARED_CACHE_SIZE,
    BoundFilter,
    FilterShape,
    ProductFilter,
    TextIndex,
    bind_filter,
    conditions,
    facet_condition,
    has_prefix,
    head_condition,
    where_clause,
)
from .ledger import (
    LEDGER,
    count_row,
    ledger_counts,
    ledger_select,
    ledger_values,
    pair_facet,
    pairs_branch,
    pairs_select,
)
from .ordering import SORT_KEYS, Sort
from .page_query import Total
from .sql import (
    MAX_MERGED_CATEGORIES,
    estimates_statement,
    per_category,
    plan_freely,
    run_estimates,
)
from .tree import CategoryTree

Source = Literal["precomputed", "exact", "sampled"]

#: Most rows counted exactly per request, over all facet sets together. (Each counted row is a
#: heap row of ``products`` read and grouped, about 1.5 µs of PostgreSQL CPU: 12,000 made the
#: exact sets the largest single cost of a search; issue 14 halved it.)
EXACT_ROW_BUDGET = 6_000
#: Most rows of one set counted exactly when the set is read from a facet column's covering
#: index (see :func:`_index_only`): an index entry costs a tenth of a table row, so such sets
#: are counted exactly up to here, outside :data:`EXACT_ROW_BUDGET`. (Not further: at 1,000,000
#: products grouping the 61,000 entries of one brand four ways costs 30 ms more than the scan,
#: where a sample by id ranges takes 15 ms in all - measured for issue 14.)
INDEX_ROW_BUDGET = 40_000
#: How many matching rows a sample should contain (decides the sampled percentage). A value
#: holding 5% of the matches is then seen ~75 times: its count, shown as "about", is typically
#: within 10% (measured at 1,000,000 products over the brand, colour and size values holding 2%
#: or more of the matches: median error 7-12%, the worst 18-53% for a sample the planner made
#: too small); a value under about 1 in 1,500 matches may be left out.
SAMPLE_TARGET_ROWS = 1_500
#: TABLESAMPLE's seed: the same pages every time, so counts do not jitter between requests.
SAMPLE_SEED = 20261123
#: The smallest share of the table's pages (per cent) a page sample reads: still ~100 pages at
#: 1,000,000 products. (It was 1%, which only bites past 150,000 matches: a word in 76% of a
#: million products read 10,000 rows, five times :data:`SAMPLE_TARGET_ROWS`' worth - 21 ms of
#: PostgreSQL CPU for its response against 6 now, its counts' median error 3.4% against 9.4%,
#: as for any other sample.)
MIN_PAGE_PERCENT = 0.1
#: A set below this fraction of the catalog is sampled by id ranges, not by table pages. Id
#: ranges read only the matches inside them (their index bitmap AND-ed with the ranges); pages
#: read and test every row on them, which pays only when most rows match (0.05 before issue 14
#: made a word in 6-30% of the catalog test 3-15 rows per match it found).
SPARSE_FRACTION = 0.3
#: How many id ranges an id sample spreads over (a fixed number: one SQL shape).
ID_WINDOWS = 16
#: The share of each id range an id sample reads first, its probe. Should the probe alone hold
#: :data:`SAMPLE_TARGET_ROWS` matches, the planner underestimated the set four times or more
#: and the rest of the ranges is not read: the sample stops at its target instead of counting
#: four times the rows it needs (at 1,000,000 products "lamp" in Lighting, taken by the
#: planner as independent words and department, read 7,400 rows for a 1,500-row sample).
#: A set the planner sized right reads the same rows as without a probe, in two parts.
PROBE_SHARE = 0.25

_table = Product.__table__
_c = _table.c
_KEYS: dict[str, ColumnElement[Any]] = {
    "category": _c.category_id,
    **FACET_COLUMNS,
}
_TOTAL = "_total"
_PROBE = "_probe"
_PRICE = "_price"
_PAGE = "_page"

#: Price bands of the price distribution: ``[0, 10)``, ``[10, 25)`` ... ``[1000, ∞)``. Fixed
#: for the whole catalog, so that a band is the same on every page and can be a price filter.
PRICE_BANDS = (10, 25, 50, 100, 250, 500, 1000)
_BAND = "_band"
#: The ledger's facet of price bands (migration 0017: the trigger keeps it with the same edges).
_LEDGER_BANDS = "band"
_BAND_EDGES: ColumnElement[Any] = literal_column(
    "'{" + ",".join(str(b) for b in PRICE_BANDS) + "}'::numeric[]")
_BAND_KEY = func.width_bucket(_c.price, _BAND_EDGES)


@dataclass
class FacetValue:
    value: str            # category slug, or the attribute value
    label: str
    count: int
    selected: bool
    approximate: bool = False
    depth: int = 0        # nesting level in the category tree
    group: str = ""       # a size's kind ("Clothing", "Shoes", "Paper"), see size_group()

    @property
    def disabled(self) -> bool:
        """Nothing to find by ticking it (a selected value stays usable, to untick it)."""
        return self.count == 0 and not self.selected


@dataclass
class Facet:
    name: str
    values: list[FacetValue]
    source: Source

    @property
    def approximate(self) -> bool:
        return self.source == "sampled"

    @property
    def groups(self) -> list[tuple[str, list[FacetValue]]]:
        """The values by :attr:`FacetValue.group`, in display order (one unnamed group for
        every facet but sizes)."""
        grouped: dict[str, list[FacetValue]] = {}
        for value in self.values:
            grouped.setdefault(value.group, []).append(value)
        return list(grouped.items())


@dataclass(frozen=True)
class PriceBand:
    """Matches priced from ``low`` up to (not including) ``high`` (None: no upper end)."""

    low: Decimal
    high: Decimal | None
    count: int

    @property
    def min_price(self) -> Decimal | None:
        """The band as a price filter's minimum (None: from nothing)."""
        return self.low if self.low > 0 else None

    @property
    def max_price(self) -> Decimal | None:
        """The band as a price filter's maximum (inclusive: a penny under the next band)."""
        return self.high - Decimal("0.01") if self.high is not None else None


@dataclass
class FacetResult:
    facets: dict[str, Facet]
    total: Total
    price_min: Decimal | None
    price_max: Decimal | None
    #: which source answered each set ("match" and each selected facet) - for benchmarks/tests
    sources: dict[str, Source] = field(default_factory=dict)
    #: the price range comes from a sample (a large text match set): shown as approximate
    price_approximate: bool = False
    #: the planner's size of the active catalog, when it was asked (for the page's plan)
    catalog_rows: int | None = None
    #: a text search's planner estimate of the rows carrying any of its terms - about the
    #: postings a scan of the text index reads (for the page's plan); None without one
    text_postings: int | None = None
    #: the matches' price distribution: consecutive :data:`PRICE_BANDS` from the cheapest
    #: match's band to the dearest one's (empty without matches)
    price_bands: list[PriceBand] = field(default_factory=list)
    #: the bands were counted on a sample (shown as estimates)
    bands_approximate: bool = False
    #: category id -> matches of the filter without its category condition (what the category
    #: facet is counted from, every category of the tree, not only the listed ones); None when
    #: not counted. A refinement's count is a sum of these (see :mod:`.refine`).
    category_counts: dict[int, int] | None = None
    #: the ids of the page asked for (:class:`PageWanted`), in order, when the match set's
    #: counting found them - else None (the page query finds them)
    page_ids: list[int] | None = None
    page: PageWanted | None = None


@dataclass(frozen=True)
class PageWanted:
    """A page of the match set in a sort order other than relevance: ``limit`` matches from
    ``offset`` on. An exactly counted text match set reads every match anyway, so its counting
    statement also returns the page's ids (:attr:`FacetResult.page_ids`) and the page query only
    loads their cards, instead of finding and testing the matches a second time."""

    sort: Sort
    offset: int
    limit: int


@dataclass
class _Set:
    """One set of products to count: the match set ("match") or a facet minus its own filter."""

    key: str                       # "match" or a facet name
    facets: tuple[str, ...]        # facets counted over this set
    broad: bool
    skip: frozenset[str]           # the filter minus these facets' conditions defines the set
    source: Source = "exact"
    estimate: int = 0
    percent: float = 100.0
    #: a sampled set's method: table pages (TABLESAMPLE) or id ranges (see _id_windows)
    sampler: Literal["pages", "ids"] = "pages"
    windows: list[tuple[int, int]] = field(default_factory=list)
    #: the percentage of the catalog an id sample's ranges cover (``percent`` is that of only
    #: their probes once a sample stopped there, see :data:`PROBE_SHARE`)
    full_percent: float = 100.0
    #: how its text condition finds rows (see :func:`_text_index`)
    text_index: TextIndex = "full"
    #: the planner's estimates of the set without its text condition, and with only the words
    #: before a typed prefix as its text condition (0: not asked)
    without_text: int = 0
    with_head: int = 0
    #: the planner's estimate of any of the text's terms (about the postings a "full" scan reads)
    text_rows: int = 0
    #: a precomputed set that is "broad + this attribute facet": read from the pair ledger
    pair: str | None = None

    @property
    def ledger_branch(self) -> str:
        """The ``branch`` of a precomputed set's rows (the ledger's, or its own pairs')."""
        return LEDGER if self.pair is None else pairs_branch(self.pair)

    @property
    def sql_shape(self) -> _SetShape:
        # (a sampler only shapes the SQL of a sampled set: a set recounted exactly after its
        # sample must share its statement with every other exact set)
        sampler = self.sampler if self.source == "sampled" else "pages"
        return _SetShape(self.key, self.facets, self.skip, self.source, sampler, self.text_index,
                         self.pair)


class KeptExpansions(Protocol):
    """Typed prefixes' expansions kept by the caller for the catalog it reads
    (:class:`.facet_memo.MemoForRequest`)."""

    def expansion(self, q_query: str) -> Any | None: ...

    def keep_expansion(self, q_query: str, q_match: Any) -> None: ...


@dataclass(frozen=True)
class _SetShape:
    """What of a set changes the SQL that counts it (its numbers - sample percentage, id
    windows - are parameters)."""

    key: str
    facets: tuple[str, ...]
    skip: frozenset[str]
    source: Source
    sampler: Literal["pages", "ids"]
    text_index: TextIndex = "full"
    pair: str | None = None


# -- public -------------------------------------------------------------------------------------

async def compute_facets(session: AsyncSession, filt: ProductFilter, tree: CategoryTree, *,
                         bound: BoundFilter | None = None,
                         page: PageWanted | None = None,
                         expansions: KeptExpansions | None = None) -> FacetResult:
    """Counts for every facet, the total and the price range of ``filt``'s matches (``bound``
    is ``bind_filter(filt, tree)`` if the caller has it); with ``page``, the ids of that page
    too when the match set is counted from its rows (see :class:`PageWanted`); typed prefixes
    written as the catalog's words are taken from and kept in ``expansions`` (see
    :mod:`.facet_memo`)."""
    bound = bound or bind_filter(filt, tree)
    await plan_freely(session)
    await _expand_prefixes(session, bound, expansions)
    sets = _plan_sets(filt)
    catalog_rows = await _choose_sources(session, bound, sets)
    if page is not None and (page.sort is Sort.RELEVANCE or page.limit <= 0):
        page = None
    rows = await _run(session, filt, bound, sets, page)
    _settle_probes(sets, rows)
    # A sample that finds far fewer rows than the planner promised: the estimate was wrong and
    # the set is small after all - count it exactly.
    redo = [s for s in sets
            if s.source == "sampled" and _sampled_size(rows, s) < EXACT_ROW_BUDGET / 4]
    if redo:
        for s in redo:
            s.source = "exact"
            s.percent = 100.0
            s.text_index = _text_index(bound, s)
        rows = await _run(session, filt, bound, sets, page)
        _settle_probes(sets, rows)
    result = _assemble(filt, tree, sets, rows)
    result.catalog_rows = catalog_rows
    result.text_postings = sets[0].text_rows or None
    if page is not None and _page_sort(bound.shape, sets, page) is not None:
        found = sorted((r for r in rows if r.branch == _PAGE), key=lambda r: r.lo)
        result.page_ids, result.page = [int(r.n) for r in found], page
    # The page of products finds its rows as the match set was counted.
    bound.shape = replace(bound.shape, text_index=sets[0].text_index)
    return result


async def _expand_prefixes(session: AsyncSession, bound: BoundFilter,
                           kept: KeptExpansions | None = None) -> None:
    """Match a typed prefix as the catalog's words that start with it (parameter ``q_match``,
    see :func:`.filters.tsquery`): one short statement (unless ``kept`` has the answer), then
    every statement of the request - the estimates, the counts and the page - finds the same
    rows through the text index without its partial match."""
    if bound.shape.text != "query" or bound.shape.lexemes or not has_prefix(bound.values):
        return
    q_query = bound.values["q_query"]
    q_match = kept.expansion(q_query) if kept is not None else None
    if q_match is None:
        q_match = await direct.scalar(session, EXPAND_PREFIXES, {"q_query": q_query})
        if kept is not None:
            kept.keep_expansion(q_query, q_match)
    bound.values["q_match"] = q_match
    bound.shape = replace(bound.shape, lexemes=True)


# -- planning -----------------------------------------------------------------------------------

def _plan_sets(filt: ProductFilter) -> list[_Set]:
    selected = [f for f in FACETS if filt.values(f)]
    unselected = tuple(f for f in FACETS if not filt.values(f))
    sets = [_Set("match", unselected, filt.is_broad(), frozenset())]
    for facet in selected:
        skip = frozenset({facet})
        sets.append(_Set(facet, (facet,), filt.is_broad(ignoring=skip), skip))
    for s in sets:
        if s.broad:
            s.source = "precomputed"
        else:
            s.pair = pair_facet(filt, s.skip)
            if s.pair is not None:
                s.source = "precomputed"
    return sets


async def _choose_sources(session: AsyncSession, bound: BoundFilter,
                          sets: list[_Set]) -> int | None:
    """Exact or sampled for each set that is not precomputed, from the planner's estimates
    (one EXPLAIN, which also estimates the active catalog: returned, None if not asked).

    A sampled set is sampled by table pages when it is dense (a page holds several matches) and
    by id ranges when it is sparse: page sampling reads ``percent`` of the whole table whatever
    the set, so a word matching 2% of a million products would read 15% of the table to find
    the sample's matches; id ranges combined with the set's own index read only the matches
    inside the ranges (see :func:`_id_windows`)."""
    counted = [s for s in sets if s.source != "precomputed"]
    if not counted:
        return None
    skips = tuple(s.skip for s in counted)
    extra = _text_estimates(bound)
    statement = _estimates(bound.shape, skips, extra)
    count = len(skips) * (1 + len(extra)) + bool(extra) + 1
    estimates = await run_estimates(session, statement, count, bound.values)
    catalog_rows = max(1, estimates.pop())
    text_rows = estimates.pop() if extra else 0
    if extra:
        per_set = len(extra)
        for i, s in enumerate(counted):
            found = estimates[len(skips) + i * per_set:len(skips) + (i + 1) * per_set]
            s.without_text = found[0] if "without" in extra else 0
            s.with_head = found[-1] if "head" in extra else 0
        del estimates[len(skips):]
    budget = EXACT_ROW_BUDGET
    for s, estimate in sorted(zip(counted, estimates, strict=True), key=lambda pair: pair[1]):
        s.estimate = estimate
        if estimate <= INDEX_ROW_BUDGET and _index_only(bound.shape, s.skip):
            s.source = "exact"  # read from a facet column's covering index, not the table
        elif estimate <= budget:
            s.source = "exact"
            budget -= estimate
        else:
            s.source = "sampled"
            s.percent = min(100.0, max(MIN_PAGE_PERCENT,
                                       100.0 * SAMPLE_TARGET_ROWS / max(estimate, 1)))
            if estimate < SPARSE_FRACTION * catalog_rows:
                s.sampler = "ids"
    if any(s.source == "sampled" and s.sampler == "ids" for s in counted):
        low, high = (await direct.fetch(session, _ID_RANGE))[0]
        for s in counted:
            if s.source == "sampled" and s.sampler == "ids":
                if low is None:
                    s.sampler = "pages"
                    continue
                fraction = min(1.0, SAMPLE_TARGET_ROWS / max(s.estimate, 1))
                s.windows, s.percent = _id_windows(int(low), int(high), fraction)
                s.full_percent = s.percent
    for s in counted:
        s.text_rows = text_rows
        s.text_index = _text_index(bound, s)
    return catalog_rows


#: What reading and testing one table row costs, in GIN postings read (~1.7 µs against ~0.5 µs
#: at 1,000,000 products: 12,000 rows of a sample's id ranges tested against "lamp | lamp:* |
#: light" in 20 ms, the index's 125,000 postings of it in 60-100 ms).
ROW_COST_IN_POSTINGS = 4
#: What a posting of a typed prefix's words costs, against one of the words before it, when the
#: prefix is written as words (:attr:`.filters.FilterShape.lexemes`) and the index skips through
#: their lists (1,000,000 products: "oak & (tabl | tablewar)", 52,000 + 125,000 postings, 23 ms
#: of index scan - "oak" alone 24 ms; "brass & (la | lamp | last | larg ...)", 60,000 + 700,000,
#: twice the cost of reading the rows of "brass" and testing them).
PREFIX_SKIP = 0.1
#: Most rows a set reads to test its text on them rather than through the text index (``none``
#: or ``head``, see :data:`.filters.TextIndex`).
TEXT_ON_ROWS_LIMIT = 20_000


def _text_index(bound: BoundFilter, s: _Set) -> TextIndex:
    """How the text condition of ``s`` finds its rows, from the planner's estimates: through
    the text index ("full"), unless reading the rows its other conditions find (a brand and a
    category: "none"), or the rows of the words before a typed prefix ("head"), and testing the
    whole query on each is cheaper than the index's postings.

    Rows read: the set's own share of each (``percent`` of them when sampled by id ranges); the
    full index reads every posting of the query's terms (:attr:`text_rows` of them, more with a
    prefix). Page-sampled sets read pages, not an index: "full" (the condition is a filter)."""
    if bound.shape.text != "query" or s.source == "precomputed" or (
            s.source == "sampled" and s.sampler == "pages"):
        return "full"
    share = s.percent / 100.0 if s.source == "sampled" else 1.0
    postings: float = s.text_rows
    if bound.shape.lexemes and s.with_head:
        # A typed prefix written as words (no partial match): the index walks the head's
        # postings and skips through the prefix words' lists rather than reading them whole.
        postings = min(postings, s.with_head + PREFIX_SKIP * max(0, s.text_rows - s.with_head))
    full = postings + share * s.estimate * ROW_COST_IN_POSTINGS
    choices: list[tuple[float, TextIndex]] = []
    if s.without_text and share * s.without_text <= TEXT_ON_ROWS_LIMIT:
        choices.append((share * s.without_text * ROW_COST_IN_POSTINGS, "none"))
    if s.with_head and share * s.with_head <= TEXT_ON_ROWS_LIMIT:
        # the head's own postings and its rows
        choices.append((s.with_head + share * s.with_head * ROW_COST_IN_POSTINGS, "head"))
    cost, choice = min(choices, default=(full, "full"))
    return choice if cost < full else "full"


def _index_only(shape: FilterShape, skip: frozenset[str]) -> bool:
    """Whether a set can be counted from a facet column's covering index alone (migration
    0014): active products, no text, and an attribute facet in its condition to lead the
    index - every other column a count reads (the other facets, category, price, stock) is
    carried in it."""
    return (shape.active == "only" and not shape.text
            and any(getattr(shape, f) == "any" and f not in skip for f in ATTRIBUTE_FACETS))


def _text_estimates(bound: BoundFilter) -> tuple[str, ...]:
    """Which other ways of finding a text search's rows are estimated per set: "without" its
    text (the rows of its other conditions: a brand and a category, or with none the active
    catalog - a sample's id ranges then find the rows) and "head" (the words before a typed
    prefix, when there are such words)."""
    shape = bound.shape
    if shape.text != "query":
        return ()
    extra = ["without"]
    if "q_head" in bound.values:
        extra.append("head")
    return tuple(extra)


@lru_cache(maxsize=PREPARED_CACHE_SIZE)
def _estimates(shape: FilterShape, skips: tuple[frozenset[str], ...],
               extra: tuple[str, ...] = ()) -> direct.Prepared:
    """:func:`_estimates_statement`, prepared (kept as its plan)."""
    return direct.Prepared(partial(_estimates_statement, shape, skips, extra))


def _estimates_statement(shape: FilterShape, skips: tuple[frozenset[str], ...],
                         extra: tuple[str, ...] = ()) -> Any:
    """The EXPLAIN estimating each set (the filter minus each ``skip``); with ``extra`` (see
    :func:`_text_estimates`) then each set without its text and/or with the head words as its
    text, and any of the text's terms (about the postings a text index scan reads); last the
    active catalog."""
    clauses = [where_clause(shape, skip, _index_only(shape, skip)) for skip in skips]
    for skip in skips:
        if "without" in extra:
            clauses.append(where_clause(shape, skip | {"text"}))
        if "head" in extra:
            clauses.append(and_(where_clause(shape, skip | {"text"}), head_condition()))
    if extra:
        clauses.append(head_condition("q_any"))
    return estimates_statement([*clauses, _c.is_active])


_ID_RANGE = select(func.min(_c.id), func.max(_c.id))


def _id_windows(low: int, high: int, fraction: float) -> tuple[list[tuple[int, int]], float]:
    """:data:`ID_WINDOWS` id ranges spread evenly over ``low..high`` covering about
    ``fraction`` of it, and the percentage they actually cover.

    A stratified sample over the primary key: ids follow the order products were added, so
    evenly spread ranges sample old and new products alike. The ranges are AND-ed with the
    set's condition, so PostgreSQL intersects a primary-key bitmap with the set's own index
    bitmap (text or attributes) and reads only the matches inside the ranges."""
    span = high - low + 1
    step = span / ID_WINDOWS
    width = max(1, math.ceil(step * fraction))
    windows = []
    for i in range(ID_WINDOWS):
        start = low + math.floor(i * step)
        end = low + math.floor((i + 1) * step) - 1 if i < ID_WINDOWS - 1 else high
        windows.append((start, min(end, start + width - 1)))
    covered = sum(max(0, end - start + 1) for start, end in windows)
    return windows, 100.0 * covered / span


def _probe_end(start: int, end: int) -> int:
    """The last id of the probe of the id range ``start..end`` (its first
    :data:`PROBE_SHARE`, at least one id)."""
    return start + max(1, math.ceil((end - start + 1) * PROBE_SHARE)) - 1


def _probe_share(windows: list[tuple[int, int]]) -> float:
    """The share of the ids in ``windows`` that their probes cover."""
    covered = sum(end - start + 1 for start, end in windows)
    probed = sum(min(end, _probe_end(start, end)) - start + 1 for start, end in windows)
    return probed / covered if covered else 1.0


def _settle_probes(sets: list[_Set], rows: list[Any]) -> None:
    """Each id sample's share of the catalog, from its probe row: only the probes' if they held
    :data:`SAMPLE_TARGET_ROWS` matches (the statement read no further), else the full ranges'."""
    for s in sets:
        if s.source == "sampled" and s.sampler == "ids":
            probed = sum(r.n for r in rows if r.branch == s.key and r.facet == _PROBE)
            s.percent = s.full_percent * (_probe_share(s.windows)
                                          if probed >= SAMPLE_TARGET_ROWS else 1.0)


# -- the statement ------------------------------------------------------------------------------

def _counting_selects(shape: FilterShape, s: _SetShape) -> tuple[list[CTE], list[Any]]:
    """GROUP BY GROUPING SETS over ``s``: one group per facet value (+ the total row); for an
    id sample also its probe row (see :func:`_probed_sample`). Parameters: the filter's, and a
    sample's (``pct_<set>``, or ``win_<set>_<i>_lo/mid/next/hi`` and ``enough_<set>``).

    The set's rows (its keys as ``k_<i>``, and the price) are a CTE, ``rows_<set>``, to be
    attached to the whole statement; the grouping over them is text made once per set and
    facets (:func:`_grouped_over_set`). PostgreSQL inlines a CTE read once, so the plan is the
    one of the grouping written over the rows' own SELECT."""
    source: Any = _table
    shape = replace(shape, text_index=s.text_index)
    condition = where_clause(shape, s.skip,
                             True if s.source == "exact" and _index_only(shape, s.skip) else None)
    keys = {f: _KEYS[f] for f in s.facets}
    if s.key == "match":  # the matches' price distribution, in the same pass
        keys[_BAND] = _BAND_KEY
    price = _c.price
    two_step = s.source != "sampled" or len(keys) == 1
    if s.source == "sampled" and s.sampler == "ids" and _probed(shape, s):
        # Rows found through the other conditions' indexes within the id ranges: the
        # category and the attribute filters on their columns, whose (value, id) indexes
        # (migration 0016) turn each id range into one short index range per value - not a
        # bitmap of the whole department (100,000 entries at 1,000,000 products) or brand
        # (63,000, or 125,000 for two brands) AND-ed with the ranges.
        rows, probe_row = _probed_sample(s.key, keys, price,
                                         where_clause(shape, s.skip, True))
        return [rows], [_grouped_over_set(s.key, tuple(keys), two_step), probe_row]
    if s.source == "sampled" and s.sampler == "ids":
        condition = and_(condition, _id_ranges(s.key, "lo", "hi"))
    elif s.source == "sampled":
        sample = tablesample(_table, func.system(bindparam(f"pct_{s.key}", type_=Numeric)),
                             name="sampled", seed=literal(SAMPLE_SEED, Integer))
        adapter = ClauseAdapter(sample)
        source = sample
        condition = adapter.traverse(condition)
        keys = {f: adapter.traverse(k) for f, k in keys.items()}
        price = adapter.traverse(price)
    rows = select(*_key_columns(keys, price)).select_from(source).where(condition) \
        .cte(f"rows_{s.key}")
    return [rows], [_grouped_over_set(s.key, tuple(keys), two_step)]


def _key_columns(keys: dict[str, ColumnElement[Any]],
                 price: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """A set's rows as its counts read them: its keys as ``k_<i>``, and ``price``."""
    return [*(k.label(f"k_{i}") for i, k in enumerate(keys.values())), price.label("price")]


@lru_cache(maxsize=64)
def _grouped_over_set(key: str, facets: tuple[str, ...], two_step: bool) -> TextualSelect:
    """Set ``key``'s :func:`_grouped` branch over its rows ``rows_<key>`` (by name; columns
    ``k_<i>`` per facet, and ``price``), as SQL text with its constants written in - the same
    for every filter shape that counts this set's facets (see :func:`_grouped_over_rows`)."""
    rows = table(f"rows_{key}", *(column(f"k_{i}") for i in range(len(facets))),
                 column("price", Numeric))
    keys: dict[str, ColumnElement[Any]] = {f: rows.c[f"k_{i}"] for i, f in enumerate(facets)}
    return _as_text(_grouped(key, keys, rows.c.price, rows, true(), two_step))


def _probed_sample(key: str, keys: dict[str, ColumnElement[Any]], price: ColumnElement[Any],
                   condition: ColumnElement[bool]) -> tuple[CTE, Select[Any]]:
    """The rows of an id sample (``keys`` as ``k_<i>``, and ``price``: the CTE ``rows_<key>``),
    read in two parts: the probes (the first :data:`PROBE_SHARE` of each id range), then the
    rest of the ranges only while the probes hold fewer than ``enough_<key>`` rows - a
    condition on no row, which PostgreSQL checks once before it reads any. Also the row
    telling how many rows the probes held (facet ``_probe``), from which
    :func:`_settle_probes` knows the share read."""
    columns = _key_columns(keys, price)
    probe = select(*columns).where(condition, _id_ranges(key, "lo", "mid")).cte(f"probe_{key}")
    probed = select(func.count()).select_from(probe).scalar_subquery()
    rest = select(*columns).where(condition, _id_ranges(key, "next", "hi"),
                                  probed < bindparam(f"enough_{key}", type_=Integer))
    rows = union_all(select(probe), rest).cte(f"rows_{key}")
    probe_row = select(*count_row(key, _PROBE, None, None, probed))
    return rows, probe_row


def _probed(shape: FilterShape, s: _SetShape) -> bool:
    """Whether an id sample reads its ranges in two parts (:func:`_probed_sample`): when its
    rows are found through (value, id) indexes, which read only the entries inside the ranges
    however they are cut. Not through the text index: each part would read all the postings of
    the text's terms again (at 1,000,000 products, 14 ms for "oak & table")."""
    return s.text_index == "none" or shape.text != "query"


def _id_ranges(key: str, first: str, last: str) -> ColumnElement[bool]:
    """``id`` in any of the :data:`ID_WINDOWS` ranges of set ``key``, from parameter
    ``win_<key>_<i>_<first>`` to ``win_<key>_<i>_<last>`` (see :func:`_sample_values`)."""
    return or_(*(_c.id.between(bindparam(f"win_{key}_{i}_{first}", type_=Integer),
                               bindparam(f"win_{key}_{i}_{last}", type_=Integer))
                 for i in range(ID_WINDOWS)))


def _grouped(branch: str, keys: dict[str, ColumnElement[Any]], price: ColumnElement[Any],
             source: Any, condition: ColumnElement[bool], two_step: bool = True) -> Select[Any]:
    """One count row per value of each key, and the total row (count, cheapest, dearest), of
    the rows of ``source`` meeting ``condition``.

    ``two_step``: the rows grouped by all the keys at once (counting and taking the cheapest
    and dearest once per row), then those groups by each key. In one step PostgreSQL computes
    every aggregate once per row *per grouping set* - the cheapest and dearest (numeric
    comparisons) were a third of the statement's CPU for 19,000 rows counted five ways at
    1,000,000 products (17.5 ms of CPU in one step, 13.8 in two; 69,000 rows four ways 65 and
    51; one key 24 and 20). It pays when there are several rows per combination of the keys: a
    whole set, or one key; not a sample of a few thousand rows grouped five ways, whose
    combinations are nearly all distinct (3,600 rows: 10.7 ms in one step, 14.3 in two)."""
    n: Any = func.count()
    lo: Any = func.min(price)
    hi: Any = func.max(price)
    if keys and two_step:
        inner = (select(*(k.label(f"k_{i}") for i, k in enumerate(keys.values())),
                        n.label("n"), lo.label("lo"), hi.label("hi"))
                 .select_from(source).where(condition)
                 .group_by(*(literal_column(str(i + 1)) for i in range(len(keys))))
                 .subquery(f"groups_{branch}"))
        keys = {f: inner.c[f"k_{i}"] for i, f in enumerate(keys)}
        n, lo, hi = (func.coalesce(func.sum(inner.c.n), 0), func.min(inner.c.lo),
                     func.max(inner.c.hi))
        source, condition = inner, true()
    groups = [*((k,) for k in keys.values()), ()]
    facet_label = case(
        *((func.grouping(k) == 0, literal(f, Text)) for f, k in keys.items()),
        else_=literal(_TOTAL, Text),
    ) if keys else literal(_TOTAL, Text)
    value = case(
        *((func.grouping(k) == 0, cast(k, Text)) for f, k in keys.items() if f != "category"),
        else_=cast(null(), Text),
    ) if any(f != "category" for f in keys) else cast(null(), Text)
    category = keys.get("category")
    category_value = case((func.grouping(category) == 0, category), else_=null()) \
        if category is not None else None
    statement = select(*count_row(branch, facet_label, value, category_value, n, lo, hi))
    statement = statement.select_from(source).where(condition)
    return statement.group_by(func.grouping_sets(*(tuple_(*g) for g in groups)))


def _shared_counting_selects(shape: FilterShape, sets: tuple[_SetShape, ...],
                             page_sort: Sort | None = None) -> tuple[CTE, list[Any]]:
    """The exact sets of a text search with facets ticked, counted from one read of the rows.

    Each facet's set is the match set without that facet's own condition, so the sets overlap
    (the match set lies inside every one of them) and counting each on its own reads the
    shared rows once per set - through the text index and the table, the costly part. Here the
    rows of their union are read once into a CTE (referenced by every branch, so PostgreSQL
    materialises it) with a flag per set, and each set's GROUPING SETS branch - the same rows
    as :func:`_counting_selects` gives - counts its flagged rows from it.

    The CTE comes back beside the branches, to be attached to the whole statement: the
    branches name it rather than refer to it (see :func:`_grouped_over_rows`)."""
    selected = [f for f in FACETS if getattr(shape, f)]
    # Their rows are found one way: the sets' own if they agree, else through the text index.
    modes = {s.text_index for s in sets}
    shape = replace(shape, text_index=modes.pop() if len(modes) == 1 else "full")

    def own(s: _SetShape) -> ColumnElement[bool]:
        """What a set adds to the base: every selected facet's condition but its own."""
        kept = [facet_condition(shape, f) for f in selected if f not in s.skip]
        return and_(*kept) if kept else true()

    base = where_clause(shape, selected)
    # With a page to return (the match set's, see PageWanted): each row's id and sort keys too.
    ordering = [name for name, _ in SORT_KEYS[page_sort] if name not in ("id", "price")] \
        if page_sort is not None else []
    rows = select(_c.category_id, *(c.label(f"facet_{f}") for f, c in FACET_COLUMNS.items()),
                  _c.price, *(own(s).label(f"in_{s.key}") for s in sets),
                  *([_c.id] if page_sort is not None else []), *(_c[n] for n in ordering)) \
        .where(base, or_(*(own(s) for s in sets))).cte(_COUNTED_ROWS)
    out: list[Any] = [_grouped_over_rows(s.key, s.facets) for s in sets]
    if page_sort is not None:
        order = [rows.c[name].desc() if descending else rows.c[name].asc()
                 for name, descending in SORT_KEYS[page_sort]]
        page = (select(rows.c.id).where(rows.c.in_match).order_by(*order)
                .limit(bindparam("counted_page_limit", type_=Integer))
                .offset(bindparam("counted_page_offset", type_=Integer)).subquery("counted_page"))
        # (the ids in the page's order: the position travels as ``lo``)
        out.append(select(*count_row(_PAGE, None, None, None, page.c.id,
                                     func.row_number().over())).select_from(page))
    return rows, out


#: The name of the rows :func:`_shared_counting_selects` reads once for all its sets.
_COUNTED_ROWS = "counted_rows"
#: The columns of every branch of the counting statement (what :func:`.ledger.count_row` makes).
_COUNT_COLUMNS = (("branch", Text), ("facet", Text), ("value", Text), ("category_id", Integer),
                  ("n", BigInteger), ("lo", Numeric), ("hi", Numeric))


@lru_cache(maxsize=64)
def _grouped_over_rows(key: str, facets: tuple[str, ...]) -> TextualSelect:
    """Set ``key``'s :func:`_grouped` branch over the shared rows (:data:`_COUNTED_ROWS`, by
    name), as SQL text with its constants written in: the same for every filter shape whose
    set counts these facets.

    The counting statement is built and compiled once per filter shape, and wandering shoppers
    keep meeting new shapes (``python -m bench.shopper_replay``: 638 statements in 3,000
    requests). Its GROUPING SETS branches were most of that work - ~2.5 ms of building and as
    much compiling per statement - while they differ only by set and facets (a handful of
    combinations): here each is made once per worker, and a statement compiles its rows' CTE,
    and pastes these in."""
    rows = table(_COUNTED_ROWS, column("category_id", Integer),
                 *(column(f"facet_{f}", Text) for f in FACET_COLUMNS),
                 column("price", Numeric), column(f"in_{key}", Boolean))
    keys: dict[str, ColumnElement[Any]] = {
        f: rows.c.category_id if f == "category" else rows.c[f"facet_{f}"] for f in facets}
    if key == "match":  # the matches' price distribution, in the same pass
        keys[_BAND] = func.width_bucket(rows.c.price, _BAND_EDGES)
    return _as_text(_grouped(key, keys, rows.c.price, rows, rows.c[f"in_{key}"]))


def _as_text(branch: Select[Any]) -> TextualSelect:
    """A counting branch compiled once, its constants written in, as SQL text to paste into
    any statement (its columns: :data:`_COUNT_COLUMNS`)."""
    sql = str(branch.compile(dialect=postgresql.dialect(),
                             compile_kwargs={"literal_binds": True}))
    # (escaped: text() would take a ``:word`` for a parameter; the constants hold none)
    return text(sql.replace(":", "\\:")).columns(
        *(column(name, type_) for name, type_ in _COUNT_COLUMNS))


def _sample_values(s: _Set) -> dict[str, Any]:
    """The parameters of a sampled set's :func:`_counting_selects`."""
    if s.source != "sampled":
        return {}
    if s.sampler == "pages":
        return {f"pct_{s.key}": s.percent}
    values: dict[str, Any] = {f"enough_{s.key}": math.ceil(SAMPLE_TARGET_ROWS)}
    for i, (start, end) in enumerate(s.windows):
        middle = min(end, _probe_end(start, end))
        values.update({f"win_{s.key}_{i}_lo": start, f"win_{s.key}_{i}_mid": middle,
                       f"win_{s.key}_{i}_next": middle + 1, f"win_{s.key}_{i}_hi": end})
    return values


def _price_by_category(filt: ProductFilter, bound: BoundFilter) -> bool:
    """Whether the price range is found per selected category (see :func:`_price_select`)."""
    ids = bound.category_ids
    if not ids:
        return False
    return len(ids) <= MAX_MERGED_CATEGORIES and filt.active_only


def _price_select(shape: FilterShape, skip: frozenset[str], by_category: bool) -> Select[Any]:
    """Cheapest and dearest match without aggregating the (large) set: an index walk from each
    end - per category when categories are selected (prices cluster by department, see
    ``ix_products_active_category_price``; parameter ``category_list``), else along
    ``(is_active, price)``."""
    if by_category:
        others = conditions(shape, frozenset({"category"}))

        def end(descending: bool) -> ColumnElement[Any]:
            selected = per_category("category_list")
            order = (_c.price.desc(), _c.id.desc()) if descending else (_c.price, _c.id)
            branch = select(_c.price).where(*others, _c.category_id == selected.c.category_id) \
                .order_by(*order).limit(1).lateral("branch")
            extreme = func.max if descending else func.min
            return select(extreme(branch.c.price)).select_from(selected) \
                .join(branch, true()).scalar_subquery()

        lo, hi = end(False), end(True)
    else:
        condition = where_clause(shape, skip)
        lo = select(func.min(_c.price)).where(condition).scalar_subquery()
        hi = select(func.max(_c.price)).where(condition).scalar_subquery()
    return select(*count_row(_PRICE, None, None, None, None, lo, hi))


def _pairs_price_select(shape: FilterShape, by: str) -> Select[Any]:
    """Cheapest and dearest match of a set "broad + values of ``by``" (a pair ledger set):
    one walk of ``by``'s covering index (keyed by value, category and price, migration 0015)
    from each end per (value, category) the pair ledger holds products for. Walking the price
    index instead and testing each row meets every cheaper product of other departments first:
    "size=M" at 1,000,000 products passed 30,000 rows (64 + 36 ms) before its first match."""
    stock = [literal_column("in_stock").is_(shape.stock == "in")] if shape.stock else []
    in_categories = ([literal_column("category_id") == any_(
        bindparam("category_list", type_=ARRAY(Integer)))] if shape.category else [])
    keys = select(literal_column("by_value").label("value"),
                  literal_column("category_id").label("category_id")) \
        .select_from(text("catalog_facet_pairs")) \
        .where(literal_column("by_facet") == literal(by, Text),
               literal_column("by_value") == any_(bindparam(f"{by}_values", type_=ARRAY(Text))),
               literal_column("facet") == literal("category", Text), *stock, *in_categories) \
        .group_by(literal_column("by_value"), literal_column("category_id")) \
        .having(func.sum(literal_column("n")) > 0).subquery("pair_keys")
    others = conditions(shape, frozenset({"category", by}), columns=True)

    def end(descending: bool) -> ColumnElement[Any]:
        order = _c.price.desc() if descending else _c.price
        branch = select(_c.price).where(
            *others, FACET_COLUMNS[by] == keys.c.value, _c.category_id == keys.c.category_id
        ).order_by(order).limit(1).lateral("branch")
        extreme = func.max if descending else func.min
        return select(extreme(branch.c.price)).select_from(keys) \
            .join(branch, true()).scalar_subquery()

    return select(*count_row(_PRICE, None, None, None, None, end(False), end(True)))


@lru_cache(maxsize=PREPARED_CACHE_SIZE)
def _counts_statement(shape: FilterShape, sets: tuple[_SetShape, ...], price: str | None,
                      page_sort: Sort | None = None) -> direct.Prepared:
    """:func:`_build_counts_statement`, prepared (kept as its plan)."""
    return direct.Prepared(partial(_build_counts_statement, shape, sets, price, page_sort))


def _build_counts_statement(shape: FilterShape, sets: tuple[_SetShape, ...],
                            price: str | None, page_sort: Sort | None = None) -> Any:
    """Every count of one request in one UNION ALL: the ledger (for precomputed sets), a
    GROUPING SETS branch per counted set, the price range (``price``: "category", "match" or
    "pairs", see :func:`_price_select` and :func:`_pairs_price_select`),
    the price distribution of a precomputed match set, and (``page_sort``) the ids of a page
    of the exactly counted match set in that order."""
    branches: list[Any] = []
    if any(s.source == "precomputed" and s.pair is None for s in sets):
        branches.append(ledger_select(shape))
    # One branch per pair facet: the match set and the category facet's own set, both "broad +
    # these brands", read the same rows (categories over all, other facets over the selected).
    pairs = dict.fromkeys(s.pair for s in sets if s.pair is not None)
    branches += [pairs_select(shape, pair) for pair in pairs]
    shared = [s for s in sets if s.source == "exact"] if shape.text == "query" else []
    ctes: list[CTE] = []
    if len(shared) < 2 and page_sort is None:
        shared = []
    else:
        rows, selects = _shared_counting_selects(shape, tuple(shared), page_sort)
        ctes.append(rows)
        branches += selects
    for s in sets:
        if s.source != "precomputed" and s not in shared:
            rows_of_set, selects = _counting_selects(shape, s)
            ctes += rows_of_set
            branches += selects
    if price == "pairs":
        assert sets[0].pair is not None
        branches.append(_pairs_price_select(shape, sets[0].pair))
    elif price is not None:
        branches.append(_price_select(shape, sets[0].skip, by_category=price == "category"))
    # A UNION's first member must be a SELECT that SQLAlchemy built (it takes the columns from
    # it): the branches written as text (:func:`_grouped_over_rows`, :func:`_grouped_over_set`)
    # go after the others.
    branches.sort(key=lambda branch: isinstance(branch, TextualSelect))
    if isinstance(branches[0], TextualSelect):
        first = branches[0].subquery("first_branch")
        branches[0] = select(*first.c)
    statement = branches[0] if len(branches) == 1 else branches[0].union_all(*branches[1:])
    return statement.add_cte(*ctes) if ctes else statement


def _page_sort(shape: FilterShape, sets: list[_Set], page: PageWanted | None) -> Sort | None:
    """The sort of the page the counting statement also returns: only for an exactly counted
    match set of a text search (read from its rows, not from a covering index)."""
    if page is None or shape.text != "query" or sets[0].source != "exact":
        return None
    return page.sort


async def _run(session: AsyncSession, filt: ProductFilter, bound: BoundFilter,
               sets: list[_Set], page: PageWanted | None = None) -> list[Any]:
    match = sets[0]
    price = None
    if match.pair is not None:
        price = "pairs"
    elif match.source != "exact" and not _price_from_sample(filt, match):
        price = "category" if _price_by_category(filt, bound) else "match"
    values = {**bound.values, **ledger_values(bound)}
    for s in sets:
        values.update(_sample_values(s))
    page_sort = _page_sort(bound.shape, sets, page)
    if page_sort is not None:
        assert page is not None
        values.update(counted_page_limit=page.limit, counted_page_offset=page.offset)
    statement = _counts_statement(bound.shape, tuple(s.sql_shape for s in sets), price,
                                  page_sort)
    return await direct.fetch(session, statement, values)


def _price_from_sample(filt: ProductFilter, match: _Set) -> bool:
    """A large text match set takes its price range from its sample: the exact cheapest and
    dearest match would need every match read (aggregating) or a walk along the price index
    until the first match - for a word that only dear products carry, most of the index."""
    return match.source == "sampled" and filt.has_text


def _sampled_size(rows: list[Any], s: _Set) -> float:
    """Rows the sample of ``s`` found, scaled up to the whole table."""
    found = sum(r.n for r in rows if r.branch == s.key and r.facet == _TOTAL)
    return found * 100.0 / s.percent


# -- assembling ---------------------------------------------------------------------------------

def _assemble(filt: ProductFilter, tree: CategoryTree, sets: list[_Set],
              rows: list[Any]) -> FacetResult:
    # The rows grouped once by branch and by (branch, facet): each facet's counts then read
    # only their own rows (not every row of the statement once per facet).
    by_branch: dict[str, list[Any]] = defaultdict(list)
    by_facet: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for r in rows:
        branch, facet_name = r[0], r[1]
        by_branch[branch].append(r)
        by_facet[branch, facet_name].append(r)
    selected_ids = tree.expand(filt.categories) if filt.categories else None

    facets: dict[str, Facet] = {}
    total = Total(0)
    price_min = price_max = None
    price_approximate = False
    category_counts: dict[int, int] | None = None
    for s in sets:
        for facet in s.facets:
            if s.source == "precomputed":
                counts = ledger_counts(by_facet[s.ledger_branch, facet], facet)
            else:
                counts = _counted(by_facet[s.key, facet], facet, s)
            facets[facet] = _facet(filt, tree, facet, counts, s.source)
            if facet == "category":
                category_counts = counts
        if s.key != "match":
            continue
        if s.source == "precomputed":
            per_category = ledger_counts(by_facet[s.ledger_branch, "category"], "category")
            total = Total(sum(n for category_id, n in per_category.items()
                              if selected_ids is None or category_id in selected_ids))
        elif s.source == "exact":
            total_row = next((r for r in by_branch["match"] if r.facet == _TOTAL), None)
            total = Total(int(total_row.n) if total_row else 0)
            if total_row is not None:
                price_min, price_max = total_row.lo, total_row.hi
        else:
            # Large: the planner's estimate chose this path; the page sample drawn for the
            # counts estimates the same number better (and agrees with the facet counts).
            sampled = _sampled_size(rows, s)
            total = Total(round(sampled) if sampled else s.estimate, exact=False)
        if _price_from_sample(filt, s):
            total_row = next((r for r in by_branch["match"] if r.facet == _TOTAL), None)
            if total_row is not None:
                price_min, price_max = total_row.lo, total_row.hi
            price_approximate = True
        elif s.source != "exact":
            price_row = next((r for r in by_branch[_PRICE]), None)
            if price_row is not None:
                price_min, price_max = price_row.lo, price_row.hi
    bands, bands_approximate = _band_counts(sets[0], by_branch,
                                            by_facet[sets[0].ledger_branch, _LEDGER_BANDS])
    return FacetResult(
        facets={f: facets[f] for f in FACETS},
        total=total,
        price_min=price_min,
        price_max=price_max,
        sources={s.key: s.source for s in sets},
        price_approximate=price_approximate,
        price_bands=_price_bands(bands),
        bands_approximate=bands_approximate,
        category_counts=category_counts,
    )


def _band_counts(match: _Set, by_branch: dict[str, list[Any]],
                 ledger: list[Any]) -> tuple[dict[int, int], bool]:
    """Band index -> matches, and whether it is an estimate: from the match set's own
    counting (exact, or its sample scaled) or, for a precomputed set, from the ledger's
    ``band`` facet (exact, migration 0017)."""
    if match.source != "precomputed":
        rows = [r for r in by_branch["match"] if r.facet == _BAND]
        scale = 100.0 / match.percent if match.source == "sampled" else 1.0
        return ({int(r.value): _scaled(int(r.n), scale) for r in rows},
                match.source == "sampled")
    return {int(value): n for value, n in ledger_counts(ledger, _LEDGER_BANDS).items()}, False


def _price_bands(counts: dict[int, int]) -> list[PriceBand]:
    """Consecutive bands from the first with matches to the last (empty ones between kept:
    a gap is part of the shape)."""
    present = [i for i, n in counts.items() if n > 0]
    if not present:
        return []
    edges = [Decimal(0), *(Decimal(b) for b in PRICE_BANDS)]
    return [PriceBand(edges[i], edges[i + 1] if i + 1 < len(edges) else None, counts.get(i, 0))
            for i in range(min(present), max(present) + 1)]


def _counted(rows: list[Any], facet: str, s: _Set) -> dict[Any, int]:
    """Value (or category id) -> count, from the count rows of ``facet`` (columns of
    :func:`.ledger.count_row`: branch, facet, value, category_id, n, lo, hi)."""
    counts: dict[Any, int] = {}
    key_column = 3 if facet == "category" else 2
    scale = 100.0 / s.percent if s.source == "sampled" else 1.0
    for r in rows:
        if r[1] != facet:
            continue
        key = r[key_column]
        if key is None or key == "":
            continue
        counts[key] = _scaled(int(r[4]), scale)
    return counts


def _scaled(n: int, scale: float) -> int:
    if scale == 1.0 or n == 0:
        return n
    return max(1, round_significant(n * scale))


def round_significant(value: float, digits: int = 2) -> int:
    """1234 -> 1200, 87 -> 87, 12.4 -> 12: how precise an estimate deserves to look."""
    if value <= 0:
        return 0
    magnitude = 10 ** max(0, math.floor(math.log10(value)) - digits + 1)
    return int(round(value / magnitude) * magnitude)


def _facet(filt: ProductFilter, tree: CategoryTree, facet: str, counts: dict[Any, int],
           source: Source) -> Facet:
    approximate = source == "sampled"
    if facet == "category":
        return Facet(facet, _category_values(filt, tree, counts, approximate), source)
    selected = filt.values(facet)
    values = {value for value, n in counts.items() if n > 0} | set(selected)
    ordered = sorted(values, key=_size_key if facet == "size" else _label_key)
    return Facet(facet, [
        FacetValue(value, value, counts.get(value, 0), value in selected, approximate,
                   group=size_group(value) if facet == "size" else "")
        for value in ordered
    ], source)


def _category_values(filt: ProductFilter, tree: CategoryTree, counts: dict[Any, int],
                     approximate: bool) -> list[FacetValue]:
    selected = set(filt.categories)
    out: list[FacetValue] = []

    def total(node: Any) -> int:
        return sum(counts.get(i, 0) for i in tree.descendant_ids(node))

    def has_selection(node: Any) -> bool:
        return any(tree.nodes[i].slug in selected for i in tree.descendant_ids(node))

    def walk(nodes: Iterable[Any], depth: int, seen: set[int]) -> None:
        for node in nodes:
            if node.id in seen:
                continue
            n = total(node)
            if n == 0 and not has_selection(node):
                continue
            if approximate and n:
                n = round_significant(n)
            out.append(FacetValue(node.slug, node.name, n, node.slug in selected, approximate,
                                  depth))
            if has_selection(node):  # drill down: sub-categories of what is selected
                walk(node.children, depth + 1, seen | {node.id})

    walk(tree.roots, 0, set())
    return out


def _label_key(value: str) -> tuple[str, str]:
    return (value.casefold(), value)


_SIZE_ORDER = {s: i for i, s in enumerate(("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL"))}
_PAPER = re.compile(r"^A(\d+)$")


#: What a size's kind is called, by the first element of its :func:`_size_key`.
SIZE_GROUPS = ("Clothing", "Shoes", "Paper", "Other")


def size_group(value: str) -> str:
    """The kind of a size, told by its pattern: XS-XL clothing, a number a shoe (EU sizes),
    A4-A6 paper; anything else "Other". Shown as headings in the size facet."""
    return SIZE_GROUPS[_size_key(value)[0]]


def _size_key(value: str) -> tuple[int, float, str]:
    """Clothing sizes in wearing order, then numbers ascending, paper sizes small to large."""
    upper = value.upper()
    if upper in _SIZE_ORDER:
        return (0, _SIZE_ORDER[upper], value)
    try:
        return (1, float(value), value)
    except ValueError:
        pass
    paper = _PAPER.match(upper)
    if paper:
        return (2, -int(paper.group(1)), value)
    return (3, 0.0, value.casefold())


