"""After the run: nothing was lost. The ledger (what the load was told) against the database.

* Every save answered 200 is in ``products`` and in ``product_revisions``: a revision by that
  account, at the version the response gave, recording the values that were sent; and it was
  made on top of the version the editor had seen (``sent_version + 1``): no lost update.
* Every conflict was genuine and answered as designed (409 for the editor, 412 for the API):
  someone else's revision had moved the product past the version that was sent.
* Nothing else: no other status for a save, and no revision by a load account that the load was
  not told about (a conflict that wrote anyway, a save that failed but committed).
* The final rows hold the last saved value of every field the load changed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from app.data.urls import libpq_dsn

from .ledger import CONFLICT_STATUS

SOURCE = {"editor": "inline", "api": "api"}


@dataclass
class Verdict:
    saved: int = 0
    unchanged: int = 0  # 200 for a save that changed nothing (no new version, no revision)
    conflicts: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)
        elif len(self.problems) == 50:
            self.problems.append("... (more problems not shown)")


def _same(field_name: str, expected: Any, stored: Any) -> bool:
    if stored is None:
        return expected is None
    if field_name == "price":
        return Decimal(str(expected)) == Decimal(str(stored))
    return str(expected) == str(stored)


def verify(entries: list[dict[str, Any]], database_url: str, user_ids: dict[str, int],
           since: datetime) -> Verdict:
    verdict = Verdict()
    with psycopg.connect(libpq_dsn(database_url), row_factory=dict_row) as connection:
        revisions = connection.execute(
            "SELECT product_id, version, user_id, source, changes FROM product_revisions"
            " WHERE created_at >= %s AND user_id = ANY(%s)",
            (since, list(user_ids.values()))).fetchall()
        touched = sorted({e["product_id"] for e in entries})
        products = {row["id"]: row for row in connection.execute(
            "SELECT id, version, price, stock FROM products WHERE id = ANY(%s)",
            (touched,)).fetchall()}
        versions_reached = {row["product_id"]: row["top"] for row in connection.execute(
            "SELECT product_id, max(version) AS top FROM product_revisions"
            " WHERE product_id = ANY(%s) GROUP BY product_id", (touched,)).fetchall()}
    by_key = {(r["product_id"], r["version"]): r for r in revisions}
    claimed: set[tuple[int, int]] = set()
    last_value: dict[tuple[int, str], tuple[int, Any]] = {}

    for entry in entries:
        via, status, pid = entry["via"], entry["status"], entry["product_id"]
        sent, version = entry["sent_version"], entry["version"]
        where = f"{via} {entry['user']} product {pid} (sent version {sent})"
        if status == CONFLICT_STATUS[via]:
            verdict.conflicts += 1
            if versions_reached.get(pid, 0) <= sent:
                verdict.problem(f"{where}: answered {status} but nobody had saved a newer version")
            continue
        if status != 200:
            verdict.problem(f"{where}: answered {status}, expected 200 or {CONFLICT_STATUS[via]}")
            continue
        if version is None:
            verdict.problem(f"{where}: 200 without the new version in the response")
            continue
        if version == sent:
            verdict.unchanged += 1
            continue
        verdict.saved += 1
        if version != sent + 1:
            verdict.problem(f"{where}: saved as version {version}, not on top of {sent}")
        revision = by_key.get((pid, version))
        if revision is None:
            verdict.problem(f"{where}: reported saved as version {version}, no such revision")
            continue
        claimed.add((pid, version))
        if revision["user_id"] != user_ids.get(entry["user"]):
            verdict.problem(f"{where}: revision {version} is not by {entry['user']}")
        if revision["source"] != SOURCE[via]:
            verdict.problem(f"{where}: revision {version} has source {revision['source']}")
        for name, value in entry["values"].items():
            change = (revision["changes"] or {}).get(name)
            if change is None or not _same(name, value, change.get("after")):
                verdict.problem(f"{where}: revision {version} does not record {name}={value}")
            if last_value.get((pid, name), (0, None))[0] < version:
                last_value[(pid, name)] = (version, value)

    for key in sorted(set(by_key) - claimed):
        verdict.problem(f"product {key[0]} version {key[1]}: written by a load account, but the "
                        "load was never told it was saved")
    latest: dict[int, int] = defaultdict(int)
    for (pid, version) in claimed:
        latest[pid] = max(latest[pid], version)
    for pid, version in latest.items():
        row = products.get(pid)
        if row is None or row["version"] != version:
            verdict.problem(f"product {pid}: at version {row and row['version']}, the last save "
                            f"the load was told about is {version}")
    for (pid, name), (_version, value) in last_value.items():
        row = products.get(pid)
        if row is not None and not _same(name, value, row[name]):
            verdict.problem(f"product {pid}: {name} is {row[name]}, last saved value was {value}")
    return verdict
