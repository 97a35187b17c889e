"""Fault tests against real Hypercorn processes: overload, a database restart, SIGTERM, and
clients that give up. Servers run the probe app (the real app plus ``/_probe`` views that hold a
database connection for a chosen time) so each test controls exactly how long requests take."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from tests.support.live import start_server

PROBE = "tests.support.probe_app:create_probe_app()"
LIVE_APPLICATION_NAME = "vitrine-live"


@pytest.fixture
def serve(database_url, tmp_path):
    """Start probe-app servers with extra environment; all are stopped (by pid) afterwards."""
    servers = []

    def start(env: dict[str, str] | None = None, *, database: str | None = None,
              workers: int = 1):
        server = start_server(database or database_url, tmp_path, app=PROBE, workers=workers,
                              env={"VITRINE_LOG_LEVEL": "INFO",
                                   "VITRINE_DB_APPLICATION_NAME": LIVE_APPLICATION_NAME,
                                   **(env or {})})
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def vitrine_connections(sql, state: str | None = None) -> int:
    """The live servers' connections to the test database (optionally only those in ``state``).

    Live servers connect under their own application name, so the test client's pool (the
    session app, same database) is not counted.
    """
    query = ("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
             " AND datname = current_database()")
    if state is not None:
        return sql.scalar(query + " AND state LIKE %s", LIVE_APPLICATION_NAME, state)
    return sql.scalar(query, LIVE_APPLICATION_NAME)


def log_records(server) -> list[dict]:
    """The app's structured (JSON) log lines from a server's output."""
    return [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]


def server_errors(server) -> list[dict]:
    """Requests answered 500 and errors the app logged as unexpected."""
    return [r for r in log_records(server)
            if r.get("status") == 500 or r.get("level") in {"error", "critical"}]


def eventually(predicate: Callable[[], bool], seconds: float) -> bool:
    """Poll ``predicate`` until it is true or ``seconds`` pass; return its last value."""
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()
