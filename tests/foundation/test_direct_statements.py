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
    """Begin the session's transaction through SQLAlchemy first (to compare like with like)."""
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


def test_the_sessions_first_statement_begins_its_transaction_directly(app, database,
                                                                      monkeypatch):
    """No statement of a session goes through ``session.execute``, not even the one that
    begins its transaction - and that transaction is real: both statements see one id."""
    transaction_id = direct.Prepared(lambda: select(func.txid_current()))

    async def scenario():
        async with database.session() as session:

            async def refuse(*args, **kwargs):
                raise AssertionError("went through the session")

            monkeypatch.setattr(session, "execute", refuse)
            first = await direct.scalar(session, transaction_id)
            second = await direct.scalar(session, transaction_id)
            row = await direct.scalar(session, ROWS, VALUES)
            monkeypatch.undo()
            await session.rollback()
            after = await direct.scalar(session, transaction_id)
            return first, second, row, after

    first, second, row, after = run(app, database, scenario)
    assert first == second and row == "branch"
    assert after != first  # the rollback ended it; the next statement began another


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
            after_commit = await direct.fetch(session, ROWS, VALUES)  # begins anew
            again = await direct.fetch(session, ROWS, VALUES)
            await session.rollback()
            after_rollback = await direct.fetch(session, ROWS, VALUES)
            return first, after_commit, again, after_rollback

    first, *later = run(app, database, scenario)
    assert all([tuple(r) for r in rows] == [tuple(r) for r in first] for rows in later)


def test_a_plan_lives_as_long_as_its_statement_and_no_longer():
    """A worker builds a statement per filter shape for as long as it serves, and its shape
    caches let the old ones go: a plan is kept while its statement is, and neither the plan
    nor SQLAlchemy's compiled object keeps a statement alive (an earlier cache did, and a load
    test's worker grew by ~70 MB a minute)."""
    import gc
    import weakref

    from sqlalchemy import column, literal, select, table
    from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

    from app.data import direct

    dialect = asyncpg_dialect()
    products = table("products", column("id"), column("name"))
    kept = select(products.c.id).where(products.c.name == literal("kept"))
    first = select(products.c.id).where(products.c.name == literal("x0"))
    watched = weakref.ref(first)
    plan = direct._plan(kept, dialect)
    assert plan is not None and plan is direct._plan(kept, dialect)  # compiled once
    assert direct._plan(first, dialect) is not None
    planned = len(direct._PLANS)
    del first
    for n in range(1, 600):
        direct._plan(select(products.c.id).where(products.c.name == literal(f"x{n}")), dialect)
    gc.collect()
    assert watched() is None
    assert direct._plan(kept, dialect) is plan
    assert len(direct._PLANS) < planned  # none of the 599, nor the first, left a plan behind


def test_a_prepared_statement_answers_as_its_statement_on_every_path(app, database):
    """The catalog's kept statements are :class:`direct.Prepared`: the same rows directly, as
    the session's first statement, and (built again, through the session) while the SQL is
    watched."""
    built: list[int] = []

    def build():
        built.append(1)
        return ROWS

    prepared = direct.Prepared(build)
    seen: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    async def scenario():
        async with database.session() as session:
            first = await direct.fetch(session, prepared, VALUES)  # begins the transaction
            direct_rows = await direct.fetch(session, prepared, VALUES)
            event.listen(Engine, "before_cursor_execute", watch)
            try:
                watched = await direct.fetch(session, prepared, VALUES)
            finally:
                event.remove(Engine, "before_cursor_execute", watch)
            expected = (await session.execute(ROWS, VALUES)).all()
            return first, direct_rows, watched, expected

    first, direct_rows, watched, expected = run(app, database, scenario)
    for rows in (first, direct_rows, watched):
        assert [tuple(r) for r in rows] == [tuple(r) for r in expected]
        assert rows[0]._fields == tuple(expected[0]._fields)
    assert len(seen) == 1 and "generate_series" in seen[0]
    # built for the plan and for the watched call: never kept
    assert len(built) == 2


def test_a_prepared_statement_keeps_its_plan_not_its_tree():
    """What a worker keeps per filter shape is the SQL and the parameters' order: the statement
    tree (~200 KB for facet counts) is freed once the plan is made."""
    import gc
    import weakref

    from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

    trees: list[weakref.ref] = []

    def build():
        statement = select(literal("kept", Text).label("kept"),
                           bindparam("n", type_=Integer).label("n"))
        trees.append(weakref.ref(statement))
        return statement

    dialect = asyncpg_dialect()
    prepared = direct.Prepared(build)
    plan = prepared.plan(dialect)
    gc.collect()
    assert plan is not None and prepared.plan(dialect) is plan
    assert len(trees) == 1 and trees[0]() is None
    assert plan.arguments({"n": 3}) == ["kept", 3]


def test_a_plans_parameters_are_filled_as_sqlalchemy_fills_them():
    """Request values by key, literals bound in the statement, callables called on every run,
    and a missing required value refused with SQLAlchemy's own error."""
    from itertools import count

    from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
    from sqlalchemy.exc import InvalidRequestError

    ticks = count(1)
    statement = select(
        literal(5, Integer).label("literal"),
        bindparam("tick", callable_=lambda: next(ticks), type_=Integer).label("tick"),
        bindparam("fallback", 10, type_=Integer).label("fallback"),
        bindparam("n", type_=Integer).label("n"),
        (bindparam("n", type_=Integer) + 1).label("n_again"),
    )
    dialect = asyncpg_dialect()
    plan = direct.Prepared(lambda: statement).plan(dialect)
    assert plan is not None
    compiled = statement.compile(dialect=dialect)
    for values in ({"n": 1}, {"n": 2, "fallback": 20}, {"n": 3, "tick": 99}):
        arguments = plan.arguments(values)
        expected = compiled.construct_params(values)
        # the callable is called once by each: compare everything else, then the ticks
        tick_at = compiled.positiontup.index("tick")
        assert [a for i, a in enumerate(arguments) if i != tick_at] == \
            [expected[name] for i, name in enumerate(compiled.positiontup) if i != tick_at]
    first, second = (plan.arguments({"n": 1})[tick_at] for _ in range(2))
    assert second == first + 1  # called on every run, not frozen into the plan
    assert plan.arguments({"n": 1, "tick": 99})[tick_at] == 99
    with pytest.raises(InvalidRequestError, match="A value is required for bind parameter 'n'"):
        plan.arguments({})
