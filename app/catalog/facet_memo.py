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
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app

from ..ops.metrics import FACET_MEMO
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

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        """Forget every filter's counts (to count afresh after changing how, e.g. in tests)."""
        self._kept.clear()

    def get(self, version: str, filt: ProductFilter) -> Kept | None:
        """What is kept for ``filt`` at ``version``; a new version forgets everything (the
        request read it last, so no request will ask for the older one again)."""
        if version != self.version:
            self._kept.clear()
            self.version = version
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
        if version != self.version or self.max_entries <= 0:
            return
        self._kept[filt] = kept
        self._kept.move_to_end(filt)
        while len(self._kept) > self.max_entries:
            self._kept.popitem(last=False)


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
