"""Clients that give up: a burst of stale searches cancelled mid-request (what ``hx-sync``
does to every keystroke's request when the next one starts) leaves no query running, no
transaction open and no connection checked out; the searches that were kept still answer."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest

from .conftest import (
    LIVE_APPLICATION_NAME,
    eventually,
    log_records,
    server_errors,
    vitrine_connections,
)
from .traffic import HTMX

pytestmark = pytest.mark.live

POOL = 4
SHOPPERS = 12
WORDS = ["lamp", "oak table", "linen", "brass"]


@pytest.fixture
def catalog(sql):
    """A few thousand products, so searches do real work."""
    category = sql.category("Lighting")
    sql.execute(
        "INSERT INTO products (name, slug, description, price, stock, attributes, category_id)"
        " SELECT (ARRAY['Brass','Oak','Linen','Glass'])[1 + i %% 4] || ' Lamp ' || i,"
        "        'lamp-' || i, 'A lamp with a linen shade, number ' || i, 10 + i %% 90, i %% 7,"
        "        jsonb_build_object('brand', 'Brand' || i %% 9, 'colour', 'white'), %s"
        " FROM generate_series(1, 3000) AS i", category)


async def type_and_abandon(base_url: str, word: str, rng: random.Random) -> int:
    """Type ``word`` one character at a time; each keystroke's search replaces (cancels) the
    previous one still in flight; the last one is awaited. Returns its status."""
    async with httpx.AsyncClient(base_url=base_url, timeout=15, headers=HTMX) as client:
        pending: asyncio.Task | None = None
        for end in range(1, len(word) + 1):
            if pending is not None:
                pending.cancel()  # the browser aborts the stale request: its socket closes
            pending = asyncio.ensure_future(client.get("/products", params={"q": word[:end]}))
            await asyncio.sleep(rng.uniform(0.0, 0.03))
        assert pending is not None
        return (await pending).status_code


async def abandon_slow_query(base_url: str, rng: random.Random) -> None:
    """A request that holds a transaction open in PostgreSQL, abandoned while it runs."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        with pytest.raises(httpx.TimeoutException):
            await client.get("/_probe/db-sleep?seconds=10", timeout=rng.uniform(0.1, 0.3))


def test_burst_of_cancelled_searches_leaks_no_connection_or_transaction(serve, sql, catalog):
    server = serve({"VITRINE_DB_POOL_SIZE": str(POOL), "VITRINE_DB_MAX_OVERFLOW": "0"})
    rng = random.Random(5)

    async def scenario():
        searches = [type_and_abandon(server.url, WORDS[i % len(WORDS)], rng)
                    for i in range(SHOPPERS)]
        slow = [abandon_slow_query(server.url, rng) for _ in range(2 * POOL)]
        return await asyncio.gather(*searches, *slow)

    results = asyncio.run(scenario())
    assert results[:SHOPPERS] == [200] * SHOPPERS  # the search that was kept is answered

    # Everything abandoned is cancelled in the app and in PostgreSQL, without waiting for the
    # request timeout (15 s) or the queries (10 s).
    assert eventually(lambda: _busy(sql) == 0, 3)
    assert vitrine_connections(sql, "idle in transaction%") == 0
    assert vitrine_connections(sql) <= POOL  # nothing leaked beyond the pool
    assert httpx.get(server.url + "/_probe/pool").json()["checked_out"] == 0
    disconnected = [r for r in log_records(server) if r.get("outcome") == "client_disconnected"]
    assert len(disconnected) >= 2 * POOL
    assert server_errors(server) == []
    # The pool serves normally afterwards.
    for word in WORDS:
        assert httpx.get(server.url + "/products", params={"q": word},
                         headers=HTMX).status_code == 200


def test_cancelled_requests_keep_their_database_connections(serve, sql, catalog):
    """A cancelled search costs its query, not its connection: the pool's connections (and
    their prepared statements) survive a burst of cancellations, with no reconnect per abort."""
    server = serve({"VITRINE_DB_POOL_SIZE": str(POOL), "VITRINE_DB_MAX_OVERFLOW": "0"})
    rng = random.Random(11)

    async def fill_pool():  # every pooled connection opened, before the burst
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
            await asyncio.gather(*(client.get("/_probe/db-sleep?seconds=0.3")
                                   for _ in range(POOL)))

    async def burst():
        searches = [type_and_abandon(server.url, WORDS[i % len(WORDS)], rng)
                    for i in range(SHOPPERS)]
        slow = [abandon_slow_query(server.url, rng) for _ in range(POOL)]
        return await asyncio.gather(*searches, *slow)

    asyncio.run(fill_pool())
    before = _backend_pids(sql)
    assert len(before) == POOL
    results = asyncio.run(burst())
    assert results[:SHOPPERS] == [200] * SHOPPERS
    assert eventually(lambda: _busy(sql) == 0, 3)
    cancelled = [r for r in log_records(server) if r.get("outcome") == "client_disconnected"]
    assert len(cancelled) >= POOL
    assert _backend_pids(sql) == before  # the same backends: nothing closed, nothing reopened
    assert [r for r in log_records(server) if r.get("level") == "warning"] == []
    assert server_errors(server) == []


def _backend_pids(sql) -> set[int]:
    rows = sql.all("SELECT pid FROM pg_stat_activity WHERE application_name = %s"
                   " AND datname = current_database()", LIVE_APPLICATION_NAME)
    return {row["pid"] for row in rows}


def _busy(sql) -> int:
    return sql.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
                      " AND datname = current_database() AND state <> 'idle'",
                      LIVE_APPLICATION_NAME)
