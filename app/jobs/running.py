"""What every kind of job does the same way around its own work.

A task finds the Flask app in the worker's context (:data:`FLASK_APP`, set by :mod:`.worker`)
and its database, runs the kind's body for the job, and when the body stops on an unexpected
error marks the job failed - so its editor sees it on the job's page - before raising the error
again for the queue's own record. Batches a body already committed stay applied, exactly once
(:mod:`.batches`). A body starts from :func:`open_job`, which is None once the job has ended
(a retried job that had finished, or one cancelled while queued).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from flask import Flask
from procrastinate import JobContext
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..data.database import AsyncDatabase
from ..data.models import Job
from .batches import batch_applied, claim_batch, job_state
from .queue import tasks

__all__ = ["ENDED", "FLASK_APP", "JobBody", "fail_job", "job_task", "open_job", "run_batches"]

#: Worker-context key of the Flask app (set by :mod:`.worker`).
FLASK_APP = "flask_app"
#: States after which a job does nothing more.
ENDED = ("cancelled", "succeeded", "failed")

#: A kind's work: ``(app, database, job_id)``.
JobBody = Callable[[Flask, AsyncDatabase, int], Awaitable[None]]
Item = TypeVar("Item")
#: Apply one batch in the session's transaction: ``(session, batch number, its items)``; how
#: many rows it changed.
ApplyBatch = Callable[[AsyncSession, int, Sequence[Item]], Awaitable[int]]
#: Write the job's final ``state`` (``succeeded`` or ``cancelled``) and outcome.
Finish = Callable[[AsyncSession, int, str], Awaitable[None]]


def job_task(name: str, *, failure: str) -> Callable[[JobBody], JobBody]:
    """Register ``body`` as the procrastinate task ``name`` of a job with a ``jobs`` row;
    ``failure`` is what its editor reads when the body stops on an unexpected error."""

    def register(body: JobBody) -> JobBody:
        async def task(context: JobContext) -> None:
            assert context.job is not None and context.job.id is not None
            job_id = context.job.id
            app: Flask = context.additional_context[FLASK_APP]
            database: AsyncDatabase = app.extensions["vitrine_db"]
            try:
                await body(app, database, job_id)
            except Exception:
                await fail_job(database, job_id, failure)
                raise

        task.__doc__ = body.__doc__
        tasks.task(name=name, pass_context=True)(task)
        return body

    return register


async def open_job(session: AsyncSession, job_id: int) -> Job | None:
    """The job's row, or None when there is none or it has ended."""
    job = await session.get(Job, job_id)
    return None if job is None or job.state in ENDED else job


async def fail_job(database: AsyncDatabase, job_id: int, message: str) -> None:
    """Mark the job failed with ``message`` as its outcome, in a transaction of its own."""
    async with database.session() as session:
        await job_state(session, job_id)
        await session.execute(update(Job).where(Job.id == job_id).values(
            state="failed", outcome={"error": message}, updated_at=func.now()))
        await session.commit()


async def run_batches(database: AsyncDatabase, job_id: int, items: Sequence[Item], *,
                      batch_rows: int, apply: ApplyBatch[Item], finish: Finish) -> None:
    """Apply ``items`` in batches of ``batch_rows``, each one transaction with its
    exactly-once record (:mod:`.batches`): a batch an earlier run applied is skipped, a cancel
    stops the job before its next batch. An error ``apply`` raises rolls its batch back and
    propagates (earlier batches stay applied)."""
    for batch, start in enumerate(range(0, len(items), batch_rows)):
        chunk = items[start:start + batch_rows]
        async with database.session() as session:
            if await job_state(session, job_id) == "cancelled":
                await finish(session, job_id, "cancelled")
                await session.commit()
                return
            if await claim_batch(session, job_id, batch):
                changed = await apply(session, batch, chunk)
                await batch_applied(session, job_id, batch, rows=len(chunk), changed=changed)
            await session.commit()
    async with database.session() as session:
        await job_state(session, job_id)
        await finish(session, job_id, "succeeded")
        await session.commit()
