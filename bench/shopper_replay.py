"""``python -m bench.shopper_replay``: the load test's shopper journey, replayed in one process.

The search bench (``python -m bench search``) serves 30 fixed URLs, so after the warm-up every
statement it needs is built and compiled. The load test's shoppers (:mod:`loadtest.shopper`)
wander: typed phrases, ticked facets, price ranges, sorts, pages. Over such a mix most requests
need a filter shape the worker has not kept, and the statements are built and compiled again.
This replays that journey (the same choices and weights, no sleeps) straight into the ASGI
app, one request after the other, to show what the wandering costs the worker:

* CPU per request of this process (the app; PostgreSQL runs elsewhere);
* resident memory every 500 requests (the warm set of kept statements and plans);
* each shape cache's fill and hit ratio, and how many compiled plans ``app.data.direct`` holds;
* PostgreSQL's CPU per request (its backends serving the replay, read from ``/proc``: a
  database on this machine), and what the backend the replay used last holds at the end: its
  memory and its prepared statements (``VITRINE_DB_PREPARED_STATEMENT_CACHE_SIZE`` keeps that
  many per connection; PostgreSQL keeps each one too);
* with ``--profile FILE``, a ``cProfile`` of the requests after ``--warm``.

Uses ``DATABASE_URL`` (a seeded catalog, e.g. 100,000 products); the response cache is off, so
every request runs its SQL - or on with ``--response-cache on``, as the load test runs it: then
the hits of the response cache, of the facet counts each worker keeps per filter and of its
answers about words (:mod:`app.catalog.facet_memo`) are counted too. Nothing is asserted:
figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import os
import random
import time
from collections.abc import Iterator
from typing import Any

from app.data.urls import libpq_dsn
from loadtest.vocabulary import State, next_page, phrase, query_string, refine, toggle_facet

#: How the replay's connections appear in ``pg_stat_activity`` (their CPU is read by it).
APPLICATION_NAME = "vitrine-replay"

#: The shopper's tasks and their weights, as in :class:`loadtest.shopper.ShopperUser`
#: (opening a product page is left out: it builds no search statement).
TASKS = ("type", "facet", "refine", "page", "reload")
WEIGHTS = (6, 4, 2, 3, 1)


def rss_mb() -> float:
    """This process's resident memory, in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def journey(rng: random.Random, shoppers: int) -> Iterator[tuple[str, bool]]:
    """Query strings (and whether htmx asks) of ``shoppers`` wandering side by side, changing
    their filters as the load test's shoppers do (:mod:`loadtest.vocabulary`)."""
    states: list[State] = [{} for _ in range(shoppers)]
    while True:
        state = rng.choice(states)
        task = rng.choices(TASKS, weights=WEIGHTS)[0]
        if task == "type":
            words = phrase(rng)
            state.pop("page", None)
            state.pop("sort", None)
            state["q"] = words[:rng.randint(1, len(words))]  # a pause while typing
        elif task == "facet":
            toggle_facet(rng, state)
        elif task == "refine":
            refine(rng, state)
        elif task == "page":
            next_page(state)
        elif rng.random() < 0.5:
            state.clear()
        yield query_string(state), task != "reload"


async def _request(app: Any, query: str, htmx: bool) -> int:
    headers = [(b"host", b"bench.local")] + ([(b"hx-request", b"true")] if htmx else [])
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "server": ("127.0.0.1", 80),
             "client": ("127.0.0.1", 50000), "root_path": "", "headers": headers,
             "path": "/products", "raw_path": b"/products", "query_string": query.encode()}
    received = False
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never goes away
        raise AssertionError  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


async def _start(app: Any) -> asyncio.Task[Any]:
    started: list[dict[str, Any]] = []
    answered = asyncio.Event()
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "lifespan.startup"}
        await asyncio.Event().wait()
        raise AssertionError  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        started.append(message)
        answered.set()

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}},
                                   receive, send))
    await answered.wait()
    if started[0]["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"the app did not start: {started[0]}")
    return task


def shape_caches() -> dict[str, functools._CacheInfo]:
    """Every LRU cache of the catalog's query modules, by name."""
    from app.catalog import facets, filters, page_query, search, sql

    found = {}
    for module in (facets, filters, page_query, search, sql):
        for name, value in vars(module).items():
            cached = isinstance(value, functools._lru_cache_wrapper)
            if cached and value.__module__ == module.__name__:
                found[f"{module.__name__.rsplit('.', 1)[-1]}.{name}"] = value.cache_info()
    return found


async def replay(requests: int, shoppers: int, seed: int, warm: int,
                 profile: str | None, response_cache: bool = False) -> None:
    from app import create_app
    from app.data import direct

    from .cpu import BackendCpu

    os.environ.setdefault("VITRINE_CONFIG", "development")
    os.environ.setdefault("VITRINE_LOG_LEVEL", "WARNING")
    os.environ["VITRINE_RATELIMIT_ENABLED"] = "0"
    os.environ["VITRINE_RESPONSE_CACHE"] = "1" if response_cache else "0"
    os.environ["VITRINE_DB_APPLICATION_NAME"] = APPLICATION_NAME
    app = create_app()
    lifespan = await _start(app)
    print(f"{requests:,} requests of {shoppers} shoppers (seed {seed}); "
          f"RSS at start {rss_mb():.0f} MB")
    statuses: dict[int, int] = {}
    profiler = cProfile.Profile() if profile else None
    backends = BackendCpu(libpq_dsn(app.config["DATABASE_URL"]), APPLICATION_NAME)
    pg_before = backends.sample()
    started = time.process_time()
    for number, (query, htmx) in enumerate(journey(random.Random(seed), shoppers), 1):
        if number > requests:
            break
        if number == warm + 1 and profiler is not None:
            profiler.enable()
        status = await _request(app, query, htmx)
        statuses[status] = statuses.get(status, 0) + 1
        if number % 500 == 0:
            print(f"  after {number:>6,}: RSS {rss_mb():.0f} MB, statuses {statuses}")
    spent = time.process_time() - started
    pg_spent = BackendCpu.spent(pg_before, backends.sample())
    if profiler is not None and profile:
        profiler.disable()
        profiler.dump_stats(profile)
        print(f"profile of requests {warm + 1:,}-{requests:,}: {profile}")
    print(f"CPU per request (this process): {1000 * spent / requests:.2f} ms")
    print("PostgreSQL CPU per request (its backends): "
          + ("n/a (not on this machine)" if pg_spent is None
             else f"{1000 * pg_spent / requests:.2f} ms"))
    await _print_backend(app)
    print("shape caches (kept / bound, hit ratio):")
    for name, info in shape_caches().items():
        calls = info.hits + info.misses
        ratio = f"{info.hits / calls:.0%}" if calls else "-"
        print(f"  {name:32s} {info.currsize:>4} / {info.maxsize}  {ratio}")
    print(f"compiled plans of app.data.direct: {len(direct._PLANS)} (one per live statement)")
    if response_cache:
        _print_cache_hits(app)
    lifespan.cancel()


async def _print_backend(app: Any) -> None:
    """The memory and prepared statements of the backend the replay used last (the pool hands
    out the connection returned last: the one that served the requests)."""
    from sqlalchemy import text

    from app.data.database import get_database

    with app.app_context():
        engine = get_database().engine
    async with engine.connect() as connection:
        memory = await connection.scalar(
            text("SELECT sum(total_bytes) FROM pg_backend_memory_contexts"))
        prepared = await connection.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
    print(f"its backend: {int(memory or 0) / 1e6:.1f} MB of memory, {prepared} prepared "
          f"statements (kept per connection: {app.config['DB_PREPARED_STATEMENT_CACHE_SIZE']})")


def _print_cache_hits(app: Any) -> None:
    """The response cache's, the facet memo's and its answers about words' hits over the
    replay."""
    from app.catalog.facet_memo import EXTENSION_KEY
    from app.ops.metrics import FACET_MEMO, RESPONSE_CACHE, TEXT_MEMO

    counters = [("response cache", RESPONSE_CACHE, ()), ("facet memo", FACET_MEMO, ())]
    counters += [(name, TEXT_MEMO, (kind,)) for name, kind in (
        ("typed prefixes", "prefix"), ("closest words", "closest_word"),
        ("corrections probed", "finds_any"))]
    for name, counter, labels in counters:
        hits, misses = (counter.labels(*labels, o)._value.get() for o in ("hit", "miss"))
        print(f"{name}: {hits:,.0f} hits of {hits + misses:,.0f} lookups"
              f" ({hits / max(hits + misses, 1):.0%})")
    memo = app.extensions.get(EXTENSION_KEY)
    if memo is not None:
        print(f"facet memo: {len(memo)} filters kept (of {memo.max_entries})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.shopper_replay", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--shoppers", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warm", type=int, default=1000,
                        help="requests before the profile starts (with --profile)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the rest here")
    parser.add_argument("--response-cache", choices=("on", "off"), default="off",
                        help="on: as served (response cache and facet memo), off: all SQL runs")
    args = parser.parse_args(argv)
    asyncio.run(replay(args.requests, args.shoppers, args.seed, args.warm, args.profile,
                       args.response_cache == "on"))
    os._exit(0)  # the app's background tasks (change feed, pools) need no orderly goodbye


if __name__ == "__main__":
    main()
