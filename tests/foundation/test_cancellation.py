"""A cancelled statement (htmx aborting a stale search, the request timeout) costs its query,
not its connection - unless the cancellation leaves a state no rollback can repair, in which
case the connection is closed rather than handed to the next request."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

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


def test_a_cancellation_landing_on_begin_closes_the_connection(app, sql, one_connection,
                                                                monkeypatch):
    """The server ran BEGIN but the task was cancelled before it saw the answer: the
    transaction is open in PostgreSQL and unknown to SQLAlchemy, so a rollback cannot end it.
    Kept, the next request's "commit" would only release a savepoint inside it."""
    execute = asyncpg.Connection.execute

    async def begin_then_cancelled(self, query, *args, **kwargs):
        result = await execute(self, query, *args, **kwargs)
        if query.startswith("BEGIN"):
            raise asyncio.CancelledError
        return result

    async def scenario():
        async with one_connection.session() as session:  # connect (and its own BEGINs) first
            await session.execute(text("SELECT 1"))
        async with one_connection.session() as session:
            monkeypatch.setattr(asyncpg.Connection, "execute", begin_then_cancelled)
            try:
                with pytest.raises(asyncio.CancelledError):
                    await session.execute(text("SELECT 1"))
            finally:
                monkeypatch.setattr(asyncpg.Connection, "execute", execute)
        await insert_category(one_connection, "after-begin")

    run(app, one_connection, scenario)
    assert sql.scalar("SELECT count(*) FROM categories WHERE slug = 'after-begin'") == 1
