"""Statements run directly on asyncpg (:mod:`app.data.direct`) answer exactly what the session
answers, fail the same way, survive cancellation the same way, and stay visible to anything
that watches the SQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import (
    Integer,
    Numeric,
    Text,
    bindparam,
    event,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.data import direct
from app.data.database import AsyncDatabase

#: Columns of the kinds the catalog reads: text and integer parameters, an array parameter,
#: numerics, JSON (converted by SQLAlchemy's result processor), NULLs and several rows.
ROWS = (
    select(
        literal("branch", Text).label("branch"),
        (bindparam("n", type_=Integer) + func.generate_series(1, 3)).label("n"),
        func.cardinality(bindparam("names", type_=ARRAY(Text))).label("names"),
        (bindparam("price", type_=Numeric) * 2).label("price"),
        func.json_build_object("variants", bindparam("names", type_=ARRAY(Text)))
        .cast(JSON).label("card"),
        literal(None, Text).label("nothing"),
    )
)
VALUES = {"n": 7, "names": ["a", "b"], "price": 9.5}


@pytest.fixture
def database(app):
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


async def began(session: AsyncSession) -> None:
    """Let the session's first statement begin its transaction (the direct path needs it)."""
    await session.execute(text("SELECT 1"))


def test_rows_are_the_sessions_rows(app, database):
    async def scenario():
        async with database.session() as session:
            await began(session)
            through_session = (await session.execute(ROWS, VALUES)).all()
            direct_rows = await direct.fetch(session, ROWS, VALUES)
            again = await direct.fetch(session, ROWS, VALUES)  # the kept plan
            return through_session, direct_rows, again

    through_session, direct_rows, again = run(app, database, scenario)
    assert [tuple(r) for r in direct_rows] == [tuple(r) for r in through_session]
    assert again == direct_rows
    assert direct_rows[0].card == {"variants": ["a", "b"]}  # JSON decoded, as SQLAlchemy does
    assert [r.n for r in direct_rows] == [r.n for r in through_session] == [8, 9, 10]
    assert direct_rows[0]._fields == tuple(through_session[0]._fields)


def test_the_direct_path_does_not_use_the_session_once_the_transaction_began(app, database,
                                                                              monkeypatch):
    async def scenario():
        async with database.session() as session:
            await direct.fetch(session, ROWS, VALUES)  # begins the transaction, via the session

            async def refuse(*args, **kwargs):
                raise AssertionError("went through the session")

            monkeypatch.setattr(session, "execute", refuse)
            return await direct.scalar(session, ROWS, VALUES)

    assert run(app, database, scenario) == "branch"


def test_a_failing_statement_raises_what_the_session_raises(app, database):
    failing = select(bindparam("one", type_=Integer) / bindparam("zero", type_=Integer))
    values = {"one": 1, "zero": 0}

    async def scenario():
        errors = []
        for use_direct in (False, True):
            async with database.session() as session:
                await began(session)
                try:
                    if use_direct:
                        await direct.fetch(session, failing, values)
                    else:
                        await session.execute(failing, values)
                except DBAPIError as error:
                    errors.append(error)
                await session.rollback()
                assert await session.scalar(text("SELECT 2")) == 2  # usable again
        return errors

    through_session, direct_error = run(app, database, scenario)
    assert type(direct_error) is type(through_session)
    assert type(direct_error.orig) is type(through_session.orig)
    assert "division by zero" in str(direct_error)


def test_a_cancelled_direct_statement_keeps_its_connection(app, database):
    slow = select(func.pg_sleep(bindparam("seconds", type_=Numeric)))

    async def scenario():
        async with database.session() as session:
            before = await session.scalar(text("SELECT pg_backend_pid()"))
            task = asyncio.ensure_future(direct.fetch(session, slow, {"seconds": 10}))
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await session.rollback()
        async with database.session() as session:
            after = await session.scalar(text("SELECT pg_backend_pid()"))
        return before, after

    before, after = run(app, database, scenario)
    assert after == before


def test_statements_go_through_the_session_while_someone_watches_the_sql(app, database):
    seen: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    async def scenario():
        async with database.session() as session:
            await began(session)
            event.listen(Engine, "before_cursor_execute", watch)
            try:
                watched = await direct.fetch(session, ROWS, VALUES)
            finally:
                event.remove(Engine, "before_cursor_execute", watch)
            unwatched = await direct.fetch(session, ROWS, VALUES)
            return watched, unwatched, session.get_bind().dialect

    watched, unwatched, dialect = run(app, database, scenario)
    assert [tuple(r) for r in watched] == [tuple(r) for r in unwatched]
    # the watcher saw the statement - the very SQL the direct path sends
    plan = direct._plan(ROWS, dialect)
    assert plan is not None
    assert seen == [plan.sql]


def test_after_a_commit_or_a_rollback_the_next_transaction_gets_its_own_connection(app, database):
    async def scenario():
        async with database.session() as session:
            await began(session)
            first = await direct.fetch(session, ROWS, VALUES)
            await session.commit()
            after_commit = await direct.fetch(session, ROWS, VALUES)  # begins anew, via SA
            again = await direct.fetch(session, ROWS, VALUES)
            await session.rollback()
            after_rollback = await direct.fetch(session, ROWS, VALUES)
            return first, after_commit, again, after_rollback

    first, *later = run(app, database, scenario)
    assert all([tuple(r) for r in rows] == [tuple(r) for r in first] for rows in later)


def test_compiled_plans_are_bounded_and_let_their_statements_go():
    """A worker builds a statement per filter shape for as long as it serves: the plans kept
    for them stay within PLAN_CACHE_SIZE, and a statement nobody else holds is freed once its
    plan is evicted (a plan refers to its statement, so a cache keyed weakly by the statement
    kept every one of them)."""
    import gc
    import weakref

    from sqlalchemy import column, literal, select, table
    from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

    from app.data import direct

    dialect = asyncpg_dialect()
    products = table("products", column("id"), column("name"))
    first = select(products.c.id).where(products.c.name == literal("x0"))
    watched = weakref.ref(first)
    assert direct._plan(first, dialect) is direct._plan(first, dialect)  # kept while used
    del first
    for n in range(1, direct.PLAN_CACHE_SIZE + 50):
        direct._plan(select(products.c.id).where(products.c.name == literal(f"x{n}")), dialect)
    gc.collect()
    assert len(direct._PLANS) <= direct.PLAN_CACHE_SIZE
    assert watched() is None
