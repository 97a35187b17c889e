"""``python -m bench.before_after REV``: this tree against an earlier commit, side by side.

Both versions serve the same database (``DATABASE_URL``, or the embedded dev database) with one
worker each, measured in interleaved wrk rounds, so the machine's noise falls on both alike. Next
to requests/s it reports the server's CPU time per request (its process tree, from procfs),
which is what a change to the per-request work moves. The earlier commit is checked out in a
temporary git worktree and removed afterwards. Exits non-zero only when a request failed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .cpu import cpu_seconds
from .runner import BENCH_CONFIG, catalog_note
from .servers import ROOT, Server, start_server
from .wrk import run_wrk

#: What is measured: name, path, request headers.
ENDPOINTS = (
    ("healthz", "/healthz", {}),
    ("search partial", "/products?q=lamp&category=lighting", {"HX-Request": "true"}),
    ("api list", "/api/v1/products?per_page=24", {}),
)


@dataclass
class Sample:
    rps: float
    cpu_ms: float
    errors: int


def serve(root: Path, log_dir: Path) -> Server:
    """One production-config worker of the app in ``root`` (its own code on ``PYTHONPATH``)."""
    env = {"PYTHONPATH": str(root), "VITRINE_CONFIG": "production",
           "SECRET_KEY": "bench-only-" + "x" * 40, "VITRINE_INSECURE_COOKIES": "1",
           "VITRINE_RATELIMIT_ENABLED": "0"}
    return start_server("app:create_app()", log_dir / root.name, env=env, config=BENCH_CONFIG,
                        cwd=root)


def measure(servers: dict[str, Server], *, rounds: int, seconds: int,
            connections: int) -> dict[tuple[str, str], list[Sample]]:
    samples: dict[tuple[str, str], list[Sample]] = {}
    for server in servers.values():  # warm-up, not counted
        for _, path, headers in ENDPOINTS:
            run_wrk(server.url + path, connections=connections, seconds=1, headers=headers)
    for _ in range(rounds):
        for endpoint, path, headers in ENDPOINTS:
            for name, server in servers.items():
                before = cpu_seconds(server.pid)
                result = run_wrk(server.url + path, connections=connections, seconds=seconds,
                                 headers=headers)
                requests = max(result.requests_per_second * seconds, 1)
                samples.setdefault((endpoint, name), []).append(Sample(
                    result.requests_per_second,
                    (cpu_seconds(server.pid) - before) / requests * 1000, result.errors))
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.before_after", description=__doc__)
    parser.add_argument("rev", help="the earlier commit (e.g. HEAD~3 or a hash)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="per measurement")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    print(f"catalog: {catalog_note()}")
    with tempfile.TemporaryDirectory(prefix="vitrine-before-after-") as tmp:
        earlier = Path(tmp) / "earlier"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(earlier), args.rev],
                       cwd=ROOT, check=True)
        servers: dict[str, Server] = {}
        try:
            servers[args.rev] = serve(earlier, Path(tmp))
            servers["this tree"] = serve(ROOT, Path(tmp))
            samples = measure(servers, rounds=args.rounds, seconds=args.seconds,
                              connections=args.connections)
        finally:
            for server in servers.values():
                server.stop()
            subprocess.run(["git", "worktree", "remove", "--force", str(earlier)], cwd=ROOT,
                           check=False)
    print(f"\n{'endpoint':<16} {'variant':<14} {'req/s':>8} {'CPU ms/req':>11} {'errors':>7}"
          f" {'ratio':>6}")
    errors = 0
    for endpoint, _, _ in ENDPOINTS:
        base = statistics.median(s.rps for s in samples[(endpoint, args.rev)])
        for name in servers:
            rows = samples[(endpoint, name)]
            rps = statistics.median(s.rps for s in rows)
            cpu = statistics.median(s.cpu_ms for s in rows)
            failed = sum(s.errors for s in rows)
            errors += failed
            print(f"{endpoint:<16} {name:<14} {rps:>8.0f} {cpu:>11.3f} {failed:>7}"
                  f" {rps / base:>5.2f}x")
    print("(ratio: against the earlier commit; medians of the rounds)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
