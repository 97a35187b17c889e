"""After the run: nothing was lost and nothing was applied twice. The ledger (what the load was
told) against the database.

Saves (the editor's row saves and stock edits, API PATCHes):

* Every save answered 200 is in ``products`` and in ``product_revisions``: a revision by that
  account, at the version the response gave, recording the values that were sent - or, for an
  editor save merged with a colleague who had set the same value, no change to record (the
  field already held it). An API save is made on top of the version it sent (``If-Match``:
  strict, ``sent_version + 1``). An editor save from an older version is merged field by
  field: it may land later, but never over a colleague's change to a field it also changed
  (that must have been a 409): no lost update, per field.
* Every conflict was genuine and answered as designed (409 for the editor, 412 for the API):
  for the API someone had moved the product past the version sent; for the editor someone
  had changed one of the same fields to another value since.
* A command key sent twice (the load double-submits some saves and bulk actions) was applied
  once: every answer with that key gives the same status and version, and at most one of them
  is not a replay.

Bulk actions: their revisions (source ``bulk``) by the load add up to the products the
acknowledged bulk commands said they changed, counted once per key.

Image uploads: each acknowledged one (201, once per key) is exactly one ``product_images`` row
with its unique alt text on that product, and exactly one revision (source ``images``) by that
account that added that alt text; a refusal is only the product being full (422 with
:data:`IMAGES_PER_PRODUCT` images).

Imports (an editor imports a CSV file during the load, :mod:`.importer`): every revision of
source ``import`` by the importer is a row of its file - a creation it asked for, or a change to
a product recording exactly the file's values, on top of every colleague's change since the
file's version without reverting one of theirs (no lost update, per field) - and their number is
what the job's outcome says it changed; every conflict the job reported (``job_failures``) is
genuine: someone changed that field since the file's version, to another value.

Nothing else: no other status, and no revision by a load account that the load was not told
about. Finally, per field: the final row holds the value of the last change to that field,
and that change was one the load was told about.
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
#: The app's default VITRINE_IMAGES_PER_PRODUCT: an upload to a full product is refused (422).
IMAGES_PER_PRODUCT = 12
UNKNOWN = object()
NEWEST = 1 << 31


@dataclass
class Verdict:
    saved: int = 0
    unchanged: int = 0  # 200 for a save that changed nothing (no new revision of its own)
    merged: int = 0  # editor saves from an older version merged with colleagues' changes
    conflicts: int = 0
    repeats: int = 0  # answers to a command key sent again (replays, not applied again)
    bulk: int = 0  # bulk commands acknowledged (distinct keys)
    images: int = 0  # image uploads acknowledged (distinct keys)
    imported: int = 0  # products an import created or changed
    import_conflicts: int = 0
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
    if stored is None or expected is None:
        return stored is None and expected is None
    if field_name == "price":
        return Decimal(str(expected)) == Decimal(str(stored))
    return str(expected) == str(stored)


def _current(row: dict[str, Any], name: str) -> Any:
    if name.startswith("attributes."):
        return (row.get("attributes") or {}).get(name.removeprefix("attributes."))
    return row.get(name)


class History:
    """Every revision of the touched products since the run started, and the rows now: the
    value of a field at any version of the run (undoing later revisions from the row)."""

    def __init__(self, revisions: list[dict[str, Any]], products: dict[int, dict[str, Any]]):
        self.products = products
        self.by_product: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for revision in sorted(revisions, key=lambda r: r["version"]):
            self.by_product[revision["product_id"]].append(revision)
        self.at = {(r["product_id"], r["version"]): r for r in revisions}

    def value(self, pid: int, name: str, version: int) -> Any:
        row = self.products.get(pid)
        if row is None:
            return UNKNOWN
        value = _current(row, name)
        for revision in reversed(self.by_product[pid]):
            if revision["version"] <= version:
                break
            change = (revision["changes"] or {}).get(name)
            if change is not None:
                value = change.get("before")
        return value

    def changed_between(self, pid: int, name: str, after: int, before: int) -> list[dict]:
        """Revisions with ``after < version < before`` that changed ``name``."""
        return [r for r in self.by_product[pid] if after < r["version"] < before
                and name in (r["changes"] or {})]

    def top(self, pid: int) -> int:
        revisions = self.by_product.get(pid)
        return revisions[-1]["version"] if revisions else 0


def _image_rows(database_url: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """For the uploads in the ledger: how many rows carry each alt text, and each product's
    image count now."""
    alts = [e["values"]["images.alt"] for e in entries if e.get("kind") == "image"]
    pids = sorted({e["product_id"] for e in entries if e.get("kind") == "image"})
    with psycopg.connect(libpq_dsn(database_url), row_factory=dict_row) as connection:
        by_alt = {row["alt"]: row["n"] for row in connection.execute(
            "SELECT alt, count(*) AS n FROM product_images WHERE alt = ANY(%s) GROUP BY alt",
            (alts,)).fetchall()}
        counts = {row["product_id"]: row["n"] for row in connection.execute(
            "SELECT product_id, count(*) AS n FROM product_images WHERE product_id = ANY(%s)"
            " GROUP BY product_id", (pids,)).fetchall()}
    return {"by_alt": by_alt, "counts": counts}


def _check_image(entry: dict[str, Any], user: int | None, images: dict[str, Any],
                 revisions: list[dict[str, Any]], claimed: set[tuple[int, int]],
                 verdict: Verdict) -> None:
    pid, status, alt = entry["product_id"], entry["status"], entry["values"]["images.alt"]
    where = f"image upload by {entry['user']} to product {pid} ({alt})"
    if status == 422 and images["counts"].get(pid, 0) >= IMAGES_PER_PRODUCT:
        return  # the product was full
    if status != 201:
        verdict.problem(f"{where}: answered {status}, expected 201")
        return
    verdict.images += 1
    if images["by_alt"].get(alt, 0) != 1:
        verdict.problem(f"{where}: {images['by_alt'].get(alt, 0)} image rows with its alt text")
    added = [r for r in revisions if r["product_id"] == pid and r["source"] == "images"
             and alt in ((r["changes"] or {}).get("images") or {}).get("after", [])
             and alt not in (((r["changes"] or {}).get("images") or {}).get("before") or [])]
    if len(added) != 1 or added[0]["user_id"] != user:
        verdict.problem(f"{where}: {len(added)} revisions added it (expected one, by "
                        f"{entry['user']})")
        return
    claimed.add((pid, added[0]["version"]))


def _load(database_url: str, entries: list[dict[str, Any]], user_ids: dict[str, int],
          since: datetime) -> tuple[History, list[dict[str, Any]]]:
    touched = sorted({e["product_id"] for e in entries if "product_id" in e}
                     | {pid for e in entries for pid in e.get("product_ids", ())})
    with psycopg.connect(libpq_dsn(database_url), row_factory=dict_row) as connection:
        revisions = connection.execute(
            "SELECT product_id, version, user_id, source, changes FROM product_revisions"
            " WHERE created_at >= %s AND (product_id = ANY(%s) OR user_id = ANY(%s))",
            (since, touched, list(user_ids.values()))).fetchall()
        products = {row["id"]: row for row in connection.execute(
            "SELECT id, version, price, stock, is_active, name, attributes FROM products"
            " WHERE id = ANY(%s)", (sorted({r["product_id"] for r in revisions} | set(touched)),)
        ).fetchall()}
    return History(revisions, products), revisions


def _check_repeats(entries: list[dict[str, Any]], verdict: Verdict) -> list[dict[str, Any]]:
    """One entry per command key (the first answer); repeats must agree with it."""
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    unique = []
    for entry in entries:
        key = entry.get("key")
        if key is None:
            unique.append(entry)
            continue
        if not by_key[key]:
            unique.append(entry)
        by_key[key].append(entry)
    for key, sent in by_key.items():
        if len(sent) < 2:
            continue
        verdict.repeats += len(sent) - 1
        where = f"command key {key[:8]}… ({sent[0].get('kind', 'save')})"
        if len({(e["status"], e.get("version"), e.get("changed")) for e in sent}) > 1:
            verdict.problem(f"{where}: sent {len(sent)} times, answered differently: "
                            f"{[(e['status'], e.get('version')) for e in sent]}")
        applied = [e for e in sent if e["status"] == 200 and not e.get("replayed")]
        if len(applied) > 1:
            verdict.problem(f"{where}: applied {len(applied)} times (no replay)")
    return unique


def _check_import(entry: dict[str, Any], history: History, revisions: list[dict[str, Any]],
                  user_ids: dict[str, int], database_url: str,
                  verdict: Verdict) -> set[tuple[int, int]]:
    """Account for one import job's changes and conflicts (see the module docstring)."""
    user = user_ids.get(entry["user"])
    asked: dict[str, dict[str, Any]] = entry["rows"]
    by_id = {row["id"]: slug for slug, row in asked.items() if row["id"] is not None}
    with psycopg.connect(libpq_dsn(database_url), row_factory=dict_row) as connection:
        job = connection.execute("SELECT state, outcome FROM jobs WHERE id = %s",
                                 (entry["job"],)).fetchone()
        failures = connection.execute(
            "SELECT f.item, f.kind, f.detail, p.id AS product_id FROM job_failures AS f"
            " LEFT JOIN products AS p ON p.slug = f.item WHERE f.job_id = %s",
            (entry["job"],)).fetchall()
    where = f"import job {entry['job']}"
    if job is None or job["state"] != "succeeded":
        verdict.problem(f"{where}: {job and job['state']}, expected succeeded")
        return set()
    mine = [r for r in revisions if r["source"] == "import" and r["user_id"] == user]
    claimed: set[tuple[int, int]] = set()
    for revision in mine:
        pid, version, changes = revision["product_id"], revision["version"], revision["changes"]
        slug = by_id.get(pid) or (changes.get("slug") or {}).get("after")
        row = asked.get(slug or "")
        if row is None:
            verdict.problem(f"{where}: product {pid} version {version} is not in the file")
            continue
        if (row["id"] is None) != (version == 1):
            verdict.problem(f"{where}: product {pid} version {version} does not match its row")
        for name, value in row["values"].items():
            change = changes.get(name)
            if change is not None and not _same(name, change.get("after"), value):
                verdict.problem(f"{where}: product {pid} {name} set to {change.get('after')}, "
                                f"the file says {value}")
        for name in changes:
            if row["id"] is not None and name not in row["values"]:
                verdict.problem(f"{where}: product {pid} version {version} changed {name}, "
                                "which the file left as exported")
            if row["id"] is not None:
                for other in history.changed_between(pid, name, row["version"], version):
                    if not _same(name, other["changes"][name].get("after"),
                                 row["values"].get(name)):
                        verdict.problem(f"{where}: product {pid} {name} imported over version "
                                        f"{other['version']}'s change without a conflict")
                        break
        claimed.add((pid, version))
    outcome = job["outcome"] or {}
    if len(mine) != outcome.get("changed"):
        verdict.problem(f"{where}: {len(mine)} import revisions, the job says it changed "
                        f"{outcome.get('changed')}")
    for failure in failures:
        if failure["kind"] != "conflict":
            verdict.problem(f"{where}: row {failure['item']} rejected, expected none")
            continue
        verdict.import_conflicts += 1
        row = asked.get(failure["item"]) or {}
        pid = failure["product_id"]
        fields = failure["detail"] or {}
        if not any(not _same(name, other["changes"][name].get("after"), value["file"])
                   for name, value in fields.items()
                   for other in history.changed_between(pid, name, row.get("version") or 0,
                                                        NEWEST)):
            verdict.problem(f"{where}: conflict on {failure['item']} but nobody had changed "
                            f"{', '.join(fields)} to another value")
    verdict.imported += len(mine)
    return claimed


def verify(entries: list[dict[str, Any]], database_url: str, user_ids: dict[str, int],
           since: datetime) -> Verdict:
    verdict = Verdict()
    history, revisions = _load(database_url, entries, user_ids, since)
    images = _image_rows(database_url, entries)
    load_users = set(user_ids.values())
    claimed: set[tuple[int, int]] = set()
    bulk_changed = 0

    for entry in _check_repeats(entries, verdict):
        via, status = entry["via"], entry["status"]
        if entry.get("kind") == "image":
            _check_image(entry, user_ids.get(entry["user"]), images, revisions, claimed, verdict)
            continue
        if entry.get("kind") == "import":
            claimed |= _check_import(entry, history, revisions, user_ids, database_url,
                                     verdict)
            continue
        if entry.get("kind") == "bulk":
            if status == 200:
                verdict.bulk += 1
                bulk_changed += int(entry.get("changed") or 0)
            else:
                verdict.problem(f"bulk by {entry['user']}: answered {status}, expected 200")
            continue
        pid, sent, version = entry["product_id"], entry["sent_version"], entry["version"]
        user = user_ids.get(entry["user"])
        where = f"{via} {entry['user']} product {pid} (sent version {sent})"
        values = entry["values"]
        if status == CONFLICT_STATUS[via]:
            verdict.conflicts += 1
            if via == "api":
                if history.top(pid) <= sent:
                    verdict.problem(f"{where}: answered {status} but nobody had saved a newer "
                                    "version")
            elif not any(not _same(name, value, r["changes"][name].get("after"))
                         for name, value in values.items()
                         for r in history.changed_between(pid, name, sent, NEWEST)):
                verdict.problem(f"{where}: answered {status} but nobody had changed "
                                f"{', '.join(values)} to another value")
            continue
        if status != 200:
            verdict.problem(f"{where}: answered {status}, expected 200 or {CONFLICT_STATUS[via]}")
            continue
        if version is None:
            verdict.problem(f"{where}: 200 without the new version in the response")
            continue
        revision = history.at.get((pid, version))
        same = all(_same(n, v, history.value(pid, n, version)) for n, v in values.items())
        if version == sent and same:
            # Nothing to change: the form already showed these values, and the answer is the
            # version it was opened at - whoever made that version (a colleague, or nobody
            # since the seed).
            verdict.unchanged += 1
            continue
        if revision is None:
            verdict.problem(f"{where}: reported saved as version {version}, no such revision")
            continue
        mine = revision["user_id"] == user and revision["source"] == SOURCE[via]
        if not mine or (pid, version) in claimed or version <= sent:
            if (via == "editor" and version > sent and same
                    and (revision["user_id"] != user or (pid, version) in claimed)):
                # Merged with changes that had already set these values: nothing to record.
                verdict.unchanged += 1
            elif revision["user_id"] != user:
                verdict.problem(f"{where}: revision {version} is not by {entry['user']}")
            elif revision["source"] != SOURCE[via]:
                verdict.problem(f"{where}: revision {version} has source "
                                f"{revision['source']}")
            else:
                verdict.problem(f"{where}: revision {version} was already reported by "
                                "another save")
            continue
        verdict.saved += 1
        claimed.add((pid, version))
        if version != sent + 1:
            if via == "api":
                verdict.problem(f"{where}: saved as version {version}, not on top of {sent}")
            else:
                verdict.merged += 1
        for name, value in values.items():
            change = (revision["changes"] or {}).get(name)
            if change is None:
                if not _same(name, value, history.value(pid, name, version)):
                    verdict.problem(f"{where}: revision {version} does not record "
                                    f"{name}={value}")
            elif not _same(name, change.get("after"), value):
                verdict.problem(f"{where}: revision {version} does not record {name}={value}")
            # No lost update: nobody else changed this field to another value in between.
            for other in history.changed_between(pid, name, sent, version):
                if not _same(name, other["changes"][name].get("after"), value):
                    verdict.problem(f"{where}: saved {name} over version {other['version']}'s "
                                    "change to it without a conflict")
                    break

    bulk_revisions = [r for r in revisions if r["source"] == "bulk"
                      and r["user_id"] in load_users]
    if len(bulk_revisions) != bulk_changed:
        verdict.problem(f"bulk: {len(bulk_revisions)} bulk revisions by the load, but the "
                        f"acknowledged bulk commands changed {bulk_changed} products")
    claimed |= {(r["product_id"], r["version"]) for r in bulk_revisions}
    for revision in revisions:
        key = (revision["product_id"], revision["version"])
        if revision["user_id"] in load_users and key not in claimed:
            verdict.problem(f"product {key[0]} version {key[1]}: written by a load account, "
                            "but the load was never told it was saved")
    # Per field: the row holds the last change to it, and that change was acknowledged.
    last: dict[tuple[int, str], dict[str, Any]] = {}
    for revision in sorted(revisions, key=lambda r: r["version"]):
        for name in revision["changes"] or {}:
            last[(revision["product_id"], name)] = revision
    for (pid, name), revision in sorted(last.items(), key=lambda item: str(item[0])):
        row = history.products.get(pid)
        if row is None or name == "slug" or revision["user_id"] not in load_users:
            continue
        if name in ("price", "stock", "is_active", "name") or name.startswith("attributes."):
            stored = _current(row, name)
            if not _same(name, revision["changes"][name].get("after"), stored):
                verdict.problem(f"product {pid}: {name} is {stored}, the last change to it "
                                f"(version {revision['version']}) set "
                                f"{revision['changes'][name].get('after')}")
    return verdict
