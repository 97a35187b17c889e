"""What the app counts for Prometheus, and the observer that counts it.

The ASGI adapter reports each request to a :class:`~app.runtime.asgi.RequestObserver`;
:class:`MetricsObserver` turns the reports into the metrics below. Per request that is a few
increments of prometheus-client values (under its own lock; in multiprocess mode a write to the
worker's memory-mapped file) and one dictionary look-up: no lock or I/O of ours.

With ``PROMETHEUS_MULTIPROC_DIR`` set (:mod:`app.ops.server` sets it for the workers it starts)
prometheus-client keeps every value in a per-process file there, and a scrape of any worker
reads all of them (:mod:`app.ops.exposition`): two Hypercorn workers report one view. The
variable is prometheus-client's own and is read when it is imported.

The pool gauges are sampled, not counted per checkout: each worker writes its pool's numbers
every :data:`POOL_SAMPLE_SECONDS` and when it serves a scrape.
"""

from __future__ import annotations

import asyncio
from typing import Any

from flask import request
from flask.sansio.app import App
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy.pool import QueuePool

from ..data.database import AsyncDatabase
from ..runtime.asgi import OBSERVER_KEY, UNAVAILABLE_KEY, RequestObserver

ENDPOINT_KEY = "vitrine.endpoint"
POOL_SAMPLE_SECONDS = 1.0
#: Methods counted under their own name; anything else a client sends is ``other``.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: 503s the adapter decides, by its outcome; the app marks its own (UNAVAILABLE_KEY).
_ADAPTER_CAUSES = {"overloaded": "queue_timeout", "timeout": "request_timeout",
                   "body_budget": "body_budget"}

REQUESTS = Counter(
    "vitrine_requests", "Requests answered, by Flask endpoint, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "vitrine_request_duration_seconds",
    "Time from taking a slot (or queueing for one) to the response, by Flask endpoint.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0),
)
IN_FLIGHT = Gauge(
    "vitrine_requests_in_flight", "Requests running in a slot.", multiprocess_mode="livesum"
)
QUEUED = Gauge(
    "vitrine_requests_queued", "Requests waiting for a slot.", multiprocess_mode="livesum"
)
UNAVAILABLE = Counter(
    "vitrine_unavailable", "Requests answered 503, by cause.", ["cause"]
)
STREAMS = Gauge(
    "vitrine_streams_open", "Event streams open (they hold no slot and no connection).",
    multiprocess_mode="livesum"
)
POOL_CHECKED_OUT = Gauge(
    "vitrine_db_pool_checked_out", "Connections of the worker's pool in use.",
    multiprocess_mode="liveall",
)
POOL_OVERFLOW = Gauge(
    "vitrine_db_pool_overflow",
    "Connections beyond the pool size (negative: pool slots not yet opened).",
    multiprocess_mode="liveall",
)

RESPONSE_CACHE = Counter(
    "vitrine_response_cache",
    "Shopper requests looked up in the response cache, by result: hit, miss, not_modified "
    "(a 304 for the client's ETag), error (the cache's Redis failed; served uncached).",
    ["result"],
)
FACET_MEMO = Counter(
    "vitrine_facet_memo",
    "Filters whose facet counts a shopper request needed, by result: hit (kept by the worker "
    "for this catalog version), miss (counted).",
    ["result"],
)
TEXT_MEMO = Counter(
    "vitrine_text_memo",
    "Answers about a search's words a shopper request needed, by kind (prefix: a typed prefix "
    "as the catalog's words; closest_word: a word's closest vocabulary word; finds_any: whether "
    "a corrected query finds anything) and result: hit (kept by the worker for this catalog "
    "version), miss (looked up).",
    ["kind", "result"],
)


class MetricsObserver(RequestObserver):
    """Counts what the adapter reports; samples the pool of the loop it runs on."""

    def __init__(self, database: AsyncDatabase) -> None:
        self.database = database
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._sampled_loop: asyncio.AbstractEventLoop | None = None

    def waiting(self, delta: int) -> None:
        QUEUED.inc(delta)

    def running(self, delta: int) -> None:
        IN_FLIGHT.inc(delta)

    def streaming(self, delta: int) -> None:
        STREAMS.inc(delta)

    def finished(self, environ: dict[str, Any], status: int, seconds: float, outcome: str) -> None:
        endpoint = environ.get(ENDPOINT_KEY) or "unmatched"
        method = environ.get("REQUEST_METHOD", "")
        if method not in METHODS:
            method = "other"
        key = (endpoint, method, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                REQUESTS.labels(endpoint, method, str(status)), LATENCY.labels(endpoint)
            )
        children[0].inc()
        children[1].observe(seconds)
        if status == 503:
            cause = _ADAPTER_CAUSES.get(outcome) or environ.get(UNAVAILABLE_KEY) or "other"
            UNAVAILABLE.labels(cause).inc()
        loop = asyncio.get_running_loop()
        if loop is not self._sampled_loop:
            self._sampled_loop = loop
            loop.call_soon(self._sample_periodically, loop)

    def sample_pool(self) -> None:
        """Write the running loop's pool numbers (nothing before its engine exists)."""
        engine = self.database.current_engine()
        pool = None if engine is None else engine.pool
        if isinstance(pool, QueuePool):
            POOL_CHECKED_OUT.set(pool.checkedout())
            POOL_OVERFLOW.set(pool.overflow())

    def _sample_periodically(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop is not self._sampled_loop or loop.is_closed():
            return  # a newer loop took over (tests); this chain ends
        self.sample_pool()
        loop.call_later(POOL_SAMPLE_SECONDS, self._sample_periodically, loop)


def _remember_endpoint(error: BaseException | None) -> None:
    """Teardown: leave the matched endpoint where the observer reads it."""
    request.environ[ENDPOINT_KEY] = request.endpoint


def init_app(app: App) -> MetricsObserver:
    """Install the observer that the app's ASGI adapter reports to."""
    observer = MetricsObserver(app.extensions["vitrine_db"])
    app.extensions[OBSERVER_KEY] = observer
    app.teardown_request(_remember_endpoint)
    return observer
