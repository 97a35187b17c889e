"""Old job records go away on a cheap schedule: every ten minutes one worker (procrastinate's
periodic deferrer lets exactly one defer each tick, whatever the number of workers) deletes
what ended more than ``JOB_RETENTION_HOURS`` ago: our ``jobs`` rows (their ``job_batches`` and
``job_failures`` go with them), the uploaded files of imports (applied or only dry-run), and
procrastinate's own finished jobs and their events. Each is one indexed ``DELETE``; running
jobs and their files are never touched.

It also deletes **image blobs no image references** (neither as its original nor as any
variant: a removed image leaves its blobs behind, since another image may share them), in
batches of ``BLOB_BATCH`` until none is left. Only blobs stored more than ``BLOB_GRACE_HOURS``
ago go: an upload stores its blob, then references it in the same transaction, and a variants
job stores its variants before recording them, so a fresh unreferenced blob may be one whose
reference is not committed yet. A blob stored *again* (the same file uploaded anew) is touched
by that transaction (``app.data.images._STORE``): the row lock makes a concurrent ``DELETE``
wait and then see the renewed ``created_at``, so it is kept; a ``DELETE`` that committed first
makes the insert write the blob afresh. ``SKIP LOCKED`` keeps two purges from queueing on
each other.
"""

from __future__ import annotations

from flask import Flask
from procrastinate import JobContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..data.database import AsyncDatabase
from .queue import tasks
from .running import FLASK_APP

KIND = "purge_old_jobs"
#: Unreferenced blobs stored less than this long ago are kept (uploads in flight).
BLOB_GRACE_HOURS = 1
#: Blobs deleted per statement (each its own short transaction in the job).
BLOB_BATCH = 500
ENDED = ("succeeded", "failed", "cancelled")
_FILES = text(
    "DELETE FROM import_files AS f WHERE f.created_at < now() - make_interval(hours => :hours)"
    " AND NOT EXISTS (SELECT 1 FROM jobs AS j WHERE j.id = f.job_id"
    " AND j.state IN ('queued', 'running')) RETURNING f.id")
_JOBS = text(
    "DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled')"
    " AND updated_at < now() - make_interval(hours => :hours) RETURNING id")


_BLOBS = text(
    "DELETE FROM image_blobs WHERE sha256 IN ("
    " SELECT b.sha256 FROM image_blobs AS b"
    " WHERE b.created_at < now() - make_interval(hours => :grace)"
    " AND NOT EXISTS (SELECT 1 FROM product_images AS i WHERE i.original = b.sha256)"
    " AND NOT EXISTS (SELECT 1 FROM product_images AS i,"
    "   jsonb_array_elements(CASE jsonb_typeof(i.variants) WHEN 'array' THEN i.variants"
    "   ELSE '[]'::jsonb END) AS v"
    "   WHERE v->>'webp' = b.sha256 OR v->>'jpeg' = b.sha256)"
    " ORDER BY b.created_at LIMIT :batch FOR UPDATE SKIP LOCKED)"
    " AND created_at < now() - make_interval(hours => :grace)"
    " RETURNING sha256")


async def purge_unreferenced_blobs(session: AsyncSession, *, grace_hours: int,
                                   batch: int) -> int:
    """Delete up to ``batch`` unreferenced image blobs stored more than ``grace_hours`` ago;
    how many. The outer ``created_at`` test is re-checked on a row a concurrent store touched
    (after its lock is released), so a blob renewed meanwhile survives."""
    return len((await session.execute(
        _BLOBS, {"grace": grace_hours, "batch": batch})).all())


async def purge_old(session: AsyncSession, hours: int) -> tuple[int, int]:
    """Delete ended jobs and import files older than ``hours``; (files, jobs) deleted."""
    files = len((await session.execute(_FILES, {"hours": hours})).all())
    jobs = len((await session.execute(_JOBS, {"hours": hours})).all())
    return files, jobs


@tasks.periodic(cron="*/10 * * * *", periodic_id="purge")
@tasks.task(name=KIND, pass_context=True, queue="default")
async def purge_old_jobs(context: JobContext, timestamp: int) -> None:
    app: Flask = context.additional_context[FLASK_APP]
    database: AsyncDatabase = app.extensions["vitrine_db"]
    hours = int(app.config["JOB_RETENTION_HOURS"])
    async with database.session() as session:
        await purge_old(session, hours)
        await session.commit()
    while True:  # bounded batches, each its own transaction: locks held briefly
        async with database.session() as session:
            deleted = await purge_unreferenced_blobs(session, grace_hours=BLOB_GRACE_HOURS,
                                                     batch=BLOB_BATCH)
            await session.commit()
        if deleted < BLOB_BATCH:
            break
    await context.app.job_manager.delete_old_jobs(
        nb_hours=hours, include_failed=True, include_cancelled=True, include_aborted=True)
