"""After PostgreSQL restarts, no worker hands its next request a dead pooled connection.

Every pooled connection dies with the restart, but a worker only learns it when it uses one;
before the pool checked for that at checkout (:func:`app.data.database._refuse_closed_connection`)
the first request on each worker got a 503, however long after the restart it came. The restart
is done on the test's own throwaway server (see :mod:`tests.load.test_database_restart`)."""

from __future__ import annotations

import time

import httpx
import pytest

from .conftest import server_errors
from .test_database_restart import throwaway_database  # noqa: F401 - a fixture

pytestmark = pytest.mark.live


def first_answers_per_worker(base_url: str, *, workers: int, attempts: int = 60) -> dict:
    """GET /products on fresh connections until every worker has answered one; each worker's
    first status (workers are told apart by the per-process prefix of ``X-Request-ID``)."""
    first: dict[str, int] = {}
    for _ in range(attempts):
        with httpx.Client(base_url=base_url, timeout=10) as client:  # a new connection each
            response = client.get("/products")
        worker = response.headers["X-Request-ID"].rsplit("-", 1)[0]
        first.setdefault(worker, response.status_code)
        if len(first) == workers:
            break
    return first


def test_the_first_request_on_each_worker_after_a_database_restart_is_answered(
        serve, throwaway_database):  # noqa: F811 - the imported fixture
    postgres, url = throwaway_database
    server = serve({"VITRINE_DB_POOL_SIZE": "3"}, database=url, workers=2)
    before = first_answers_per_worker(server.url, workers=2)
    assert list(before.values()) == [200, 200], before  # both workers hold pooled connections

    postgres.stop()
    postgres.start()
    time.sleep(1.0)  # no request meanwhile: the workers' pools still hold the old connections

    after = first_answers_per_worker(server.url, workers=2)
    assert set(after) == set(before)  # the same two worker processes
    assert list(after.values()) == [200, 200], after
    assert server_errors(server) == []
