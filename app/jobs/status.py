"""Reading jobs for the editor: one job, and the jobs an editor should see on the products page
(running ones, and those that ended in the last minutes, so a reload still shows the outcome)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..data.models import Job

#: How long an ended job stays on its editor's products page.
RECENT = timedelta(minutes=10)
RUNNING = ("queued", "running")


async def get_job(session: AsyncSession, job_id: int) -> Job | None:
    return await session.get(Job, job_id, populate_existing=True)


async def user_jobs(session: AsyncSession, user_id: int, limit: int = 5) -> list[Job]:
    """The user's running jobs and those that ended within :data:`RECENT`, newest first."""
    return list((await session.scalars(
        select(Job).where(Job.user_id == user_id, or_(
            Job.state.in_(RUNNING), Job.updated_at > func.now() - RECENT))
        .order_by(Job.created_at.desc()).limit(limit))).all())
