"""``python -m bench.catalog_sql``: the SQL behind one catalog search response, at catalog scale.

For a realistic mix of shopper requests (broad pages, facets, typed text, as-you-type prefixes,
filters, deep pages, a typo) it builds the response exactly as ``/products`` does
(:func:`app.catalog.listing.load_catalog_page`: facet counts + total + price range, one page,
highlighting, suggestions), records every SQL statement it sends, and re-runs each of them with
``EXPLAIN (ANALYZE, BUFFERS)`` in the same transaction (same planner settings) to get the
server's own planning + execution time. It prints, per query kind:

* ``sql ms``   - median / p95 of the summed server time (planning + execution) per response
* ``db ms``    - median / p95 of the time the app waited on the database (round trips included)
* ``build ms`` - median / p95 of building the response data (db + Python), no template rendering
* ``page ms``  - median / p95 of the whole endpoint in-process (Flask test client, HTML rendered)
* how each facet set was answered (precomputed / exact / sampled) and the statement count,

then, unless ``--no-plans``, the plan of the costliest statement of each kind.

Runs against ``DATABASE_URL`` or the embedded dev database (100,000 seeded products: ``flask
--app app seed --products 100000``). It only reads. Timings never fail it; it exits non-zero
only if a request errors.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from werkzeug.datastructures import MultiDict

#: (kind, query string) - what shoppers do, roughly in the proportions they do it.
MIX: list[tuple[str, str]] = [
    ("broad: whole catalog", ""),
    ("broad: department", "category=lighting"),
    ("broad: leaf + in stock, by price", "category=furniture-chairs&in_stock=1&sort=price_asc"),
    ("broad: page 20 of a department", "category=kitchen&page=20"),
    ("facet: one brand", "brand=Nordhavn"),
    ("facet: 2 brands + colour", "brand=Nordhavn&brand=Halden&colour=black"),
    ("facet: big size value", "size=M"),
    ("price range", "min_price=20&max_price=60"),
    ("text: one word", "q=lamp"),
    ("text: material word", "q=leather"),
    ("text: brand", "q=nordhavn"),
    ("text: two words", "q=oak+table"),
    ("typing: prefix", "q=brass+la"),
    ("typing: short prefix", "q=sto"),
    ("text + filters", "q=lamp&category=lighting&brand=Nordhavn&min_price=10&sort=price_asc"
                       "&page=2&per_page=24"),
    ("text: very common word", "q=made"),
    ("deep page, by price", "sort=price_desc&page=150"),
    ("typo -> suggestion", "q=lether+chiar"),
]


@dataclass
class Statement:
    sql: str
    params: Any
    seconds: float


@dataclass
class Sample:
    build: float
    db: float
    server: float
    statements: int
    #: shared-buffer blocks (hit + read) the response's statements touched: unlike time, not
    #: changed by the machine's load
    blocks: int
    #: CPU ms the server's backend spent on the request's own statements (read from
    #: /proc/<pid>/stat in clock ticks, so averaged over the runs; None if not readable)
    cpu: float | None
    sources: dict[str, str]
    costliest: tuple[float, str, str] = (0.0, "", "")
    #: (server ms, first words of the SQL) of each statement, in order
    breakdown: list[tuple[float, str]] = field(default_factory=list)


@dataclass
class Kind:
    name: str
    query: str
    samples: list[Sample] = field(default_factory=list)
    pages: list[float] = field(default_factory=list)


class Recorder:
    """Collects (statement, parameters, duration) of everything the engine sends."""

    def __init__(self) -> None:
        self.statements: list[Statement] = []
        self.active = False
        self._started: float = 0.0

    def before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._started = time.perf_counter()

    def after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.active:
            self.statements.append(
                Statement(statement, parameters, time.perf_counter() - self._started))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def _explain(session, statement: Statement) -> tuple[float, str, int]:
    """(planning + execution ms, text plan, shared blocks) of one recorded statement, run
    again."""
    head = statement.sql.lstrip()[:40].upper()
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    params = list(statement.params or ())
    if "SET_CONFIG(" in head:  # replay planner settings so later statements plan the same
        await raw.fetch(statement.sql, *params)
        return statement.seconds * 1000, "", 0
    if head.startswith("EXPLAIN"):  # the planner estimate: planning only
        return statement.seconds * 1000, "", 0
    plan_json = await raw.fetchval("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement.sql,
                                   *params)
    plan = json.loads(plan_json) if isinstance(plan_json, str) else plan_json
    total = float(plan[0].get("Planning Time", 0.0)) + float(plan[0]["Execution Time"])
    top = plan[0]["Plan"]
    blocks = int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))
    rows = await raw.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON, SUMMARY ON) "
                           + statement.sql, *params)
    return total, "\n".join(r[0] for r in rows), blocks


async def _measure(app, kind: Kind, recorder: Recorder, repeat: int) -> None:
    from app.catalog.listing import load_catalog_page
    from app.catalog.params import parse_params

    database = app.extensions["vitrine_db"]
    params = parse_params(MultiDict(_pairs(kind.query)))
    for iteration in range(repeat + 1):  # the first run warms caches and is not counted
        async with database.session() as session:
            pid = await session.scalar(text("SELECT pg_backend_pid()"))
            cpu_before = _backend_cpu(pid)
            recorder.statements.clear()
            recorder.active = True
            started = time.perf_counter()
            page = await load_catalog_page(
                session, params, rank_candidates=app.config["CATALOG_RANK_CANDIDATES"])
            build = time.perf_counter() - started
            cpu_after = _backend_cpu(pid)
            recorder.active = False
            recorded = list(recorder.statements)
            server = 0.0
            blocks = 0
            costliest = (0.0, "", "")
            breakdown: list[tuple[float, str]] = []
            # The page left its own settings (enable_bitmapscan = off...) in the transaction:
            # the replays start from the connection's settings, as the request did, and meet
            # the recorded set_config calls where the request sent them.
            await session.execute(_RESET_PLANNER)
            for statement in recorded:
                ms, plan, touched = await _explain(session, statement)
                server += ms
                blocks += touched
                breakdown.append((ms, _label(statement.sql)))
                if plan and ms > costliest[0]:
                    costliest = (ms, statement.sql, plan)
            await session.rollback()
        if iteration:
            kind.samples.append(Sample(
                build=build * 1000, db=sum(s.seconds for s in recorded) * 1000, server=server,
                statements=len(recorded), blocks=blocks,
                cpu=None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
                sources=dict(page.facets.sources),
                costliest=costliest, breakdown=breakdown))


def _backend_cpu(pid: int) -> float | None:
    """User + system CPU ms of a server process so far (a server on this machine only)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


_RESET_PLANNER = text(
    "SELECT set_config(name, reset_val, true) FROM pg_settings"
    " WHERE name LIKE 'enable%' OR name IN ('synchronize_seqscans',"
    " 'max_parallel_workers_per_gather')")


def _label(sql: str) -> str:
    """A short name for a statement in the ``--statements`` breakdown."""
    flat = " ".join(sql.split())
    if flat.startswith("EXPLAIN"):
        return "estimate (EXPLAIN)"
    if "catalog_facet_counts" in flat or "GROUPING SETS" in flat:
        return "facet counts + total + price range"
    if "ts_headline" in flat:
        return "highlight names"
    if "set_config" in flat:
        return "planner settings"
    if "FROM categories" in flat and "products" not in flat:
        return "category tree"
    if "catalog_words" in flat:
        return "suggestion words"
    if flat.startswith("SELECT EXISTS"):
        return "suggestion check"
    if "count(" in flat:
        return "count"
    if "LIMIT" in flat:
        return "page of products"
    return flat[:60]


def _pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)


def _endpoint(app, kind: Kind, repeat: int) -> None:
    client = app.test_client()
    url = "/products" + (f"?{kind.query}" if kind.query else "")
    for iteration in range(repeat + 1):
        started = time.perf_counter()
        response = client.get(url, headers={"HX-Request": "true"})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        if iteration:
            kind.pages.append(elapsed)


def _row(values: list[float]) -> str:
    return f"{statistics.median(values):7.1f} {_percentile(values, 0.95):7.1f}"


def _cpu(samples: list[Sample]) -> str:
    """Mean backend CPU ms per response (ticks are 10 ms: only a mean over runs means much)."""
    values = [s.cpu for s in samples if s.cpu is not None]
    return f"{sum(values) / len(values):.1f}" if values else "-"


def report(kinds: list[Kind], *, plans: bool, products: int, version: str,
           statements: bool = False) -> None:
    print(f"\nCatalog search SQL at {products:,} products ({version})")
    print("median / p95 in ms; sql = server planning+execution summed over the response's "
          "statements (EXPLAIN ANALYZE); blocks = shared buffers hit + read (median); cpu = the\n"
          "server backend's CPU per response (mean; unlike the times, not raised by the "
          "machine's load)\n")
    header = (f"{'query kind':36} {'sql ms':>15} {'db ms':>15} {'build ms':>15} "
              f"{'page ms':>15}  stmts  blocks  cpu ms  facet sets")
    print(header)
    print("-" * len(header))
    all_sql: list[float] = []
    all_pages: list[float] = []
    for kind in kinds:
        sql = [s.server for s in kind.samples]
        all_sql += sql
        all_pages += kind.pages
        sources = ", ".join(f"{k}={v}" for k, v in kind.samples[-1].sources.items())
        print(f"{kind.name:36} {_row(sql)} {_row([s.db for s in kind.samples])} "
              f"{_row([s.build for s in kind.samples])} {_row(kind.pages)}  "
              f"{kind.samples[-1].statements:5}  "
              f"{statistics.median(s.blocks for s in kind.samples):6.0f}  "
              f"{_cpu(kind.samples):>6}  {sources}")
    print("-" * len(header))
    print(f"{'whole mix (each kind equally often)':36} {_row(all_sql)} {'':15} {'':15} "
          f"{_row(all_pages)}")
    cpus = [s.cpu for kind in kinds for s in kind.samples if s.cpu is not None]
    if cpus:
        print(f"{'server backend CPU per response':36} {sum(cpus) / len(cpus):.2f} ms (mean over"
              f" {len(cpus)} responses)")
    if statements:
        print("\nServer ms per statement (median over the runs), in the order they are sent:")
        for kind in kinds:
            columns = zip(*(s.breakdown for s in kind.samples), strict=False)
            parts = [f"{label} {statistics.median(ms for ms, _ in column):.1f}"
                     for column in columns for label in [column[0][1]]]
            print(f"  {kind.name:34} " + "; ".join(parts))
    if plans:
        print("\nPlans of the costliest statement per kind (last run):")
        for kind in kinds:
            ms, sql, plan = kind.samples[-1].costliest
            print(f"\n=== {kind.name}  (/products?{kind.query})  {ms:.1f} ms")
            print(plan)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.catalog_sql",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="measured runs per kind")
    parser.add_argument("--no-plans", action="store_true", help="do not print plans")
    parser.add_argument("--only", help="only kinds whose name contains this text")
    parser.add_argument("--mix", choices=("kinds", "search"), default="kinds",
                        help="kinds: the query kinds above (default); search: the 30 URLs of"
                             " `python -m bench search` (bench.search_floor.MIX), one kind each")
    parser.add_argument("--statements", action="store_true",
                        help="also print each statement's server time per kind")
    args = parser.parse_args(argv)

    from app import create_app

    app = create_app(LOG_LEVEL="WARNING", RATELIMIT_ENABLED=False)
    logging.getLogger("vitrine").setLevel(logging.WARNING)
    recorder = Recorder()
    engine_ready = False
    if args.mix == "search":
        from .search_floor import MIX as SEARCH_MIX

        mix = [(query or "(no parameters)", query) for query in SEARCH_MIX]
    else:
        mix = MIX
    kinds = [Kind(name, query) for name, query in mix
             if not args.only or args.only.lower() in name.lower()]

    async def setup() -> tuple[int, str]:
        nonlocal engine_ready
        database = app.extensions["vitrine_db"]
        engine = database.engine
        if not engine_ready:
            event.listen(engine.sync_engine, "before_cursor_execute", recorder.before)
            event.listen(engine.sync_engine, "after_cursor_execute", recorder.after)
            engine_ready = True
        async with database.session() as session:
            count = await session.scalar(text("SELECT count(*) FROM products"))
            version = await session.scalar(text("SHOW server_version"))
        return int(count), str(version)

    try:
        products, version = app.run_blocking(setup())
        if products < 1000:
            print(f"only {products} products in this database; seed 100,000 first "
                  "(flask --app app seed --products 100000)", file=sys.stderr)
        for kind in kinds:
            print(f"measuring {kind.name} ...", file=sys.stderr)
            app.run_blocking(_measure(app, kind, recorder, args.repeat))
            _endpoint(app, kind, args.repeat)
        report(kinds, plans=not args.no_plans, products=products, version=f"PostgreSQL {version}",
               statements=args.statements)
    except Exception as error:  # noqa: BLE001 - report, exit non-zero
        print(f"benchmark failed: {error!r}", file=sys.stderr)
        return 1
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
