"""Real ``flask worker`` processes for the job tests, each stopped by its pid afterwards."""

from __future__ import annotations

import pytest

from tests.support.job_worker import JobWorker

#: Rows per batch of the workers these tests start (bulk changes and imports alike).
BATCH = 5


@pytest.fixture
def workers(database_url, tmp_path):
    """Start workers on the test database (batches of :data:`BATCH` rows); all are stopped."""
    started: list[JobWorker] = []

    def start() -> JobWorker:
        worker = JobWorker(database_url, tmp_path / "worker.log", batch_rows=BATCH)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
