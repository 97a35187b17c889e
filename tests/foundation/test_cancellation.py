"""A cancelled statement (htmx aborting a stale search, the request timeout) costs its query,
not its connection - and leaves no transaction open for the next request to run inside."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import literal, select, text

from app.data import direct
from app.data.database import AsyncDatabase


@pytest.fixture
def one_connection(app):
    """The app's database settings (and cancellation handling) with a pool of one connection,
    so the request after a cancelled one gets the very same connection if it was kept."""
    database = app.extensions["vitrine_db"]
    return AsyncDatabase(database.url, {**database.engine_options, "pool_size": 1,
                                        "max_overflow": 0})


def run(app, database, scenario):
    async def go():
        try:
            return await scenario()
        finally:
            await database.dispose_current()

    return app.run_blocking(go())


async def insert_category(database, slug):
    async with database.session() as session:
        await session.execute(text("INSERT INTO categories (name, slug) VALUES (:s, :s)"),
                              {"s": slug})
        await session.commit()
        return await session.scalar(text("SELECT pg_backend_pid()"))


def test_a_query_cancelled_mid_flight_keeps_its_connection(app, sql, one_connection):
    async def scenario():
        async with one_connection.session() as session:
            before = await session.scalar(text("SELECT pg_backend_pid()"))
            slow = asyncio.ensure_future(session.execute(text("SELECT pg_sleep(10)")))
            await asyncio.sleep(0.3)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            await session.rollback()
        after = await insert_category(one_connection, "after-cancel")
        return before, after

    before, after = run(app, one_connection, scenario)
    assert after == before  # the same backend served the next request
    assert sql.scalar("SELECT count(*) FROM categories WHERE slug = 'after-cancel'") == 1
    assert sql.scalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'"
                      " AND state = 'active'") == 0  # and the query was cancelled in PostgreSQL


def test_an_autocommit_read_cancelled_mid_flight_keeps_its_connection(app, sql, one_connection):
    """The catalog version is read outside any transaction, first thing in every shopper
    request: a search abandoned right then keeps its connection (it used to be closed, and the
    next request paid for a new PostgreSQL backend)."""
    async def scenario():
        before = await one_connection.scalar_autocommit(text("SELECT pg_backend_pid()"))
        slow = asyncio.ensure_future(one_connection.scalar_autocommit(
            text("SELECT pg_sleep(10)")))
        await asyncio.sleep(0.3)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        after = await insert_category(one_connection, "after-autocommit-cancel")
        return before, after

    before, after = run(app, one_connection, scenario)
    assert after == before  # the same backend served the next request
    assert sql.scalar("SELECT count(*) FROM categories"
                      " WHERE slug = 'after-autocommit-cancel'") == 1
    assert sql.scalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'"
                      " AND state = 'active'") == 0  # and the query was cancelled in PostgreSQL


@pytest.fixture
def cancel_next_begin(monkeypatch):
    """Arm: asyncpg's next ``BEGIN`` runs on the server and is then cancelled before its
    caller sees the answer - the transaction is open in PostgreSQL and unknown to SQLAlchemy.
    Each call arms it; ``cancel_next_begin.disarm()`` puts asyncpg back."""
    execute = asyncpg.Connection.execute

    async def cancelled_after_begin(self, query, *args, **kwargs):
        result = await execute(self, query, *args, **kwargs)
        if query.startswith("BEGIN"):
            raise asyncio.CancelledError
        return result

    def arm():
        monkeypatch.setattr(asyncpg.Connection, "execute", cancelled_after_begin)

    arm.disarm = lambda: monkeypatch.setattr(asyncpg.Connection, "execute", execute)
    return arm


def _open_transactions(sql) -> int:
    return sql.scalar("SELECT count(*) FROM pg_stat_activity"
                      " WHERE state LIKE 'idle in transaction%' AND datname = current_database()")


@pytest.mark.parametrize("path", ["session", "direct"])
def test_a_cancellation_landing_on_begin_is_rolled_back_and_keeps_the_connection(
        app, sql, one_connection, cancel_next_begin, path):
    """Left as it was, the next request's "commit" would only release a savepoint inside the
    stray transaction, and its write would be lost when the connection closes. The stray
    transaction is rolled back when the connection goes back to the pool, and the next
    request's write is committed for real, on the same backend."""
    statement = select(literal(1))

    async def scenario():
        async with one_connection.session() as session:  # connect (and its own BEGINs) first
            before = await session.scalar(text("SELECT pg_backend_pid()"))
        async with one_connection.session() as session:
            cancel_next_begin()
            try:
                with pytest.raises(asyncio.CancelledError):
                    if path == "session":
                        await session.execute(statement)
                    else:
                        await direct.fetch(session, statement)
            finally:
                cancel_next_begin.disarm()
        after = await insert_category(one_connection, "after-begin")
        return before, after

    before, after = run(app, one_connection, scenario)
    assert sql.scalar("SELECT count(*) FROM categories WHERE slug = 'after-begin'") == 1
    assert after == before  # the same backend
    assert _open_transactions(sql) == 0
