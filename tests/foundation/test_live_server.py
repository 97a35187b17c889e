"""The same execution model under a real Hypercorn worker."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.live import start_server

pytestmark = pytest.mark.live

PROBE = "tests.support.probe_app:create_probe_app()"


@pytest.fixture
def probe_server(database_url, tmp_path):
    server = start_server(database_url, tmp_path, app=PROBE, workers=1,
                          env={"PROBE_REQUEST_TIMEOUT": "3", "VITRINE_LOG_LEVEL": "INFO"})
    yield server
    server.stop()


def test_one_worker_holds_100_requests_in_flight_at_once(probe_server):
    """Concurrency per worker is bounded by the configured limit, not by a thread count."""

    async def burst() -> list[dict]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(
            base_url=probe_server.url, limits=limits, timeout=30
        ) as client:
            await client.post("/_probe/reset-peak")
            responses = await asyncio.gather(
                *(client.get("/_probe/gather", params={"n": 100}) for _ in range(100))
            )
        assert all(r.status_code == 200 for r in responses)
        return [r.json() for r in responses]

    bodies = asyncio.run(burst())
    assert all(body["reached"] for body in bodies), max(body["waiting"] for body in bodies)


def test_timeout_under_hypercorn_answers_503_and_frees_the_connection(probe_server, sql):
    response = httpx.get(probe_server.url + "/_probe/db-sleep?seconds=30", timeout=20)
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    deadline = time.monotonic() + 2  # asyncpg sends the cancel to the server asynchronously
    while _pg_sleeps(sql) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pg_sleeps(sql) == 0
    assert httpx.get(probe_server.url + "/_probe/backend-pid").status_code == 200


def test_client_disconnect_cancels_the_request_and_its_transaction(probe_server, sql):
    host = urlsplit(probe_server.url)
    with socket.create_connection((host.hostname, host.port)) as conn:
        conn.sendall(b"GET /_probe/db-sleep?seconds=20 HTTP/1.1\r\nHost: x\r\n\r\n")
        deadline = time.monotonic() + 5
        while _pg_sleeps(sql) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _pg_sleeps(sql) == 1, "the slow query should be running while the client waits"
    # The client has gone: the query is cancelled (well before the 3 s request timeout) and no
    # transaction is left open.
    deadline = time.monotonic() + 1.5
    while (_pg_sleeps(sql) or _idle_in_transaction(sql)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pg_sleeps(sql) == 0
    assert _idle_in_transaction(sql) == 0
    # The request's log line is written when its teardown ends, after the rollback the checks
    # above see: on a loaded machine it can come a little later.
    deadline = time.monotonic() + 5
    while not _logged_disconnect(probe_server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _logged_disconnect(probe_server)


def _logged_disconnect(server) -> bool:
    """Whether the server logged a request ended by its client's disconnect."""
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    return any(line.get("outcome") == "client_disconnected" for line in lines)


def _pg_sleeps(sql) -> int:
    return sql.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vitrine'"
        " AND datname = current_database()"
        " AND state = 'active' AND query LIKE 'SELECT pg_sleep%%'"
    )


def _idle_in_transaction(sql) -> int:
    return sql.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vitrine'"
        " AND datname = current_database()"
        " AND state LIKE 'idle in transaction%%'"
    )


def test_static_files_stream_whole_and_requests_carry_an_id(live_server):
    from tests.support.live import ROOT

    htmx = (ROOT / "static/vendor/htmx-4.0.1/htmx.min.js").read_bytes()
    response = httpx.get(live_server.url + "/static/vendor/htmx-4.0.1/htmx.min.js")
    assert response.status_code == 200 and response.content == htmx
    assert response.headers["x-request-id"]
    echoed = httpx.get(live_server.url + "/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    forged = httpx.get(live_server.url + "/healthz", headers={"X-Request-ID": "<script>"})
    assert forged.headers["x-request-id"] != "<script>"


def test_sigterm_shuts_down_cleanly_and_closes_the_pool(probe_server, sql):
    pid = httpx.get(probe_server.url + "/_probe/backend-pid").json()["pid"]
    assert sql.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", pid) == 1
    assert probe_server.stop() == 0
    deadline = time.monotonic() + 5
    while sql.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", pid):
        assert time.monotonic() < deadline, "the worker's connection outlived it"
        time.sleep(0.05)
    assert "Traceback" not in probe_server.log()
