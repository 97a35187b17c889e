"""SIGTERM while requests are in flight: Hypercorn stops accepting, every request it had already
accepted (running, or waiting for a slot) completes normally within the graceful timeout, and
the worker closes its pool on the way out."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from app.ops.processes import children

from .conftest import LIVE_APPLICATION_NAME, eventually, server_errors, vitrine_connections
from .traffic import burst, statuses

pytestmark = pytest.mark.live

RUNNING = 6  # requests the worker runs at once (its slots, and its pool)
ACCEPTED = 12  # requests sent: half run, half wait for a slot


def test_sigterm_under_load_lets_every_accepted_request_finish(serve, sql):
    server = serve({"VITRINE_DB_POOL_SIZE": str(RUNNING),
                    "VITRINE_MAX_CONCURRENT_REQUESTS": str(RUNNING),
                    "VITRINE_REQUEST_QUEUE_TIMEOUT": "10"})

    async def scenario():
        requests = asyncio.ensure_future(
            burst(server.url, ["/_probe/db-sleep?seconds=1.5"] * ACCEPTED, client_timeout=30))
        running = await asyncio.to_thread(eventually, lambda: _sleeping(sql) >= RUNNING, 10)
        assert running, "the first requests should be running"
        await asyncio.sleep(0.2)  # the rest are accepted and queued for a slot
        server.process.send_signal(signal.SIGTERM)
        return await requests

    outcomes = asyncio.run(scenario())
    assert statuses(outcomes) == {200: ACCEPTED}
    # The queued half ran after the signal: they were not dropped or refused.
    assert max(o.seconds for o in outcomes) >= 2 * 1.5
    assert server.process.wait(30) == 0
    assert vitrine_connections(sql) == 0  # the worker disposed of its pool on shutdown
    assert server_errors(server) == []


def _sleeping(sql) -> int:
    return sql.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
                      " AND datname = current_database() AND state = 'active'"
                      " AND query LIKE 'SELECT pg_sleep%%'", LIVE_APPLICATION_NAME)


def test_sigterm_to_the_whole_process_group_still_lets_accepted_requests_finish(serve, sql):
    """systemd (and ``kill -TERM -<pgid>``) signal every process of the server at once: the
    workers must leave the shutdown to Hypercorn's main process rather than die mid-request."""
    server = serve({"VITRINE_DB_POOL_SIZE": str(RUNNING),
                    "VITRINE_MAX_CONCURRENT_REQUESTS": str(RUNNING)}, workers=2)

    async def scenario():
        requests = asyncio.ensure_future(
            burst(server.url, ["/_probe/db-sleep?seconds=1.5"] * RUNNING, client_timeout=30))
        running = await asyncio.to_thread(eventually, lambda: _sleeping(sql) >= RUNNING, 10)
        assert running, "the requests should be running"
        for pid in (server.process.pid, *children(server.process.pid)):
            os.kill(pid, signal.SIGTERM)  # the whole group, as a service manager does
        return await requests

    outcomes = asyncio.run(scenario())
    assert statuses(outcomes) == {200: RUNNING}
    assert server.process.wait(30) == 0
    assert server_errors(server) == []
