"""``flask --app app worker``: a procrastinate worker for the app's jobs.

Besides running jobs, each worker looks every ``JOB_STALLED_AFTER / 2`` seconds for jobs held
by a worker that stopped sending heartbeats for ``JOB_STALLED_AFTER`` seconds (killed,
its host gone) and puts them back in the queue: such a job is retried, and its batches make the
retry apply nothing twice (:mod:`.batches`). Any number of workers may run, on any hosts; each
stops on SIGINT/SIGTERM after the jobs it is running (procrastinate's signal handling).
"""

from __future__ import annotations

import asyncio
import logging

import procrastinate
from flask import Flask

from . import bulk, images, imports, purge  # noqa: F401 - they register the tasks
from .queue import QUEUE, make_queue
from .running import FLASK_APP

log = logging.getLogger("vitrine.jobs")


async def recover_stalled(queue: procrastinate.App, stalled_after: float) -> int:
    """Put the jobs of dead workers back in the queue; how many."""
    retried = 0
    for job in await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        try:
            await queue.job_manager.retry_job(job)
            retried += 1
            log.warning("retrying job %s: its worker stopped", job.id)
        except Exception:  # another worker retried it first
            log.info("job %s was already retried", job.id, exc_info=True)
    await queue.job_manager.prune_stalled_workers(stalled_after)
    return retried


async def _recover_forever(queue: procrastinate.App, stalled_after: float) -> None:
    while True:
        try:
            await recover_stalled(queue, stalled_after)
        except Exception:
            log.exception("looking for stalled jobs failed")
        await asyncio.sleep(stalled_after / 2)


async def run_worker(app: Flask, *, concurrency: int) -> None:
    """Run jobs until SIGINT/SIGTERM."""
    stalled_after = float(app.config["JOB_STALLED_AFTER"])
    queue = make_queue(app.config["DATABASE_URL"], max_connections=concurrency + 2)
    async with queue.open_async():
        recovery = asyncio.create_task(_recover_forever(queue, stalled_after))
        try:
            await queue.run_worker_async(
                queues=[QUEUE], concurrency=concurrency, additional_context={FLASK_APP: app},
                update_heartbeat_interval=max(stalled_after / 3, 0.5),
                stalled_worker_timeout=stalled_after, install_signal_handlers=True)
        finally:
            recovery.cancel()
            await app.extensions["vitrine_db"].dispose_current()
