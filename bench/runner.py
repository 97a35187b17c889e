"""Measure several server variants side by side: all started at once, measured in interleaved
rounds (A B C, A B C, ...) so that machine noise falls on every variant alike.

Next to requests/s and latency, each run records the CPU time per request of the server's
process tree and of the PostgreSQL backends serving it (:mod:`.cpu`: each variant connects with
its own ``application_name``)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from .cpu import BackendCpu, application_name, cpu_seconds
from .servers import ROOT, Server, start_server
from .wrk import WrkResult, run_wrk

BENCH_CONFIG = ROOT / "bench" / "hypercorn-bench.toml"


@dataclass
class Variant:
    name: str
    app: str
    path: str = "/healthz"
    workers: int = 1
    env: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/healthz"
    script: str | None = None  # a wrk Lua script (e.g. varied URLs), with its arguments
    script_args: list[str] = field(default_factory=list)
    scrape_metrics: bool = False  # read /metrics before the first and after the last round


@dataclass
class Measured:
    variant: Variant
    runs: list[WrkResult]
    #: per run: server CPU ms per request, PostgreSQL backends' CPU ms per request (None: n/a)
    cpu_ms: list[float] = field(default_factory=list)
    pg_cpu_ms: list[float | None] = field(default_factory=list)
    #: /metrics before the first and after the last measured round (``scrape_metrics``)
    metrics: list[str] = field(default_factory=list)

    @property
    def cpu_per_request(self) -> float:
        return statistics.median(self.cpu_ms) if self.cpu_ms else float("nan")

    @property
    def pg_cpu_per_request(self) -> float | None:
        known = [value for value in self.pg_cpu_ms if value is not None]
        return statistics.median(known) if known else None

    @property
    def rps(self) -> float:
        return statistics.median(run.requests_per_second for run in self.runs)

    @property
    def p50(self) -> float:
        return statistics.median(run.p50_ms for run in self.runs)

    @property
    def p99(self) -> float:
        return statistics.median(run.p99_ms for run in self.runs)

    @property
    def errors(self) -> int:
        return sum(run.errors for run in self.runs)


def measure(variants: list[Variant], *, rounds: int, seconds: int, connections: int,
            log_dir: Path) -> list[Measured]:
    servers: list[Server] = []
    dsn = database_dsn()
    backends = [BackendCpu(dsn, application_name(index)) for index in range(len(variants))]
    try:
        for index, variant in enumerate(variants):
            env = {"VITRINE_DB_APPLICATION_NAME": application_name(index), **variant.env}
            servers.append(start_server(variant.app, log_dir, workers=variant.workers,
                                        env=env, config=BENCH_CONFIG,
                                        ready_path=variant.ready_path))
        for variant, server in zip(variants, servers, strict=True):  # warm-up, not counted
            run_wrk(server.url + variant.path, connections=connections, seconds=1,
                    headers=variant.headers, script=variant.script,
                    script_args=variant.script_args)
        measured = [Measured(variant, []) for variant in variants]
        _scrape(variants, servers, measured)
        for _ in range(rounds):
            for variant, server, backend, result in zip(variants, servers, backends, measured,
                                                        strict=True):
                cpu_before, pg_before = cpu_seconds(server.pid), backend.sample()
                run = run_wrk(server.url + variant.path, connections=connections,
                              seconds=seconds, headers=variant.headers, script=variant.script,
                              script_args=variant.script_args)
                cpu_after, pg_after = cpu_seconds(server.pid), backend.sample()
                requests = max(run.requests, 1)
                pg_spent = BackendCpu.spent(pg_before, pg_after)
                result.runs.append(run)
                result.cpu_ms.append((cpu_after - cpu_before) / requests * 1000)
                result.pg_cpu_ms.append(None if pg_spent is None else pg_spent / requests * 1000)
        _scrape(variants, servers, measured)
        return measured
    finally:
        for server in servers:
            server.stop()


#: The catalog size the targets are set for.
TARGET_PRODUCTS = 100_000


def _scrape(variants: list[Variant], servers: list[Server], measured: list[Measured]) -> None:
    import httpx

    for variant, server, result in zip(variants, servers, measured, strict=True):
        if variant.scrape_metrics:
            result.metrics.append(httpx.get(server.url + "/metrics", timeout=10).text)


def database_dsn() -> str:
    """The libpq DSN of the database the benchmarked app uses."""
    from app import create_app
    from app.data.urls import libpq_dsn

    app = create_app(LOG_LEVEL="WARNING")
    try:
        return libpq_dsn(app.config["DATABASE_URL"])
    finally:
        app.close()


def catalog_note() -> str:
    """How many products the benchmarked app's database holds (``DATABASE_URL``, or the
    embedded dev database), and a hint when that is not the size the targets are set for."""
    import psycopg

    from app import create_app
    from app.data.urls import libpq_dsn

    app = create_app(LOG_LEVEL="WARNING")
    try:
        with psycopg.connect(libpq_dsn(app.config["DATABASE_URL"])) as connection:
            count = connection.execute("SELECT count(*) FROM products").fetchone()[0]
    finally:
        app.close()
    note = f"{count:,} products"
    if count < TARGET_PRODUCTS:
        note += (f"; the targets are for {TARGET_PRODUCTS:,}: "
                 f"make seed PRODUCTS={TARGET_PRODUCTS}")
    return note


def print_table(title: str, measured: list[Measured], baseline: str) -> None:
    base = next(m for m in measured if m.variant.name == baseline).rps
    print(f"\n{title}")
    print(f"{'variant':<44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>7}"
          f" {'cpu/req':>8} {'pg/req':>8}")
    for m in measured:
        pg = m.pg_cpu_per_request
        pg_text = "n/a" if pg is None else f"{pg:.2f}"
        print(f"{m.variant.name:<44} {m.rps:>9.0f} {m.p50:>8.2f} {m.p99:>8.2f} {m.errors:>7}"
              f" {m.rps / base:>6.2f}x {m.cpu_per_request:>8.2f} {pg_text:>8}")
    print(f"(ratio: against {baseline}; median of the rounds; cpu/req: the server's CPU ms per"
          " request, pg/req: its PostgreSQL backends' CPU ms per request)")
