"""Applying a checked CSV file as a job: the rows in batches of ``IMPORT_BATCH_ROWS``, each batch
one transaction with its exactly-once record (:mod:`.batches`), planned again on its rows
locked (:mod:`app.data.imports.plan`) and written set-based (:mod:`app.data.imports.writes`).

The job reads the file from ``import_files`` (any worker, any host) and refuses to start when
its bytes no longer have the digest its dry run saw. The file is immutable and read the same
way every time, so a retried job (its worker killed) walks the same batches and skips those
already recorded: every row is applied exactly once. A row that cannot be applied - rejected,
or a version conflict with a colleague's change - is recorded in ``job_failures`` by its batch
and never fails the job; the batch's counts go in ``job_batches.outcome`` and the job's
outcome is their sum.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..data.database import AsyncDatabase
from ..data.imports.files import (
    Checked,
    checked_rows,
    claim_file,
    digest,
    file_content,
    get_file,
    summary,
)
from ..data.imports.plan import CONFLICT, CREATE, REJECTED, UNCHANGED, UPDATE, Decision, plan
from ..data.imports.reading import FileRefused
from ..data.imports.rows import ImportRow, Rejection
from ..data.imports.writes import write
from ..data.models import ImportFile, Job, JobBatch, JobFailure
from .batches import job_state
from .queue import defer
from .running import fail_job, job_task, open_job, run_batches

KIND = "csv_import"
#: The dry run of a file too large to check in the request.
CHECK_KIND = "csv_check"
#: Rows a dry-run job plans per query (its progress moves by this much).
CHECK_CHUNK_ROWS = 10_000
COUNTS = (CREATE, UPDATE, UNCHANGED, CONFLICT, REJECTED, "merged")
_SUMS = text("SELECT key, sum(value::bigint) FROM job_batches, jsonb_each_text(outcome)"
             " WHERE job_id = :job GROUP BY key")


async def start_import_job(session: AsyncSession, stored: ImportFile, *,
                           user_id: int | None) -> int | None:
    """Queue the file's import, in the session's transaction; the job id, or None when the
    file was already applied."""
    job_id = await defer(session, KIND, {})
    assert stored.dry_run is not None, "a file is applied after its dry run"
    session.add(Job(id=job_id, kind=KIND, user_id=user_id, total=int(stored.dry_run["rows"]),
                    params={"file_id": stored.id, "sha256": stored.sha256,
                            "filename": stored.filename}))
    await session.flush()
    if not await claim_file(session, stored.id, job_id):
        return None
    return job_id


async def start_check_job(session: AsyncSession, stored: ImportFile, *, rows: int,
                          user_id: int | None) -> int:
    """Queue the dry run of a large file, in the session's transaction; the job id."""
    job_id = await defer(session, CHECK_KIND, {})
    session.add(Job(id=job_id, kind=CHECK_KIND, user_id=user_id, total=rows,
                    params={"file_id": stored.id, "sha256": stored.sha256,
                            "filename": stored.filename}))
    await session.flush()
    stored.check_job_id = job_id
    await session.flush()
    return job_id


async def _read_file(app: Flask, session: AsyncSession, file_id: int, *,
                     expected: str | None) -> Checked | str:
    """The stored file's rows, checked; or why not: "" when its bytes no longer have the
    digest stored with them (or ``expected``, the one its dry run saw), else the refusal."""
    stored = await file_content(session, file_id)
    if stored is None or digest(stored[0]) != stored[1] or expected not in (None, stored[1]):
        return ""
    try:
        return await checked_rows(session, stored[0],
                                  max_rows=int(app.config["IMPORT_MAX_ROWS"]))
    except FileRefused as refused:
        return refused.message


@job_task(CHECK_KIND, failure="the check stopped on an unexpected error")
async def csv_check(app: Flask, database: AsyncDatabase, job_id: int) -> None:
    """The dry run of a large file: checked and planned in chunks (progress in ``jobs.done``),
    its result kept with the file. Nothing in the catalog changes; a retried run does it all
    again (it only overwrites the result)."""
    chunk_rows = CHECK_CHUNK_ROWS
    async with database.session() as session:
        job = await open_job(session, job_id)
        if job is None:
            return
        file_id = int(job.params["file_id"])
        checked_or_error = await _read_file(app, session, file_id, expected=None)
    if isinstance(checked_or_error, str):
        await fail_job(database, job_id, checked_or_error or
                       "the file changed since it was uploaded")
        return
    checked = checked_or_error
    decisions: list[Decision] = []
    for start in range(0, len(checked.rows), chunk_rows):
        chunk = checked.rows[start:start + chunk_rows]
        async with database.session() as session:
            decisions.extend(await plan(session, chunk))
            await session.execute(update(Job).where(Job.id == job_id).values(
                done=start + len(chunk), total=len(checked.rows), state="running",
                updated_at=func.now()))
            await session.commit()
    async with database.session() as session:
        if await job_state(session, job_id) == "cancelled":
            return
        found = await get_file(session, file_id)
        if found is not None:
            found.dry_run = summary(decisions, checked)
        await session.execute(update(Job).where(Job.id == job_id).values(
            state="succeeded", done=len(checked.rows), outcome={"rows": len(checked.rows)},
            updated_at=func.now()))
        await session.commit()


@job_task(KIND, failure="the import stopped on an unexpected error")
async def csv_import(app: Flask, database: AsyncDatabase, job_id: int) -> None:
    """Apply the import job (see the module docstring)."""
    batch_rows = int(app.config["IMPORT_BATCH_ROWS"])
    async with database.session() as session:
        job = await open_job(session, job_id)
        if job is None:
            return
        params, user_id = dict(job.params), job.user_id
        checked_or_error = await _read_file(app, session, int(params["file_id"]),
                                            expected=params["sha256"])
    if isinstance(checked_or_error, str):
        await fail_job(database, job_id, checked_or_error or
                       "the file changed since its dry run; nothing was imported")
        return
    checked = checked_or_error

    async def apply(session: AsyncSession, batch: int,
                    chunk: Sequence[ImportRow | Rejection]) -> int:
        decisions = await plan(session, chunk, lock=True)
        written = await write(session, decisions, user_id=user_id)
        failures = [d for d in decisions if d.action in (CONFLICT, REJECTED)]
        if failures:
            await session.execute(insert(JobFailure), [
                {"job_id": job_id, "batch": batch, "line": d.line, "item": d.item,
                 "kind": "conflict" if d.action == CONFLICT else "rejected",
                 "reason": d.reason, "detail": d.conflicts or None} for d in failures])
        counts = {action: sum(1 for d in decisions if d.action == action)
                  for action in (CREATE, UPDATE, UNCHANGED, CONFLICT, REJECTED)}
        counts["merged"] = sum(1 for d in decisions if d.merged and d.action == UPDATE)
        await session.execute(update(JobBatch).where(
            JobBatch.job_id == job_id, JobBatch.batch == batch).values(outcome=counts))
        return written.created + written.updated

    await run_batches(database, job_id, checked.rows, batch_rows=batch_rows, apply=apply,
                      finish=_finish)


async def _finish(session: AsyncSession, job_id: int, state: str) -> None:
    sums = {key: int(value) for key, value in (await session.execute(
        _SUMS, {"job": job_id})).all()}
    outcome = {key: sums.get(key, 0) for key in COUNTS}
    outcome["changed"] = outcome[CREATE] + outcome[UPDATE]
    await session.execute(update(Job).where(Job.id == job_id).values(
        state=state, outcome=outcome, updated_at=func.now()))


async def job_failures(session: AsyncSession, job_id: int, *, offset: int = 0,
                       limit: int = 50) -> list[JobFailure]:
    """A page of the rows the job could not apply, in file order."""
    return list((await session.scalars(
        select(JobFailure).where(JobFailure.job_id == job_id)
        .order_by(JobFailure.line).offset(offset).limit(limit))).all())


async def failure_count(session: AsyncSession, job_id: int) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(JobFailure).where(JobFailure.job_id == job_id)) or 0)
