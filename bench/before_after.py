"""``python -m bench.before_after REV``: this tree against an earlier commit, side by side.

Both versions serve the same database (``DATABASE_URL``, or the embedded dev database; see below
for an earlier schema) with one worker each, measured in interleaved wrk rounds, so the
machine's noise falls on both alike. Next to requests/s it reports the server's CPU time per
request (its process tree, from procfs) and that of the PostgreSQL backends serving it (by
``application_name``, when the database runs on this machine): what a change to the per-request
work moves. The earlier commit is checked out in a temporary git worktree and removed
afterwards. Exits non-zero only when a request failed.

* **The search mix** is the search bench's 30 URLs (:data:`.search_floor.MIX`), cycled by
  ``bench/search_mix.lua``: the workload issue 14's figures are set on.
* **The response cache** is off in both by default (``--response-cache on`` to keep it), so
  both run their SQL for every request: a commit from before the cache is compared like for
  like, and the 30 repeating URLs are not all cache hits.
* **A commit with an earlier schema** cannot serve today's database: give it its own
  (``--earlier-database-url``), made and seeded by that commit - in its worktree,
  ``flask --app app db upgrade`` and ``flask --app app seed --products 100000`` with
  ``DATABASE_URL`` set to it. Its seed may differ from today's in its words, so compare the
  mix's figures, not single URLs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.data.urls import libpq_dsn

from .cpu import BackendCpu, cpu_seconds
from .runner import BENCH_CONFIG, catalog_note, database_dsn
from .search_floor import HX, LUA, paths
from .servers import ROOT, Server, start_server
from .wrk import WrkResult, run_wrk


@dataclass(frozen=True)
class Endpoint:
    """What is measured: a path, or (``mix``) the search bench's 30 URLs from that path."""

    name: str
    path: str
    headers: dict[str, str]
    mix: bool = False


ENDPOINTS = (
    Endpoint("healthz", "/healthz", {}),
    Endpoint("search partial", "/products?q=lamp&category=lighting", HX),
    Endpoint("search mix", "/products", HX, mix=True),
    Endpoint("api list", "/api/v1/products?per_page=24", {}),
)


@dataclass
class Sample:
    rps: float
    cpu_ms: float
    #: the PostgreSQL backends' CPU per request; None when they are not on this machine
    pg_cpu_ms: float | None
    errors: int


@dataclass
class Served:
    """One version's server and the PostgreSQL backends it connects as."""

    server: Server
    backends: BackendCpu


def serve(root: Path, log_dir: Path, *, application_name: str, database_url: str | None,
          response_cache: bool) -> Server:
    """One production-config worker of the app in ``root`` (its own code on ``PYTHONPATH``),
    on ``database_url`` if given (else the environment's)."""
    env = {"PYTHONPATH": str(root), "VITRINE_CONFIG": "production",
           "SECRET_KEY": "bench-only-" + "x" * 40, "VITRINE_INSECURE_COOKIES": "1",
           "VITRINE_RATELIMIT_ENABLED": "0", "VITRINE_DB_APPLICATION_NAME": application_name,
           "VITRINE_RESPONSE_CACHE": "1" if response_cache else "0"}
    if database_url:
        env["DATABASE_URL"] = database_url
    return start_server("app:create_app()", log_dir / root.name, env=env, config=BENCH_CONFIG,
                        cwd=root)


def _wrk(server: Server, endpoint: Endpoint, *, mix_file: Path, connections: int,
         seconds: int) -> WrkResult:
    if endpoint.mix:
        return run_wrk(server.url + endpoint.path, connections=connections, seconds=seconds,
                       headers=endpoint.headers, script=LUA, script_args=[str(mix_file)])
    return run_wrk(server.url + endpoint.path, connections=connections, seconds=seconds,
                   headers=endpoint.headers)


def measure(served: dict[str, Served], *, rounds: int, seconds: int, connections: int,
            mix_file: Path) -> dict[tuple[str, str], list[Sample]]:
    samples: dict[tuple[str, str], list[Sample]] = {}
    for version in served.values():  # warm-up, not counted
        for endpoint in ENDPOINTS:
            _wrk(version.server, endpoint, mix_file=mix_file, connections=connections,
                 seconds=1)
    for _ in range(rounds):
        for endpoint in ENDPOINTS:
            for name, version in served.items():
                before, pg_before = cpu_seconds(version.server.pid), version.backends.sample()
                result = _wrk(version.server, endpoint, mix_file=mix_file,
                              connections=connections, seconds=seconds)
                after, pg_after = cpu_seconds(version.server.pid), version.backends.sample()
                requests = max(result.requests_per_second * seconds, 1)
                pg_spent = BackendCpu.spent(pg_before, pg_after)
                samples.setdefault((endpoint.name, name), []).append(Sample(
                    result.requests_per_second, (after - before) / requests * 1000,
                    None if pg_spent is None else pg_spent / requests * 1000, result.errors))
    return samples


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: the earlier commit, its database, the cache, rounds and seconds."""
    parser = argparse.ArgumentParser(prog="python -m bench.before_after", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rev", help="the earlier commit (e.g. HEAD~3 or a hash)")
    parser.add_argument("--earlier-database-url", metavar="URL",
                        help="the earlier commit's own database (default: the same as this"
                             " tree's), for a commit with an earlier schema")
    parser.add_argument("--response-cache", choices=("off", "on"), default="off",
                        help="the shopper response cache in both versions (default: off)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="per measurement")
    parser.add_argument("--connections", type=int, default=16)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    print(f"catalog: {catalog_note()}"
          + (" (the earlier commit: its own database)" if args.earlier_database_url else ""))
    print(f"response cache: {args.response_cache} in both")
    dsn = database_dsn()
    with tempfile.TemporaryDirectory(prefix="vitrine-before-after-") as tmp:
        earlier = Path(tmp) / "earlier"
        mix_file = Path(tmp) / "search-mix.txt"
        mix_file.write_text("\n".join(paths()) + "\n")
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(earlier), args.rev],
                       cwd=ROOT, check=True)
        served: dict[str, Served] = {}
        try:
            for name, root, database_url in ((args.rev, earlier, args.earlier_database_url),
                                             ("this tree", ROOT, None)):
                application_name = f"vitrine-before-after-{len(served)}"
                served[name] = Served(
                    serve(root, Path(tmp), application_name=application_name,
                          database_url=database_url, response_cache=args.response_cache == "on"),
                    # its backends, asked of its own server (not on this machine: n/a)
                    BackendCpu(libpq_dsn(database_url) if database_url else dsn,
                               application_name))
            samples = measure(served, rounds=args.rounds, seconds=args.seconds,
                              connections=args.connections, mix_file=mix_file)
        finally:
            for version in served.values():
                version.server.stop()
            subprocess.run(["git", "worktree", "remove", "--force", str(earlier)], cwd=ROOT,
                           check=False)
    print(f"\n{'endpoint':<16} {'variant':<14} {'req/s':>8} {'CPU ms/req':>11} {'pg ms/req':>10}"
          f" {'errors':>7} {'ratio':>6}")
    errors = 0
    for endpoint in ENDPOINTS:
        base = statistics.median(s.rps for s in samples[(endpoint.name, args.rev)])
        for name in served:
            rows = samples[(endpoint.name, name)]
            rps = statistics.median(s.rps for s in rows)
            cpu = statistics.median(s.cpu_ms for s in rows)
            known = [s.pg_cpu_ms for s in rows if s.pg_cpu_ms is not None]
            pg = f"{statistics.median(known):>10.2f}" if known else f"{'n/a':>10}"
            failed = sum(s.errors for s in rows)
            errors += failed
            print(f"{endpoint.name:<16} {name:<14} {rps:>8.0f} {cpu:>11.3f} {pg} {failed:>7}"
                  f" {rps / base:>5.2f}x")
    print("(ratio: requests/s against the earlier commit; medians of the rounds; pg ms/req:"
          " its PostgreSQL backends' CPU, n/a when the database is not on this machine)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
