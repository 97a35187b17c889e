"""The uploaded file, its dry run, and reading it back for the job.

:func:`dry_run` reads and plans a file without changing the catalog and keeps the file
(``bytea``) with its SHA-256 and the dry run's result in ``import_files`` - in PostgreSQL, so
any worker on any host applies exactly the bytes the editor checked. The result holds the
counts and the first :data:`KEPT_PROBLEMS` rejected or conflicting rows (line, slug, reason):
a 100,000-row file of mistakes is shown a page at a time and stored bounded.

Reading and checking rows is CPU work (about 40 µs a row, plus about 30 µs to plan it): a
file of up to ``IMPORT_INLINE_ROWS`` rows is checked in the request (in a thread,
:func:`asyncio.to_thread`, so the worker's other requests go on); a larger one is kept with no
result yet (:func:`store_file`) and checked by a job (:mod:`app.jobs.imports`) that calls
:func:`complete_dry_run`, so no request runs for tens of seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import ImportFile
from .plan import CONFLICT, CREATE, REJECTED, UNCHANGED, UPDATE, Decision, load_categories, plan
from .reading import DELIMITER_NAMES, CsvFile, read_csv
from .rows import Categories, ImportRow, Rejection, check_rows

#: Problems (rejected and conflicting rows) a dry run keeps for display.
KEPT_PROBLEMS = 1000
ACTIONS = (CREATE, UPDATE, UNCHANGED, CONFLICT, REJECTED)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Checked:
    rows: list[ImportRow | Rejection]
    delimiter: str
    had_bom: bool


def check_file(data: bytes | CsvFile, categories: Categories, *, max_rows: int) -> Checked:
    """Read (unless already read) and check every row (or :class:`~.reading.FileRefused`):
    CPU only."""
    csv_file = data if isinstance(data, CsvFile) else read_csv(data, max_rows=max_rows)
    return Checked(check_rows(csv_file.rows, categories, len(csv_file.header)),
                   csv_file.delimiter, csv_file.had_bom)


async def read_file(data: bytes, *, max_rows: int) -> CsvFile:
    """The file read into rows in a thread, or :class:`~.reading.FileRefused`."""
    return await asyncio.to_thread(read_csv, data, max_rows=max_rows)


async def checked_rows(session: AsyncSession, data: bytes | CsvFile, *,
                       max_rows: int) -> Checked:
    categories = await load_categories(session)
    return await asyncio.to_thread(check_file, data, categories, max_rows=max_rows)


def problem(decision: Decision) -> dict[str, Any]:
    entry: dict[str, Any] = {"line": decision.line, "item": decision.item,
                             "kind": decision.action, "reason": decision.reason}
    if decision.conflicts:
        entry["fields"] = decision.conflicts
    return entry


def summary(decisions: Sequence[Decision], checked: Checked) -> dict[str, Any]:
    counts = Counter(decision.action for decision in decisions)
    problems = [problem(d) for d in decisions if d.action in (CONFLICT, REJECTED)]
    return {"rows": len(decisions), "counts": {action: counts[action] for action in ACTIONS},
            "merged": sum(1 for d in decisions if d.merged),
            "problems": problems[:KEPT_PROBLEMS], "problem_count": len(problems),
            "delimiter": DELIMITER_NAMES[checked.delimiter], "bom": checked.had_bom}


async def store_file(session: AsyncSession, data: bytes, *, filename: str,
                     user_id: int | None) -> ImportFile:
    """Keep the file, not checked yet (flushed, not committed)."""
    stored = ImportFile(user_id=user_id, filename=filename[:255] or "import.csv",
                        size=len(data), sha256=digest(data), content=data, dry_run=None)
    session.add(stored)
    await session.flush()
    return stored


async def complete_dry_run(session: AsyncSession, stored: ImportFile,
                           data: bytes | CsvFile, *, max_rows: int) -> ImportFile:
    """Check and plan the file's rows and keep the result with it (flushed)."""
    checked = await checked_rows(session, data, max_rows=max_rows)
    decisions = await plan(session, checked.rows)
    stored.dry_run = summary(decisions, checked)
    await session.flush()
    return stored


async def dry_run(session: AsyncSession, data: bytes, *, filename: str, user_id: int | None,
                  max_rows: int, read: CsvFile | None = None) -> ImportFile:
    """Plan the file and keep it with its result (flushed, not committed). Raises
    :class:`~.reading.FileRefused` for a file that cannot be imported at all (nothing kept).
    ``read``: the file already read by :func:`read_file`."""
    csv_file = read if read is not None else await read_file(data, max_rows=max_rows)
    stored = await store_file(session, data, filename=filename, user_id=user_id)
    return await complete_dry_run(session, stored, csv_file, max_rows=max_rows)


async def get_file(session: AsyncSession, file_id: int) -> ImportFile | None:
    return await session.get(ImportFile, file_id, populate_existing=True)


async def file_content(session: AsyncSession, file_id: int) -> tuple[bytes, str] | None:
    """The stored bytes and the digest the dry run saw."""
    row = (await session.execute(select(ImportFile.content, ImportFile.sha256)
                                 .where(ImportFile.id == file_id))).first()
    return None if row is None else (bytes(row[0]), row[1])


async def claim_file(session: AsyncSession, file_id: int, job_id: int) -> bool:
    """Tie the file to the job applying it; False when it was already applied."""
    claimed = await session.scalar(
        update(ImportFile).where(ImportFile.id == file_id, ImportFile.job_id.is_(None))
        .values(job_id=job_id).returning(ImportFile.id))
    return claimed is not None


__all__ = ["ACTIONS", "KEPT_PROBLEMS", "Checked", "check_file", "checked_rows", "claim_file",
           "complete_dry_run", "digest", "dry_run", "file_content", "get_file", "problem",
           "read_file", "store_file", "summary"]
