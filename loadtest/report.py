"""The summary printed after a run, from Locust's CSV statistics."""

from __future__ import annotations

import csv
from pathlib import Path


def read_stats(prefix: Path) -> list[dict[str, str]]:
    path = Path(f"{prefix}_stats.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def read_failures(prefix: Path) -> list[dict[str, str]]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _ms(value: str) -> str:
    return "-" if value in ("", "N/A") else f"{float(value):.0f}"


def table(rows: list[dict[str, str]]) -> list[str]:
    """requests/s, p50/p95/p99 and errors per endpoint, then the aggregate line."""
    out = [f"{'endpoint':<48} {'reqs':>7} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}"
           f" {'errors':>6}"]
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "all endpoints"
        label = f"{row['Type']} {name}" if row["Name"] != "Aggregated" else name
        if row["Name"] == "Aggregated":
            out.append("-" * 90)
        out.append(f"{label[:48]:<48} {row['Request Count']:>7} "
                   f"{float(row['Requests/s']):>7.1f} {_ms(row['50%']):>6} {_ms(row['95%']):>6}"
                   f" {_ms(row['99%']):>6} {row['Failure Count']:>6}")
    out.append("(latencies in ms, from Locust: the client's view, including its own queueing)")
    return out


def totals(rows: list[dict[str, str]]) -> tuple[int, int, float]:
    """(requests, errors, requests/s) over all endpoints."""
    for row in rows:
        if row["Name"] == "Aggregated":
            return (int(row["Request Count"]), int(row["Failure Count"]),
                    float(row["Requests/s"]))
    return 0, 0, 0.0
