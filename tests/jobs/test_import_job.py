"""A CSV import run by a real ``flask worker`` process: a worker SIGKILLed mid-import has its
job retried by another worker, and every row is applied exactly once (one new version and one
revision per product, each creation once); old job records are purged."""

from __future__ import annotations

import signal

import psycopg
import pytest

from app.data.imports.files import dry_run
from app.data.urls import libpq_dsn
from app.jobs.imports import start_import_job
from app.jobs.purge import purge_old
from tests.support.imports import catalog, csv_bytes, row
from tests.support.job_worker import job, wait_for

from .conftest import BATCH

pytestmark = pytest.mark.live
UPDATES, CREATES = 30, 30


def start_import(app, data: bytes) -> int:
    async def go() -> int:
        database = app.extensions["vitrine_db"]
        try:
            async with database.session() as session:
                stored = await dry_run(session, data, filename="stock.csv", user_id=None,
                                       max_rows=1000)
                job_id = await start_import_job(session, stored, user_id=None)
                await session.commit()
                assert job_id is not None
                return job_id
        finally:
            await database.dispose_current()

    return app.run_blocking(go())


def test_a_worker_killed_mid_import_is_retried_and_every_row_applies_once(
        app, sql, workers, database_url):
    lighting = catalog(sql)["lighting"]
    ids = [sql.product(f"Lamp {n}", category_id=lighting, stock=10) for n in range(UPDATES)]
    data = csv_bytes(
        [row(id=pid, slug=f"lamp-{n}", name=f"Lamp {n}", price="10.00", stock=11, version=1)
         for n, pid in enumerate(ids)]
        + [row(slug=f"new-lamp-{n}", name=f"New Lamp {n}") for n in range(CREATES)])
    job_id = start_import(app, data)
    total = UPDATES + CREATES
    blocker = psycopg.connect(libpq_dsn(database_url))  # holds a product of the 4th batch
    blocker.execute("SELECT id FROM products WHERE id = %s FOR UPDATE", (ids[3 * BATCH],))
    first = workers()
    try:
        wait_for(lambda: job(sql, job_id)["done"] == 3 * BATCH)
        assert job(sql, job_id)["state"] == "running"
        first.stop(signal.SIGKILL)  # mid-import, mid-batch
    finally:
        blocker.rollback()
        blocker.close()
    workers()  # another worker finds the dead worker's job and runs it again
    wait_for(lambda: job(sql, job_id)["state"] == "succeeded", seconds=60)
    assert job(sql, job_id) == {"state": "succeeded", "done": total, "total": total,
                                "outcome": {"create": CREATES, "update": UPDATES,
                                            "unchanged": 0, "conflict": 0, "rejected": 0,
                                            "merged": 0, "changed": total}}
    assert sql.all("SELECT stock, version FROM products WHERE id = ANY(%s)", ids) == [
        {"stock": 11, "version": 2}] * UPDATES
    assert sql.scalar("SELECT count(*) FROM products WHERE slug LIKE 'new-lamp-%%'") == CREATES
    assert sql.all("SELECT source, count(*) AS n FROM product_revisions GROUP BY source") == [
        {"source": "import", "n": total}]  # one revision per row, never two
    assert sql.scalar("SELECT count(*) FROM job_batches WHERE job_id = %s", job_id) == (
        total // BATCH)


def test_old_finished_jobs_and_import_files_are_purged(app, sql, run_db):
    lighting = catalog(sql)["lighting"]
    sql.product("Lamp", category_id=lighting)
    old = start_import(app, csv_bytes([row(slug="a")]))
    recent = start_import(app, csv_bytes([row(slug="b")]))
    running = start_import(app, csv_bytes([row(slug="c")]))
    sql.execute("UPDATE jobs SET state = 'succeeded', updated_at = now() - interval '9 days'"
                " WHERE id = %s", old)
    sql.execute("UPDATE jobs SET state = 'failed' WHERE id = %s", recent)
    sql.execute("UPDATE jobs SET state = 'running', updated_at = now() - interval '9 days'"
                " WHERE id = %s", running)
    sql.execute("UPDATE import_files SET created_at = now() - interval '9 days'")
    sql.execute("INSERT INTO job_batches (job_id, batch, rows) VALUES (%s, 0, 1)", old)

    files, jobs = run_db(lambda session: purge_old(session, 168), commit=True)
    assert (files, jobs) == (2, 1)
    assert [r["id"] for r in sql.all("SELECT id FROM jobs ORDER BY id")] == [recent, running]
    assert sql.scalar("SELECT count(*) FROM job_batches") == 0
    (kept,) = sql.all("SELECT job_id FROM import_files")
    assert kept["job_id"] == running  # a running import keeps its file


def test_every_worker_schedules_the_purge_every_ten_minutes(database_url):
    from app.jobs import worker  # noqa: F401 - registers every task, as the worker does
    from app.jobs.queue import make_queue

    queue = make_queue(database_url)
    (task,) = [entry for key, entry in queue.periodic_registry.periodic_tasks.items()
               if key[0] == "vitrine:purge_old_jobs"]
    assert task.cron == "*/10 * * * *"
