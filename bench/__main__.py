"""``python -m bench``: the side-by-side benchmark. Prints tables of ratios (the ``suggest``
section: milliseconds of SQL, :mod:`bench.suggest_sql`); exits non-zero only
when a request failed, never because of a timing."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from . import cache_mix, dispatch, search_floor, streams, suggest_sql, workers

SECTIONS = ("dispatch", "search", "workers", "cache", "suggest", "streams")


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: sections to measure (all by default), rounds, seconds, connections."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    # Checked below, not with choices=: before Python 3.12 argparse checks an empty or default
    # list against the choices as one value, and refuses it.
    parser.add_argument("sections", nargs="*", metavar="section",
                        help=f"what to measure: {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="per measurement")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {', '.join(unknown)} (choose from {', '.join(SECTIONS)})")
    args.sections = args.sections or list(SECTIONS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    errors = 0
    with tempfile.TemporaryDirectory(prefix="vitrine-bench-") as tmp:
        log_dir = Path(tmp)
        for section in args.sections:
            if section == "dispatch":
                measured = dispatch.run(rounds=args.rounds, seconds=args.seconds,
                                        connections=args.connections, log_dir=log_dir)
                errors += sum(m.errors for m in measured)
                errors += dispatch.concurrency(log_dir)
            elif section == "search":
                measured = search_floor.run(rounds=args.rounds, seconds=args.seconds,
                                            connections=args.connections, log_dir=log_dir)
                errors += sum(m.errors for m in measured)
            elif section == "cache":
                measured = cache_mix.run(rounds=args.rounds, seconds=args.seconds,
                                         connections=args.connections, log_dir=log_dir)
                errors += sum(m.errors for m in measured)
            elif section == "workers":
                measured = workers.run(rounds=args.rounds, seconds=args.seconds,
                                       connections=args.connections, log_dir=log_dir)
                errors += sum(m.errors for m in measured)
            elif section == "streams":  # sizes: BENCH_*_STREAMS (bench/streams.py)
                errors += streams.run(rounds=args.rounds, seconds=args.seconds,
                                      connections=args.connections, log_dir=log_dir)
            elif section == "suggest":  # SQL only (EXPLAIN ANALYZE), no server
                errors += suggest_sql.run(plans=False)
    if errors:
        print(f"\n{errors} requests failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
