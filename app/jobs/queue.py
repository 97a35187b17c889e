"""The job queue: procrastinate's ``App`` for the worker, and deferring from a request.

Tasks are declared on :data:`tasks` (a procrastinate ``Blueprint``) at import time; the
worker's ``App`` (:func:`make_queue`) is built from the Flask app's ``DATABASE_URL`` and adds
them. A request defers a job with :func:`defer`, through its own SQLAlchemy session: the job
row and the app's ``jobs`` row are inserted in one transaction (procrastinate's versioned
``procrastinate_defer_jobs_v1``, from the schema migration 0009 applied), and the insert's
trigger notifies the listening workers at commit.
"""

from __future__ import annotations

import json
from typing import Any

import procrastinate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..data.urls import libpq_dsn

#: Every task of the app (added to the worker's App under the ``vitrine`` namespace).
tasks = procrastinate.Blueprint()
NAMESPACE = "vitrine"
QUEUE = "default"

_DEFER = text(
    "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(CAST(:queue AS varchar),"
    " CAST(:task AS varchar), 0, CAST(:lock AS text), NULL, CAST(:args AS jsonb), NULL)"
    "::procrastinate_job_to_defer_v1]))")


def make_queue(database_url: str, *, max_connections: int = 4) -> procrastinate.App:
    """The procrastinate App on ``database_url`` with the app's tasks (open it on the loop that
    uses it: ``async with queue.open_async()``)."""
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_dsn(database_url), min_size=1, max_size=max_connections)
    queue = procrastinate.App(connector=connector)
    queue.add_tasks_from(tasks, namespace=NAMESPACE)
    return queue


async def defer(session: AsyncSession, task_name: str, args: dict[str, Any], *,
                lock: str | None = None) -> int:
    """Queue ``task_name`` (its name in :data:`tasks`, without the namespace) with ``args`` in
    the session's transaction; the job id. ``lock``: jobs with the same lock run one at a time.
    Nothing runs unless the caller commits."""
    job_id = await session.scalar(_DEFER, {
        "queue": QUEUE, "task": f"{NAMESPACE}:{task_name}", "lock": lock,
        "args": json.dumps(args)})
    assert job_id is not None
    return int(job_id)
