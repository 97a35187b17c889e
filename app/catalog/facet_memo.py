"""Facet counts kept in each worker under the catalog version, so that a shopper who pages,
re-sorts or changes the page size of a filter does not have them counted again.

The response cache keeps whole responses by URL, and wandering shoppers rarely ask for the same
URL twice (5-7% hits in ``python -m loadtest``). But the facet counts, the total and the price
range - most of a search's SQL: the counting statements and their estimates took four fifths of
PostgreSQL's time over ``python -m bench.shopper_replay`` - depend only on the *filter* (text,
categories, attribute facets, price, in stock), not on the sort, the page or the page size. Over
the load test's shopper journey a filter comes back in 37% of requests where a URL does in 11%
(the replay's journey, 9,000 requests); a search that finds nothing counts two or three filters
(the words, the filters without them, any of the words), each kept. Filters kept as finding
exactly nothing spare even the first: no search under them can find anything
(:meth:`MemoForRequest.recall_found_nothing`).

Kept under the same **catalog version** the response cache reads before any data (see
:mod:`app.data.catalog_version`): counts read after that read are never older than it, and a
request that read a newer version never finds them. So the memo is used only where the response
cache has read the version (anonymous catalog requests while it is on); each worker keeps
``FACET_MEMO_ENTRIES`` filters of the version it saw last and forgets them all when the version
changes. It lives in the worker, not in Redis: an entry is Python objects used by the same
process's rendering, worth less than the round trip and the decoding that sharing it would cost.

What is kept is what :func:`.facets.compute_facets` gives and leaves behind for the page query:
the result (without a page of ids, which belongs to one page), and the filter's bound shape and
expanded prefix, so that the page's products are found the way the match set was counted.

**Answers about a search's words are kept the same way.** They depend only on the catalog, and
wandering shoppers bring the same words back (``python -m bench.shopper_replay``, 5,000 requests):

* a typed prefix written as the catalog's words (:func:`.facets.compute_facets`, one statement
  per counted search with a prefix): 3,273 expansions, of 977 distinct texts;
* "Did you mean" (:func:`.search.suggest`), for the half of the searches that find nothing: each
  word's closest vocabulary word (or that it has none), and whether a corrected query finds
  anything - a probe whose filter's counts are kept here is answered from them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app

from ..ops.metrics import FACET_MEMO, TEXT_MEMO
from ..web.response_cache import looked_up_version
from .facets import FacetResult
from .filters import BoundFilter, FilterShape, ProductFilter

EXTENSION_KEY = "vitrine_facet_memo"


@dataclass(frozen=True)
class Kept:
    """One filter's counts, and how its statements were bound (see the module docstring)."""

    result: FacetResult
    shape: FilterShape
    q_match: Any


class FacetMemo:
    """An LRU of :class:`Kept` by filter, for one catalog version at a time (its hits and
    misses are counted in ``vitrine_facet_memo_total``)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self.version: str | None = None
        self._kept: OrderedDict[ProductFilter, Kept] = OrderedDict()
        #: Answers about words (see the module docstring): a text with a typed prefix -> the
        #: prefix written as the catalog's words (``q_query`` -> ``q_match``); a word -> its
        #: closest vocabulary word, None for none (or itself a word); a probed filter ->
        #: whether it finds anything.
        self._expansions: OrderedDict[str, Any] = OrderedDict()
        self._words: OrderedDict[str, str | None] = OrderedDict()
        self._finds: OrderedDict[ProductFilter, bool] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        """Forget everything kept (to count afresh after changing how, e.g. in tests)."""
        self._kept.clear()
        self._expansions.clear()
        self._words.clear()
        self._finds.clear()

    def _at(self, version: str) -> None:
        """Serve ``version``: a new one forgets everything (the request read it last, so no
        request will ask for the older one again)."""
        if version != self.version:
            self.clear()
            self.version = version

    def get(self, version: str, filt: ProductFilter) -> Kept | None:
        """What is kept for ``filt`` at ``version`` (see :meth:`_at`)."""
        self._at(version)
        kept = self._kept.get(filt)
        if kept is None:
            FACET_MEMO.labels("miss").inc()
            return None
        self._kept.move_to_end(filt)
        FACET_MEMO.labels("hit").inc()
        return kept

    def peek(self, version: str, filt: ProductFilter) -> Kept | None:
        """What is kept for ``filt`` at ``version``, neither counted as a hit or a miss nor
        refreshed: for a request that only asks whether it can skip some work."""
        return self._kept.get(filt) if version == self.version else None

    def put(self, version: str, filt: ProductFilter, kept: Kept) -> None:
        """Keep ``kept`` - unless another version was seen since the request read its own."""
        if self._keeping(version):
            _keep(self._kept, filt, kept, self.max_entries)

    def _keeping(self, version: str) -> bool:
        """Whether a request that read ``version`` may keep what it found: no other version
        was seen since (and the memo keeps anything)."""
        return version == self.version and self.max_entries > 0

    def expansion(self, version: str, q_query: str) -> Any | None:
        """The kept ``q_match`` of the text ``q_query`` at ``version`` (None: expand it)."""
        self._at(version)
        found = self._expansions.get(q_query)
        TEXT_MEMO.labels("prefix", "miss" if found is None else "hit").inc()
        if found is not None:
            self._expansions.move_to_end(q_query)
        return found

    def put_expansion(self, version: str, q_query: str, q_match: Any) -> None:
        """Keep a text's expansion."""
        if self._keeping(version) and q_match is not None:
            _keep(self._expansions, q_query, q_match, self.max_entries)

    def closest_words(self, version: str, words: list[str]) -> tuple[dict[str, str], list[str]]:
        """The kept corrections of ``words`` at ``version`` (word -> closest vocabulary word,
        for those that have one), and the words not kept, in their order."""
        self._at(version)
        corrections: dict[str, str] = {}
        unknown: list[str] = []
        for word in words:
            if word not in self._words:
                unknown.append(word)
                TEXT_MEMO.labels("closest_word", "miss").inc()
                continue
            self._words.move_to_end(word)
            TEXT_MEMO.labels("closest_word", "hit").inc()
            closest = self._words[word]
            if closest is not None:
                corrections[word] = closest
        return corrections, unknown

    def put_closest_words(self, version: str, closest: dict[str, str | None]) -> None:
        """Keep each looked-up word's closest vocabulary word (None: none to offer)."""
        if self._keeping(version):
            for word, found in closest.items():
                _keep(self._words, word, found, self.max_entries)

    def finds_any(self, version: str, filt: ProductFilter) -> bool | None:
        """Whether ``filt`` finds anything, if known at ``version``: probed before, or its
        counts kept with an exact total (None: probe it)."""
        self._at(version)
        found = self._finds.get(filt)
        if found is None:
            kept = self._kept.get(filt)
            if kept is not None and kept.result.total.exact:
                found = kept.result.total.value > 0
        TEXT_MEMO.labels("finds_any", "miss" if found is None else "hit").inc()
        if found is not None and filt in self._finds:
            self._finds.move_to_end(filt)
        return found

    def put_finds_any(self, version: str, filt: ProductFilter, found: bool) -> None:
        """Keep a probe's answer."""
        if self._keeping(version):
            _keep(self._finds, filt, found, self.max_entries)


def _keep(entries: OrderedDict[Any, Any], key: Any, value: Any, bound: int) -> None:
    """Put ``key`` last (the most recently used) and drop the least recently used past
    ``bound``."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > bound:
        entries.popitem(last=False)


@dataclass(frozen=True)
class MemoForRequest:
    """The worker's memo, with the catalog version the current request read."""

    memo: FacetMemo
    version: str

    def recall(self, filt: ProductFilter, bound: BoundFilter) -> FacetResult | None:
        """``filt``'s kept counts, with ``bound`` set as counting them left it; or None."""
        kept = self.memo.get(self.version, filt)
        if kept is None:
            return None
        bound.shape = kept.shape
        if kept.q_match is not None:
            bound.values["q_match"] = kept.q_match
        return kept.result

    def recall_found_nothing(self, filt: ProductFilter,
                             bound: BoundFilter) -> FacetResult | None:
        """:meth:`recall`, only if ``filt``'s kept counts found exactly nothing (and then
        counted as a hit); else None, not counted as a miss (see :meth:`FacetMemo.peek`)."""
        kept = self.memo.peek(self.version, filt)
        total = kept.result.total if kept is not None else None
        if total is None or not total.exact or total.value:
            return None
        return self.recall(filt, bound)

    def keep(self, filt: ProductFilter, bound: BoundFilter, result: FacetResult) -> None:
        """Keep ``result`` (just counted for ``filt``, ``bound`` as it left it)."""
        self.memo.put(self.version, filt, Kept(replace(result, page_ids=None, page=None),
                                               bound.shape, bound.values.get("q_match")))

    def expansion(self, q_query: str) -> Any | None:
        """See :meth:`FacetMemo.expansion`."""
        return self.memo.expansion(self.version, q_query)

    def keep_expansion(self, q_query: str, q_match: Any) -> None:
        """See :meth:`FacetMemo.put_expansion`."""
        self.memo.put_expansion(self.version, q_query, q_match)

    def closest_words(self, words: list[str]) -> tuple[dict[str, str], list[str]]:
        """See :meth:`FacetMemo.closest_words`."""
        return self.memo.closest_words(self.version, words)

    def keep_closest_words(self, closest: dict[str, str | None]) -> None:
        """See :meth:`FacetMemo.put_closest_words`."""
        self.memo.put_closest_words(self.version, closest)

    def finds_any(self, filt: ProductFilter) -> bool | None:
        """See :meth:`FacetMemo.finds_any`."""
        return self.memo.finds_any(self.version, filt)

    def keep_finds_any(self, filt: ProductFilter, found: bool) -> None:
        """See :meth:`FacetMemo.put_finds_any`."""
        self.memo.put_finds_any(self.version, filt, found)


def init_app(app: Any) -> None:
    """Give the app (each worker) its memo, when the response cache is on."""
    if app.config["RESPONSE_CACHE"] and int(app.config["FACET_MEMO_ENTRIES"]) > 0:
        app.extensions[EXTENSION_KEY] = FacetMemo(int(app.config["FACET_MEMO_ENTRIES"]))


def memo_for_request() -> MemoForRequest | None:
    """The memo for the current request, if the app has one and the response cache read the
    catalog version for it (anonymous requests only); else None: count afresh."""
    memo: FacetMemo | None = current_app.extensions.get(EXTENSION_KEY)
    if memo is None:
        return None
    version = looked_up_version()
    return None if version is None else MemoForRequest(memo, version)


__all__ = ["FacetMemo", "Kept", "MemoForRequest", "init_app", "memo_for_request"]
