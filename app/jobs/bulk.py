"""A bulk product change run as a job: the ids fixed when it was started, applied in batches
of ``JOB_BATCH_ROWS``, each batch one transaction with its exactly-once record
(:mod:`.batches`), progress in ``jobs.done``, the outcome in ``jobs.outcome``.

:func:`start_bulk_job` is called in the request's transaction (the ``jobs`` row and the queue's
job commit together); :func:`bulk_change` is the task a worker runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..data.database import AsyncDatabase
from ..data.models import Job, JobBatch
from ..data.products.bulk import BulkAction, bulk_update
from ..data.products.errors import BulkError
from .queue import defer
from .running import fail_job, job_task, open_job, run_batches

KIND = "bulk_change"


def _action_params(action: BulkAction) -> dict[str, Any]:
    return {"kind": action.kind, "category_id": action.category_id,
            "percent": None if action.percent is None else str(action.percent),
            "amount": None if action.amount is None else str(action.amount)}


def _action(params: dict[str, Any]) -> BulkAction:
    return BulkAction(kind=params["kind"], category_id=params.get("category_id"),
                      percent=None if params.get("percent") is None
                      else Decimal(params["percent"]),
                      amount=None if params.get("amount") is None else Decimal(params["amount"]))


async def start_bulk_job(session: AsyncSession, ids: Sequence[int], action: BulkAction, *,
                         user_id: int | None) -> int:
    """Queue ``action`` on ``ids`` as a job, in the session's transaction; the job id."""
    ids = sorted({int(i) for i in ids})
    job_id = await defer(session, KIND, {})  # the task reads its parameters from ``jobs``
    session.add(Job(id=job_id, kind=KIND, user_id=user_id, total=len(ids),
                    params={"ids": ids, "action": _action_params(action)}))
    await session.flush()
    return job_id


@job_task(KIND, failure="the change stopped on an unexpected error")
async def bulk_change(app: Flask, database: AsyncDatabase, job_id: int) -> None:
    """Apply the job, batch by batch (see module docstring); what its batches applied stays
    applied, exactly once."""
    batch_rows = int(app.config["JOB_BATCH_ROWS"])
    async with database.session() as session:
        job = await open_job(session, job_id)
        if job is None:
            return
        ids: list[int] = list(job.params["ids"])
        action = _action(job.params["action"])
        user_id = job.user_id

    async def apply(session: AsyncSession, batch: int, chunk: Sequence[int]) -> int:
        result = await bulk_update(session, chunk, action, user_id=user_id, announce_as="job")
        return result.changed

    try:
        await run_batches(database, job_id, ids, batch_rows=batch_rows, apply=apply,
                          finish=_finish)
    except BulkError as error:  # its batch rolled back: the job fails with the reason
        await fail_job(database, job_id, str(error))


async def _finish(session: AsyncSession, job_id: int, state: str) -> None:
    changed = await session.scalar(
        select(func.coalesce(func.sum(JobBatch.rows), 0)).where(JobBatch.job_id == job_id))
    await session.execute(update(Job).where(Job.id == job_id).values(
        state=state, outcome={"changed": int(changed or 0)}, updated_at=func.now()))


async def cancel_job(session: AsyncSession, job_id: int) -> bool:
    """Ask a queued or running job to stop before its next batch; False if it had ended.

    The update waits for the batch in progress (it holds the job's row). When that batch
    commits, the worker's next batch may lock the row's new version before the woken cancel
    reaches it (PostgreSQL does not queue a row lock across an update), so at most one more
    batch may run before the job stops."""
    cancelled = await session.scalar(
        update(Job).where(Job.id == job_id, Job.state.in_(("queued", "running")))
        .values(state="cancelled", updated_at=func.now()).returning(Job.id))
    return cancelled is not None
