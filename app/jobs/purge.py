"""Old job records go away on a cheap schedule: every ten minutes one worker (procrastinate's
periodic deferrer lets exactly one defer each tick, whatever the number of workers) deletes
what ended more than ``JOB_RETENTION_HOURS`` ago: our ``jobs`` rows (their ``job_batches`` and
``job_failures`` go with them), the uploaded files of imports (applied or only dry-run), and
procrastinate's own finished jobs and their events. Each is one indexed ``DELETE``; running
jobs and their files are never touched.
"""

from __future__ import annotations

from flask import Flask
from procrastinate import JobContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..data.database import AsyncDatabase
from .bulk import FLASK_APP
from .queue import tasks

KIND = "purge_old_jobs"
ENDED = ("succeeded", "failed", "cancelled")
_FILES = text(
    "DELETE FROM import_files AS f WHERE f.created_at < now() - make_interval(hours => :hours)"
    " AND NOT EXISTS (SELECT 1 FROM jobs AS j WHERE j.id = f.job_id"
    " AND j.state IN ('queued', 'running')) RETURNING f.id")
_JOBS = text(
    "DELETE FROM jobs WHERE state IN ('succeeded', 'failed', 'cancelled')"
    " AND updated_at < now() - make_interval(hours => :hours) RETURNING id")


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
    await context.app.job_manager.delete_old_jobs(
        nb_hours=hours, include_failed=True, include_cancelled=True, include_aborted=True)
