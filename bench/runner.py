"""Measure several server variants side by side: all started at once, measured in interleaved
rounds (A B C, A B C, ...) so that machine noise falls on every variant alike."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass
class Measured:
    variant: Variant
    runs: list[WrkResult]

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
    try:
        for variant in variants:
            servers.append(start_server(variant.app, log_dir, workers=variant.workers,
                                        env=variant.env, config=BENCH_CONFIG,
                                        ready_path=variant.ready_path))
        for variant, server in zip(variants, servers, strict=True):  # warm-up, not counted
            run_wrk(server.url + variant.path, connections=connections, seconds=1,
                    headers=variant.headers, script=variant.script,
                    script_args=variant.script_args)
        results: dict[str, list[WrkResult]] = {variant.name: [] for variant in variants}
        for _ in range(rounds):
            for variant, server in zip(variants, servers, strict=True):
                results[variant.name].append(
                    run_wrk(server.url + variant.path, connections=connections, seconds=seconds,
                            headers=variant.headers, script=variant.script,
                            script_args=variant.script_args)
                )
        return [Measured(variant, results[variant.name]) for variant in variants]
    finally:
        for server in servers:
            server.stop()


#: The catalog size the targets are set for.
TARGET_PRODUCTS = 100_000


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
    print(f"{'variant':<44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'ratio':>7}")
    for m in measured:
        print(f"{m.variant.name:<44} {m.rps:>9.0f} {m.p50:>8.2f} {m.p99:>8.2f} {m.errors:>7}"
              f" {m.rps / base:>6.2f}x")
    print(f"(ratio: against {baseline}; median of the rounds)")
