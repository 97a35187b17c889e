"""PostgreSQL restarted under load: requests caught by the outage are answered 503 (never a 500
or a hang), the pool reconnects by itself, and the same worker process carries on.

The restart is done on a throwaway PostgreSQL server started for this test (pgserver on a
temporary directory), never on the shared embedded server other tests use."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import httpx
import psutil
import pytest

from app import create_app
from app.data.embedded import ensure_database

from .conftest import server_errors
from .traffic import HTMX, statuses, steady

pytestmark = pytest.mark.live

DATABASE = "vitrine_restart"


class ThrowawayPostgres:
    """A private PostgreSQL server that can be stopped and started again on the same socket."""

    def __init__(self) -> None:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pgserver

        self._pg_ctl = pgserver.pg_ctl
        self.root = Path(tempfile.mkdtemp(prefix="vitrine-pg-"))
        self.server = pgserver.get_server(self.root / "pgdata", cleanup_mode="delete")

    def url(self, database: str) -> str:
        ensure_database(self.server.get_uri(), database)
        return self.server.get_uri(database=database)

    def stop(self) -> None:
        """Fast shutdown: open sessions are terminated, in-flight queries fail."""
        self._pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata,
                     user=self.server.system_user, timeout=30)

    def start(self) -> None:
        self.server.ensure_postgres_running()  # same options and socket directory as before

    def destroy(self) -> None:
        self.server.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def throwaway_database():
    postgres = ThrowawayPostgres()
    try:
        url = postgres.url(DATABASE)
        migrated = create_app("testing", DATABASE_URL=url)
        try:
            from flask_migrate import upgrade

            with migrated.app_context():
                upgrade()
        finally:
            migrated.close()
        yield postgres, url
    finally:
        postgres.destroy()


def test_database_restart_mid_load_fails_cleanly_and_the_pool_reconnects(serve,
                                                                        throwaway_database):
    postgres, url = throwaway_database
    server = serve({"VITRINE_DB_POOL_SIZE": "4", "VITRINE_DB_POOL_TIMEOUT": "2",
                    "VITRINE_REQUEST_TIMEOUT": "5"}, database=url)
    workers_before = {p.pid for p in psutil.Process(server.pid).children()}
    assert workers_before
    assert httpx.get(server.url + "/readyz").status_code == 200

    # Four clients back to back; two of them always have a query running in PostgreSQL.
    # The sleeps outlast the moment of the stop, so some are surely running when it comes.
    paths = ["/_probe/db-sleep?seconds=3", "/products", "/_probe/db-sleep?seconds=3", "/readyz"]
    marks: dict[str, float] = {}

    async def scenario():
        done = False
        # ``limit`` is a bound, not the pace: fast 503s and cache hits run at ~1,000 requests/s
        # here, and the traffic must still be running 2 s after the restart.
        traffic = asyncio.ensure_future(steady(
            server.url, lambda n: paths[n % len(paths)], workers=4, until=lambda: done,
            headers=HTMX, limit=20_000))
        await asyncio.sleep(1.0)
        marks["stop"] = time.monotonic()
        await asyncio.to_thread(postgres.stop)
        await asyncio.sleep(1.5)
        await asyncio.to_thread(postgres.start)
        marks["started"] = time.monotonic()
        await asyncio.sleep(4.0)
        done = True
        return await traffic

    outcomes = asyncio.run(scenario())
    counts = statuses(outcomes)
    # In flight or during the outage: a clean 503 with Retry-After; never a 500, never a hang.
    assert set(counts) <= {200, 503}, counts
    refused = [o for o in outcomes if o.status == 503]
    assert refused, "the outage should have been noticed by some requests"
    # Pages and fragments tell the client when to retry; /readyz reports the outage to the
    # orchestrator as it should (503 while the database is down).
    assert all(o.retry_after for o in refused if o.path != "/readyz")
    assert any(o.path == "/readyz" for o in refused)
    assert all(o.started >= marks["stop"] - 3.5 for o in refused)  # nothing before the outage
    in_flight = [o for o in refused if o.started < marks["stop"]]
    assert any(o.path.startswith("/_probe/db-sleep") for o in in_flight), \
        "the queries running when PostgreSQL stopped should have been answered 503"
    # The pool reconnects by itself: shortly after the restart everything succeeds again.
    settled = marks["started"] + 2.0
    after = [o for o in outcomes if o.started >= settled]
    assert len(after) >= 20 and statuses(after) == {200: len(after)}, statuses(after)
    # ...in the same worker process: nothing was restarted.
    assert server.process.poll() is None
    assert {p.pid for p in psutil.Process(server.pid).children()} == workers_before
    assert server_errors(server) == []
