"""Text-search helpers around the query layer: highlighting matched words in product names and
"Did you mean ...?" suggestions from the catalog's own vocabulary.

Highlighting asks PostgreSQL (``ts_headline``) which words of each name match the same tsquery
the search used (stemming and prefixes included), marked with two control characters that can
not occur in a cleaned name. The name is then HTML-escaped piece by piece and only our own
``<mark>`` tags are added, so a product called ``<script>`` stays text. If PostgreSQL changed the
text in any way, the plain escaped name is used instead.

Suggestions correct each word of a query that found nothing on its own ("walnutt lampp" ->
"walnut lamp"): every word not in ``catalog_words`` (pg_trgm similarity; the words of names,
brands, colours, materials - migration 0002 - and of category names - migration 0007) is
replaced by its closest vocabulary word, and the corrected query is offered only after checking
that it finds products - with the current filters if possible, otherwise on its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import (
    Boolean,
    Float,
    Select,
    Text,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from ..data import direct
from .facet_memo import MemoForRequest
from .filters import (
    FilterShape,
    Match,
    ProductFilter,
    TextShape,
    bind_filter,
    bind_text,
    tsquery,
    where_clause,
)
from .sql import set_planner_settings
from .tree import CategoryTree

_START, _STOP = "\x01", "\x02"
_HEADLINE_OPTIONS = f"StartSel={_START}, StopSel={_STOP}, HighlightAll=true"
_MARK, _UNMARK = Markup("<mark>"), Markup("</mark>")
_MARKS = re.compile(f"[{_START}{_STOP}]")
_PAIR = _START + _STOP
_WORD = re.compile(r"[^\W_]+")
#: Words shorter than this are not corrected (too many near neighbours to guess well).
MIN_WORD = 3
#: pg_trgm similarity a replacement must reach.
MIN_SIMILARITY = 0.3


def clean_name(name: str) -> str:
    return name.replace(_START, "").replace(_STOP, "")


async def highlight_names(session: AsyncSession, q: str, names: Sequence[str], *,
                          synonyms: Mapping[str, tuple[str, ...]] | None = None,
                          match: Match = "all") -> list[Markup]:
    """Each name as safe HTML with the words matching ``q`` (and their ``synonyms``) wrapped
    in ``<mark>``."""
    names = [clean_name(n) for n in names]
    shape, values = bind_text(q, synonyms, match)
    if tsquery(shape) is None or not names:
        return [escape(n) for n in names]
    marked = await direct.scalars(session, _headlines(shape), {**values, "names": names})
    return [_markup(name, headline) for name, headline in zip(names, marked, strict=True)]


@lru_cache(maxsize=8)
def _headlines(shape: TextShape) -> Select[Any]:
    """``ts_headline`` of each of the ``names`` (an array parameter), in order."""
    source = func.unnest(bindparam("names", type_=ARRAY(Text))).table_valued(
        "name", with_ordinality="ord"
    ).render_derived()
    return select(
        func.ts_headline(literal_column("'english'::regconfig"), source.c.name, tsquery(shape),
                         literal(_HEADLINE_OPTIONS, Text))
    ).select_from(source).order_by(source.c.ord)


def _markup(name: str, marked: str | None) -> Markup:
    """``name`` escaped, with the words ``ts_headline`` marked in ``marked`` wrapped in
    ``<mark>`` - only if the marks are ours: properly paired, around the very same text.

    The marks are control characters, which HTML escaping leaves as they are, so the whole
    headline is escaped once and the marks replaced (a search page highlights 24 names)."""
    if marked is None or _START not in marked or (
            marked.replace(_START, "").replace(_STOP, "") != name):
        return escape(name)  # no match marked (or the text was changed)
    marks = "".join(_MARKS.findall(marked))
    if marks != _PAIR * (len(marks) // 2):  # (an odd count cannot equal it)
        return escape(name)  # nested, unopened or unclosed: not ours to trust
    return Markup(str(escape(marked)).replace(_START, _MARK).replace(_STOP, _UNMARK))  # noqa: S704 - escaped text, our two tags


@dataclass(frozen=True)
class Suggestion:
    """A corrected query that finds products; ``keep_filters`` False means only without the
    current facet/price filters."""

    q: str
    changed: tuple[str, ...]
    keep_filters: bool


async def suggest(session: AsyncSession, filt: ProductFilter, tree: CategoryTree, *,
                  filters_find_some: bool = True,
                  memo: MemoForRequest | None = None) -> Suggestion | None:
    """A "Did you mean" for a query that found nothing, or None.

    ``filters_find_some`` False: ``filt`` without its text is already known to find nothing,
    so a corrected query is only tried without the filters. ``memo``: the words' corrections
    and the probes' answers kept for this catalog version (see :mod:`.facet_memo`)."""
    tokens = [w for w in dict.fromkeys(m.lower() for m in _WORD.findall(filt.q))
              if len(w) >= MIN_WORD and w != "or"][:8]
    if not tokens:
        return None
    replacements = await _closest_words(session, tokens, memo)
    if not replacements:
        return None

    def fix(match: re.Match[str]) -> str:
        return replacements.get(match.group(0).lower(), match.group(0))

    corrected = _WORD.sub(fix, filt.q)
    if corrected.strip().lower() == filt.q.strip().lower():
        return None
    changed = tuple(replacements[t] for t in tokens if t in replacements)
    candidates = ((replace(filt, q=corrected), True),) if filters_find_some else ()
    for candidate, keep in (*candidates, (ProductFilter(q=corrected), False)):
        if keep is False and candidate == replace(filt, q=corrected):
            break
        if await _finds_any(session, candidate, tree, memo):
            return Suggestion(corrected, changed, keep)
    return None


async def _finds_any(session: AsyncSession, filt: ProductFilter, tree: CategoryTree,
                     memo: MemoForRequest | None = None) -> bool:
    """Whether anything matches (known to ``memo``, or probed and kept there)."""
    known = memo.finds_any(filt) if memo is not None else None
    if known is not None:
        return known
    found = await _probe(session, filt, tree)
    if memo is not None:
        memo.keep_finds_any(filt, found)
    return found


async def _probe(session: AsyncSession, filt: ProductFilter, tree: CategoryTree) -> bool:
    """Whether anything matches, probing through the text index (bitmap scans only): an
    existence check that may well fail must not be planned as "walk the table, or an index on
    is_active, until the first hit" - that reads all 100,000 rows when there is none.

    The scans are switched back on only before the next statement that plans a table read
    (``restore_later``, see :func:`.sql.set_planner_settings`): the probe is a found-nothing
    page's last statement, so usually never."""
    bound = bind_filter(filt, tree)
    await set_planner_settings(session, {"enable_seqscan": "off", "enable_indexscan": "off"},
                               restore_later=True)
    return bool(await direct.scalar(session, _exists(bound.shape), bound.values))


@lru_cache(maxsize=64)
def _exists(shape: FilterShape) -> direct.Prepared:
    """``SELECT EXISTS (... WHERE <filter of this shape>)``, prepared (kept as its plan)."""
    return direct.Prepared(partial(_exists_statement, shape))


def _exists_statement(shape: FilterShape) -> Select[Any]:
    return select(exists().where(where_clause(shape)))


#: For each given token (in order): its closest vocabulary word by trigram similarity (or
#: NULL), that word's score, and whether the token is a vocabulary word itself. One statement
#: for any number of tokens (an array, not a ``VALUES`` list of the tokens): SQLAlchemy's cache
#: cannot keep a ``VALUES`` construct with its data, so the old statement was compiled again on
#: every "Did you mean" - ~1.2 ms of worker CPU each, half a millisecond per request over the
#: load test's wandering shoppers (``python -m bench.shopper_replay``).
_CLOSEST_WORDS = text("""
    SELECT given.token, best.word, best.score,
           EXISTS (SELECT FROM catalog_words w WHERE w.word = given.token) AS known
      FROM unnest(CAST(:tokens AS text[])) WITH ORDINALITY AS given (token, position)
      LEFT JOIN LATERAL (
            SELECT w.word, similarity(w.word, given.token) AS score
              FROM catalog_words w
             WHERE w.word % given.token
             ORDER BY similarity(w.word, given.token) DESC, length(w.word), w.word
             LIMIT 1) AS best ON true
     ORDER BY given.position
""").bindparams(bindparam("tokens", type_=ARRAY(Text))).columns(
    token=Text, word=Text, score=Float, known=Boolean)


async def _closest_words(session: AsyncSession, tokens: list[str],
                         memo: MemoForRequest | None = None) -> dict[str, str]:
    """token -> the most similar vocabulary word, for tokens that are not words themselves
    (those ``memo`` keeps are not looked up again; those looked up are kept there)."""
    corrections, unknown = memo.closest_words(tokens) if memo is not None else ({}, tokens)
    if not unknown:
        return corrections
    rows = await direct.fetch(session, _CLOSEST_WORDS, {"tokens": unknown})
    closest = {r.token: r.word if (not r.known and r.word is not None
                                   and r.score >= MIN_SIMILARITY and r.word != r.token) else None
               for r in rows}
    if memo is not None:
        memo.keep_closest_words(closest)
    corrections.update((token, word) for token, word in closest.items() if word is not None)
    return corrections


__all__ = ["Suggestion", "clean_name", "highlight_names", "suggest"]
