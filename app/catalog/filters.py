"""What a :class:`ProductFilter` means in SQL, split into its *shape* and its *values*.

A filter's WHERE clauses depend on which filters are set (text or not, one category or several,
a price floor or not) far more than on their values ("lamp" or "oak", 20 or 60). Building
SQLAlchemy statements and their cache keys costs more Python per search than running them, so
the SQL is built from a :class:`FilterShape` alone, with named bind parameters, and kept: one
LRU entry per shape and left-out facets (:func:`conditions`). A request only computes its values
(:func:`bind_filter`, plain Python) and passes them at execution. The statements built on top
(facet counts, the page of products, highlighting) are cached the same way, keyed by the shape
and their own structural choices, never by values.

The parameters of a filter (the keys of :attr:`BoundFilter.values`)::

    q_query                        the typed words as ``to_tsquery`` text, with their synonyms
                                   and the last word also as a prefix (see text_query)
    q_intent                       ids of the categories the words name (relevance, see rank)
    q_head, q_any                  the words before a typed prefix; any of the terms (for the
                                   facet counts' choice of how to find rows, see TextIndex)
    q_match                        q_query as a tsquery with its typed prefix written as the
                                   catalog's words (set by the facet counts, see tsquery)
    category | categories          one category id | several (a department and its children)
    brands, colours, sizes         the ticked values as {"brand": value} JSONB objects (one
                                   array parameter, whether one value is ticked or ten)
    brand_values, colour_values, size_values
                                   the same as text, for the facet columns (migration 0014)
    min_price, max_price

Every value is a bound parameter; user text never becomes SQL.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSQUERY
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from ..data.models import Product
from .tree import CategoryTree

__all__ = [
    "ATTRIBUTE_FACETS", "EXPAND_PREFIXES", "FACETS", "FACET_COLUMNS", "PREPARED_CACHE_SIZE",
    "SHAPE_CACHE_SIZE",
    "BoundFilter", "FilterShape", "Match", "ProductFilter", "TextIndex", "bind_filter",
    "bind_text", "conditions", "facet_condition",
    "filter_conditions", "has_prefix", "head_condition", "head_query", "rank", "split_prefix",
    "synonym_key", "text_query", "tsquery",
    "where", "where_clause", "with_values",
]

#: The multi-select facets, in display order; each is OR within, AND across.
FACETS = ("category", "brand", "colour", "size")
#: Facet name -> key in ``products.attributes``.
ATTRIBUTE_FACETS = {"brand": "brand", "colour": "colour", "size": "size"}
#: Built statements kept per kind (conditions, ORM pages...): one per shape in use.
SHAPE_CACHE_SIZE = 128
#: Prepared statements (:class:`app.data.direct.Prepared`: SQL and parameter order, no tree)
#: kept per kind - facet counts, estimates, card pages. The load test's wandering shoppers
#: meet about a thousand count shapes in 5,000 searches (``python -m bench.shopper_replay``),
#: but most of them once: keeping 512 instead of 1,024 the counts hit 89% instead of 90% and
#: the worker holds 9 MB less after 5,000 searches (143 against 152 MB).
PREPARED_CACHE_SIZE = 512

StockFilter = Literal["in", "out"] | None

_c = Product.__table__.c
#: Facet name -> its generated column (``attributes ->> 'brand'``..., migration 0014).
FACET_COLUMNS: dict[str, ColumnElement[Any]] = {
    "brand": _c.facet_brand, "colour": _c.facet_colour, "size": _c.facet_size}
#: ``replacement_traverse`` options: none.
_NO_OPTIONS: dict[str, Any] = {}


# -- the filter ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProductFilter:
    """What to match; every field optional. Values are used as given (already cleaned: see
    :mod:`.listing_query`).

    ``q``            free text in web-search syntax (quoted phrases, ``-word``, ``or``), each
                     word with its synonyms, prefix matching on the last word as typed (see
                     :func:`text_query`); blank = no text filter, text without any word (``%``,
                     ``!!``) matches nothing.
    ``match``        ``"all"`` the words (default) or ``"any"`` of them (the zero-result
                     fallback).
    ``categories``   category slugs; a parent category includes its sub-categories (OR).
    ``brands``, ``colours``, ``sizes``
                     exact attribute values (``attributes->>'brand'`` ...), OR within each.
    ``min_price``, ``max_price``   inclusive bounds (Decimal).
    ``stock``        ``"in"`` (stock > 0), ``"out"`` (stock = 0) or None (either).
    ``include_inactive`` False (shoppers): active products only, ``active`` must be None/True.
                     True (editors): ``active`` True / False / None = only active, only
                     inactive, both.

    :func:`filter_conditions` / :func:`where` give its WHERE clauses with the values bound in,
    for statements of your own (a bulk action "apply to every product matching this filter").
    """

    q: str = ""
    match: Match = "all"
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
        return _has_words(self.q)

    @property
    def active_only(self) -> bool:
        """True when only active products can match (the shopper's view)."""
        return not self.include_inactive or self.active is True

    def is_broad(self, *, ignoring: frozenset[str] = frozenset()) -> bool:
        """True when the filter is at most categories + stock over active products: the case the
        precomputed counts answer without scanning (``ignoring`` these facets' selections)."""
        if not self.active_only or self.q.strip():
            return False
        if self.min_price is not None or self.max_price is not None:
            return False
        return all(not self.values(f) for f in ("brand", "colour", "size") if f not in ignoring)


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


#: How search text shapes the SQL: no text; text without a word (matches nothing); a query.
TextShape = Literal["", "nothing", "query"]
#: A search matches "all" its words (the normal case) or "any" of them (the fallback after a
#: search for all found nothing).
Match = Literal["all", "any"]
#: Most search terms turned into the tsquery (the rest of a very long query is ignored).
MAX_TERMS = 16
#: Longest word kept (PostgreSQL refuses lexemes over 2 kB; no real word comes close).
MAX_WORD = 60
_TOKEN = re.compile(r'-?"[^"]*"?|\S+')


def _lexemes(text: str) -> list[str]:
    return [w.lower()[:MAX_WORD] for w in _WORD.findall(text)]


def _phrase(words: list[str], prefix: bool = False) -> str:
    """``a <-> b`` (the words in this order), the last one also as a prefix when typing."""
    text = " <-> ".join(words)
    if prefix:
        text = f"{text} | {' <-> '.join([*words[:-1], words[-1] + ':*'])}"
    return text


def synonym_key(words: Iterable[str]) -> str:
    """How a term is looked up in the synonyms: lower-case words, one space between."""
    return " ".join(words)


def _term(words: list[str], synonyms: Mapping[str, tuple[str, ...]], prefix: bool) -> str:
    """One term as a tsquery group: itself (a phrase for several words) OR its synonyms."""
    key = synonym_key(words)
    alternatives = synonyms.get(key)
    if alternatives is None and len(key) > 3 and key.endswith("s"):
        # a plural typed for a singular synonym ("sofas"); to_tsquery stems each alternative
        alternatives = synonyms.get(key[:-2] if key.endswith("es") else key[:-1])
        if alternatives is None and key.endswith("es"):
            alternatives = synonyms.get(key[:-1])
    parts = [_phrase(words, prefix)]
    parts += [_phrase(other.split()) for other in alternatives or () if other != key]
    return f"( {' | '.join(parts)} )"


def text_query(q: str, synonyms: Mapping[str, tuple[str, ...]] | None = None,
               match: Match = "all") -> str:
    """``q`` as ``to_tsquery`` text: every term (a word, a hyphenated word or a quoted phrase)
    with its synonyms, the last word also as a prefix while it is typed (:func:`split_prefix`),
    ``-word`` excluded, ``or`` between terms as in web search. Terms are joined by AND
    (``match="all"``) or OR (``"any"``); exclusions always apply.

    Only letters and digits of the user's text reach the result, with operators this function
    writes itself, so it is always valid tsquery syntax (and never more than :data:`MAX_TERMS`
    terms)."""
    synonyms = synonyms or {}
    _head, prefix = split_prefix(q)
    tokens = _TOKEN.findall(q or "")
    wanted: list[str] = []
    excluded: list[str] = []
    joiners: list[str] = []
    pending_or = False
    for index, token in enumerate(tokens):
        if token.lower() == "or":
            pending_or = bool(wanted)
            continue
        negated = token.startswith("-") and len(token) > 1
        words = _lexemes(token)
        if not words:
            continue
        typing = (prefix is not None and index == len(tokens) - 1 and not negated
                  and words[-1] == prefix)
        term = _term(words, synonyms, typing)
        if negated:
            excluded.append(f"!{term}")
            continue
        if wanted:
            joiners.append("|" if pending_or or match == "any" else "&")
        wanted.append(term)
        pending_or = False
        if len(wanted) + len(excluded) >= MAX_TERMS:
            break
    if not wanted:
        return ""
    text = wanted[0]
    for joiner, term in zip(joiners, wanted[1:], strict=True):
        text = f"{text} {joiner} {term}"
    if excluded:
        text = f"( {text} ) & " + " & ".join(excluded)
    return text


#: PostgreSQL's English stop words (``tsearch_data/english.stop``): ``to_tsquery('english')``
#: drops them, and a query of nothing but stop words matches no row at all.
_STOP_LIST = (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself"
    " she her hers herself it its itself they them their theirs themselves what which who whom"
    " this that these those am is are was were be been being have has had having do does did"
    " doing a an the and but if or because as until while of at by for with about against"
    " between into through during before after above below to from up down in out on off over"
    " under again further then once here there when where why how all any both each few more"
    " most other some such no nor not only own same so than too very s t can will just don"
    " should now")
STOP_WORDS = frozenset(_STOP_LIST.split())


def head_query(q: str, synonyms: Mapping[str, tuple[str, ...]] | None = None) -> str:
    """The words typed before a prefix that is still being typed, as ``to_tsquery`` text
    ("brass" of "brass la"), or "" when there is no such prefix or no such word.

    Every row the whole query (:func:`text_query`, ``match="all"``) matches also matches this:
    its terms are the same terms, AND-ed, minus the prefix (and minus words that are only stop
    words, which would turn it into an empty query that matches nothing). Finding rows through
    the index by it and testing the whole query on them avoids the index's prefix expansion -
    "la:*" is every posting of every word starting with "la"."""
    head, prefix = split_prefix(q)
    if prefix is None or not head:
        return ""
    kept = [token for token in _TOKEN.findall(head)
            if any(word not in STOP_WORDS for word in _lexemes(token))]
    return text_query(" ".join(kept) + " ", synonyms) if kept else ""


@lru_cache(maxsize=256)
def _has_words(q: str) -> bool:
    """Whether ``q`` makes a tsquery at all - asked for every link a page renders (each link's
    canonical sort depends on it), so kept per text rather than parsed each time."""
    return bool(text_query(q))


def bind_text(q: str, synonyms: Mapping[str, tuple[str, ...]] | None = None,
              match: Match = "all") -> tuple[TextShape, dict[str, Any]]:
    """The text shape of ``q`` and its parameter ``q_query`` (see :func:`text_query`)."""
    query = text_query(q, synonyms, match)
    if query:
        return "query", {"q_query": query}
    return ("nothing" if (q or "").strip() else ""), {}


@lru_cache(maxsize=8)
def tsquery(text: TextShape, lexemes: bool = False) -> ColumnElement[Any] | None:
    """The tsquery of a text shape (None without words): ``to_tsquery('english', q_query)``,
    whose text :func:`text_query` built from the shopper's words, so "brass la" finds "Brass
    Lamp" while it is being typed and "couch" finds sofas.

    ``lexemes``: the same query with each typed prefix written as the catalog's words that
    start with it (parameter ``q_match``, a tsquery as text: see :data:`EXPAND_PREFIXES`). It
    matches the same rows; only matching uses it - relevance and highlighting keep
    ``q_query``, so ranks and marks are the ones the prefix gives."""
    if text != "query":
        return None
    if lexemes:
        return cast(bindparam("q_match", type_=Text), TSQUERY)
    english: ColumnElement[Any] = literal_column("'english'::regconfig")
    return func.to_tsquery(english, bindparam("q_query", type_=Text))


#: ``q_query`` as a tsquery whose prefix terms are the catalog's words starting with them
#: (``catalog_expand_prefixes``, migration 0017), as text for the parameter ``q_match``. The text
#: index answers a prefix by partial match, collecting the postings of every word with that
#: prefix before it can intersect anything ("oak & tabl:*" at 1,000,000 products: 121 ms of index
#: scan); written as words, "oak & (tabl | tablewar)" takes 23 ms and is estimated better.
EXPAND_PREFIXES = select(cast(func.catalog_expand_prefixes(
    func.to_tsquery(literal_column("'english'::regconfig"), bindparam("q_query", type_=Text))),
    Text))


def has_prefix(values: Mapping[str, Any]) -> bool:
    """Whether the bound query has a prefix term (what :data:`EXPAND_PREFIXES` rewrites)."""
    return ":*" in values.get("q_query", "")


#: What a product in a category the query names ("oak table": Tables) adds to its relevance:
#: more than any text rank reaches, so those products come first, in text-rank order.
INTENT_BOOST = 10.0


def rank(text: TextShape, vector: ColumnElement[Any] | None = None,
         category: ColumnElement[Any] | None = None) -> ColumnElement[Any]:
    """Relevance of a product to the text: ``ts_rank_cd`` on the stored tsvector, plus
    :data:`INTENT_BOOST` when the product is in a category the query names (parameter
    ``q_intent``: ids, see :func:`bind_filter`). ``vector``/``category`` default to the
    product's own columns (a subquery passes its own)."""
    query = tsquery(text)
    if query is None:
        raise ValueError("relevance needs search words")
    vector = _c.search_vector if vector is None else vector
    category = _c.category_id if category is None else category
    named = category == any_(bindparam("q_intent", type_=ARRAY(Integer)))
    return func.ts_rank_cd(vector, query) + case((named, INTENT_BOOST), else_=0.0)


# -- shape and values ---------------------------------------------------------------------------

#: How a statement's text condition is answered (the rows are the same, only the plan differs):
#:
#: ``full``  ``search_vector @@ query`` through the GIN index - the index reads every posting of
#:           every term (at 1,000,000 products "lamp | light" is 125,000 postings, ~60 ms; a
#:           typed prefix "la:*" 300,000).
#: ``head``  the words before a typed prefix through the index (``q_head``: "brass" of "brass
#:           la"), the whole query tested on those rows (``ts_match_vq``, which no index answers).
#: ``none``  the whole query tested on the rows the other conditions find through their own
#:           indexes (a brand and a category that hold 6,000 products, nearly all of them lamps).
TextIndex = Literal["full", "head", "none"]


#: A category filter is "one" id or "many" (a department); "unknown": categories were asked
#: for and none exists. An attribute filter is "any" of one or more values.
FacetShape = Literal["", "one", "many", "unknown", "any"]


@dataclass(frozen=True)
class FilterShape:
    """Everything about a filter that changes its SQL, and nothing that does not: two filters
    with one shape run the same statements with different parameters."""

    active: Literal["only", "inactive", "any"] = "only"
    text: TextShape = ""
    category: FacetShape = ""   # "unknown": categories asked for, none of them exists
    brand: FacetShape = ""
    colour: FacetShape = ""
    size: FacetShape = ""
    #: A price bound is set. Both bounds are then parameters, NULL for the one not set
    #: (``:min_price IS NULL OR price >= :min_price``): one shape, one statement per kind, for
    #: a minimum, a maximum or both, where there were three to build and compile. PostgreSQL
    #: plans each run with its values (``plan_cache_mode = force_custom_plan``) and folds the
    #: NULL test away, so the plan is the one a condition written for those bounds alone gets.
    price: bool = False
    stock: StockFilter = None
    #: How the text condition finds its rows (see :data:`TextIndex`); chosen per statement from
    #: the planner's estimates by the facet counts, "full" otherwise.
    text_index: TextIndex = "full"
    #: The text condition matches through ``q_match`` (typed prefixes written as the catalog's
    #: words, see :func:`tsquery`) rather than ``to_tsquery(q_query)``: set by the facet counts.
    lexemes: bool = False


@dataclass
class BoundFilter:
    """A filter's shape and the values of its parameters."""

    shape: FilterShape
    values: dict[str, Any]
    #: the category ids the filter selects (a department includes its sub-categories)
    category_ids: list[int] | None = None


_PLURAL = {"category": "categories", "brand": "brands", "colour": "colours", "size": "sizes"}


def bind_filter(filt: ProductFilter, tree: CategoryTree) -> BoundFilter:
    """``filt``'s shape and parameter values (category slugs resolved through ``tree``)."""
    text, values = bind_text(filt.q, tree.synonyms, filt.match)
    if text == "query" and filt.match == "all":
        head = head_query(filt.q, tree.synonyms)
        if head:
            values["q_head"] = head
    if text == "query":
        # Any of the terms: its row estimate is roughly the postings a text index scan reads.
        values["q_any"] = text_query(filt.q, tree.synonyms, "any")
    if text == "query":
        # The categories the query names (and their sub-categories) rank first.
        values["q_intent"] = sorted({i for node in tree.named_by(filt.q)
                                     for i in tree.descendant_ids(node)})
    facets: dict[str, FacetShape] = {}
    ids: list[int] | None = None
    if filt.categories:
        ids = sorted(tree.expand(filt.categories))
        if not ids:
            facets["category"] = "unknown"
        elif len(ids) == 1:
            # One category stays "=": the planner walks (category_id, price) in price order
            # only for an equality, not for "= ANY" of a one-element array.
            facets["category"], values["category"] = "one", ids[0]
        else:
            facets["category"], values["categories"] = "many", ids
    for facet in ATTRIBUTE_FACETS:
        if selected := filt.values(facet):
            facets[facet] = "any"
            values[_PLURAL[facet]] = [{ATTRIBUTE_FACETS[facet]: v} for v in selected]
            values[f"{facet}_values"] = list(selected)
    priced = filt.min_price is not None or filt.max_price is not None
    if priced:
        values["min_price"], values["max_price"] = filt.min_price, filt.max_price
    active: Literal["only", "inactive", "any"] = (
        "only" if filt.active_only else "inactive" if filt.active is False else "any")
    shape = FilterShape(active=active, text=text, price=priced, stock=filt.stock,
                        category=facets.get("category", ""), brand=facets.get("brand", ""),
                        colour=facets.get("colour", ""), size=facets.get("size", ""))
    return BoundFilter(shape, values, ids)


# -- WHERE --------------------------------------------------------------------------------------

def _attribute_in(facet: str, columns: bool) -> ColumnElement[bool]:
    if columns:
        # ``facet_brand = ANY(:brand_values)`` on the generated facet column (migration 0014):
        # what a facet count reads from that column's covering index without the rows.
        return FACET_COLUMNS[facet] == any_(bindparam(f"{facet}_values", type_=ARRAY(Text)))
    # ``attributes @> ANY('{"brand": "X"}', ...)`` is answered by the jsonb_path_ops GIN index
    # (one bitmap index search per value, like the OR of single ``@>`` it replaces), and planned
    # and estimated as a single ``@>`` when one value is ticked: one shape for 1 or 30 values.
    # Several attribute filters are one index search (the btrees of the facet columns would
    # need a BitmapAnd the planner often skips): the form for fetching rows.
    return _c.attributes.op("@>", is_comparison=True)(
        any_(bindparam(_PLURAL[facet], type_=ARRAY(JSONB))))


def _category_in(shape: FacetShape) -> ColumnElement[bool]:
    if shape == "unknown":
        return false()
    if shape == "one":
        return _c.category_id == bindparam("category", type_=Integer)
    return _c.category_id == any_(bindparam("categories", type_=ARRAY(Integer)))


@lru_cache(maxsize=SHAPE_CACHE_SIZE)
def conditions(shape: FilterShape, skip: frozenset[str] = frozenset(),
               columns: bool | None = None) -> tuple[ColumnElement[bool], ...]:
    """The WHERE clauses of ``shape`` (to ``and_``), with placeholders for the filter's values;
    ``skip`` leaves out facets by name (what a facet's own counts need). ``columns``: attribute
    filters on the facet columns (for counting from their covering indexes) instead of the
    JSONB containment that fetching rows uses; by default the columns whenever there is search
    text. When the text is tested on the rows the other conditions find (``text_index``
    "none"), their indexes are keyed by facet, category and price (migration 0015), so a brand
    within a department above a price is one index range rather than two bitmaps AND-ed; and
    through the text index, the JSONB index is lossy (``jsonb_path_ops`` hashes): a bitmap
    that includes it has every row of its pages rechecked against the whole condition - the
    tsquery and the containment, for each row read ("text + filters" at 100,000 products: 34
    -> 28 ms of CPU for its 9,800 rows)."""
    if columns is None:
        columns = shape.text == "query"
    out: list[ColumnElement[bool]] = []
    # Plain "is_active" / "NOT is_active" (not "IS TRUE"): the form partial indexes
    # (WHERE is_active) are proven against.
    if shape.active == "only":
        out.append(_c.is_active)
    elif shape.active == "inactive":
        out.append(not_(_c.is_active))
    # The prefix written as words helps the text index only; a row's own test is cheaper with
    # one prefix operand than with its words ("brass la": 9 operands per row for 2).
    query = tsquery(shape.text, shape.lexemes and shape.text_index == "full")
    if query is not None and "text" in skip:
        pass  # the filter's other conditions only (the facet counts' estimates)
    elif query is not None and shape.text_index == "full":
        out.append(_c.search_vector.op("@@")(query))
    elif query is not None:
        if shape.text_index == "head":
            out.append(head_condition())
        out.append(func.ts_match_vq(_c.search_vector, query))
    elif shape.text == "nothing":
        out.append(false())  # text without a single word ("%", "!!") finds nothing
    for facet in FACETS:
        kind: FacetShape = getattr(shape, facet)
        if kind and facet not in skip:
            out.append(_category_in(kind) if facet == "category"
                       else _attribute_in(facet, columns))
    if shape.price:
        out += [_price_bound("min_price", operator.ge), _price_bound("max_price", operator.le)]
    if shape.stock == "in":
        out.append(_c.stock > 0)
    elif shape.stock == "out":
        out.append(_c.stock == 0)
    return tuple(out)


def _price_bound(parameter: str, compare: Callable[[Any, Any], Any]) -> ColumnElement[bool]:
    """``(:parameter IS NULL OR price <compare> :parameter)``: a bound that may be unset (see
    :attr:`FilterShape.price`)."""
    bound = bindparam(parameter, type_=_c.price.type)
    return or_(bound.is_(None), compare(_c.price, bound))


def head_condition(parameter: str = "q_head") -> ColumnElement[bool]:
    """``search_vector @@ q_head``: the words before a typed prefix (see :func:`head_query`);
    or another tsquery parameter (``q_any``: any of the terms)."""
    english: ColumnElement[Any] = literal_column("'english'::regconfig")
    return _c.search_vector.op("@@")(func.to_tsquery(english, bindparam(parameter, type_=Text)))


def facet_condition(shape: FilterShape, facet: str) -> ColumnElement[bool]:
    """The condition of one selected facet of ``shape`` (as :func:`conditions` has it by
    default: on the facet column when there is search text)."""
    kind: FacetShape = getattr(shape, facet)
    return _category_in(kind) if facet == "category" \
        else _attribute_in(facet, shape.text == "query")


def where_clause(shape: FilterShape, skip: Iterable[str] = (),
                 columns: bool | None = None) -> ColumnElement[bool]:
    """:func:`conditions` as one clause (for building cached statements)."""
    clauses = conditions(shape, frozenset(skip), columns)
    return and_(*clauses) if clauses else true()


def filter_conditions(filt: ProductFilter, tree: CategoryTree, *,
                      skip: Iterable[str] = ()) -> list[ColumnElement[bool]]:
    """WHERE clauses for ``filt`` with its values bound in, for statements of your own (a bulk
    action on "every product matching this filter"); ``skip`` leaves out facets by name."""
    bound = bind_filter(filt, tree)
    return [with_values(c, bound.values) for c in conditions(bound.shape, frozenset(skip))]


def with_values(clause: ColumnElement[Any], values: dict[str, Any]) -> ColumnElement[Any]:
    """A copy of ``clause`` whose named placeholders are replaced by anonymous parameters
    carrying ``values`` - to run it without passing parameters, e.g. inside a statement someone
    else executes, even next to another filter's clauses (the names would clash)."""
    def give(element: Any, **_: Any) -> Any:
        if isinstance(element, BindParameter) and element.key in values:
            return literal(values[element.key], element.type)
        return None

    return visitors.replacement_traverse(clause, _NO_OPTIONS, give)


def where(filt: ProductFilter, tree: CategoryTree, *,
          skip: Iterable[str] = ()) -> ColumnElement[bool]:
    """:func:`filter_conditions` as one clause."""
    clauses = filter_conditions(filt, tree, skip=skip)
    return and_(*clauses) if clauses else true()
