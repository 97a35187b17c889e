"""Exactly-once batches: a job's work is split into numbered batches, and each batch's writes
commit together with its ``job_batches`` row (migration 0009).

A worker killed mid-job leaves its current batch uncommitted (PostgreSQL rolls it back when
the connection drops) and every earlier batch committed *with* its row. The retried job walks
the same batches again: :func:`claim_batch` inserts the batch's row first, ``ON CONFLICT DO
NOTHING``; a batch already applied is skipped, so each row is changed exactly once. Two runs
of the same job at once (a worker thought dead that was only slow) cannot both apply a batch:
the second insert waits for the first transaction and then finds the row.

The job's ``jobs`` row is locked at the start of each batch (``FOR UPDATE``): a cancel waits
for the batch in progress and the next batch sees it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_CLAIM = text("INSERT INTO job_batches (job_id, batch, rows) VALUES (:job, :batch, 0)"
              " ON CONFLICT DO NOTHING RETURNING batch")
_STATE = text("SELECT state FROM jobs WHERE id = :job FOR UPDATE")
_CHANGED = text("UPDATE job_batches SET rows = :changed WHERE job_id = :job AND batch = :batch")
_PROGRESS = text("UPDATE jobs SET done = least(total, done + :rows), state = 'running',"
                 " updated_at = now() WHERE id = :job")


async def job_state(session: AsyncSession, job_id: int) -> str | None:
    """The job's state, its row locked until the transaction ends (None: no such job)."""
    return await session.scalar(_STATE, {"job": job_id})


async def claim_batch(session: AsyncSession, job_id: int, batch: int) -> bool:
    """Record batch ``batch`` of the job as applied in this transaction; False when an earlier
    run already applied it (then apply nothing)."""
    return await session.scalar(_CLAIM, {"job": job_id, "batch": batch}) is not None


async def batch_applied(session: AsyncSession, job_id: int, batch: int, *, rows: int,
                        changed: int) -> None:
    """Count the batch's ``rows`` in the job's progress and keep how many it ``changed``."""
    await session.execute(_CHANGED, {"changed": changed, "job": job_id, "batch": batch})
    await session.execute(_PROGRESS, {"rows": rows, "job": job_id})
