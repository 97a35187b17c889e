"""Run a statement of fixed shape straight on the session's asyncpg connection.

A search sends four statements or so, each built once per filter shape and kept (see
:mod:`app.catalog.filters`). Through ``AsyncSession.execute`` each one still costs ~0.2 ms of
worker CPU besides asyncpg's own work: the ORM session's execution, the compiled cache's key,
an execution context, a cursor adapter and result metadata - while the SQL and its bound
parameters' order never change for that statement object. Here the statement is compiled
once (as SQLAlchemy compiles it for this dialect: the very same SQL text, which asyncpg then
finds in the same per-connection prepared-statement cache), and each call only orders the
request's values, runs the prepared statement and applies the result columns' processors
(JSON, for instance) - the same values SQLAlchemy would return, as rows with attribute
access.

What stays SQLAlchemy's:

* **The transaction's start.** The asyncpg adapter begins its transaction at the first
  statement of the session; until it has, :func:`fetch` sends the statement through the
  session (so ``BEGIN``, and a cancellation landing on it, is handled as everywhere else).
* **Errors.** A failed statement is translated and raised by SQLAlchemy itself (its
  ``handle_error`` hooks run, a lost connection is invalidated): the same exception class and
  the same connection handling as through ``execute``. A cancellation (a timeout, htmx
  abandoning a stale search) propagates as is; the transaction had begun, so the connection
  is kept and the request's teardown rolls back - what the app's ``handle_error`` hook
  (:mod:`app.data.database`) arranges on the other path.
* **Observers.** While anything listens to ``before_cursor_execute`` or
  ``after_cursor_execute`` (the search benchmark's floor records the SQL the app sends, tests
  count statements), every statement goes through the session, so they see all of them.

Statements that need SQLAlchemy's per-execution work - expanding ``IN`` parameters, literal
execution, schema translation - always go through the session.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ClauseElement

from ..runtime.bridge import greenlet_spawn

__all__ = ["fetch", "scalar", "scalars"]

#: How many statements keep their plans: the shape caches hold 128 statements per kind
#: (:data:`app.catalog.filters.SHAPE_CACHE_SIZE`, four kinds), so every statement a worker
#: still builds on keeps its plan; an evicted one is compiled again when it comes back.
PLAN_CACHE_SIZE = 512

#: id(statement) -> (statement, its plan per dialect), least recently used first. The entry
#: holds the statement itself, so its id cannot be reused by another object while the entry
#: lives. Not a WeakKeyDictionary on the statement: a plan keeps the compiled statement, which
#: refers to the statement, so no key would ever die - every statement a worker ever built
#: was kept (a load test's worker grew by ~70 MB a minute).
_PLANS: OrderedDict[int, tuple[Any, dict[Dialect, _Plan | None]]] = OrderedDict()


@dataclass
class _Plan:
    """A compiled statement: its SQL, how to order and convert its parameters, its rows."""

    sql: str
    compiled: Any
    positions: tuple[str, ...]
    bind_processors: Mapping[str, Callable[[Any], Any]]
    #: the row class and result processors, by the prepared statement's column names and
    #: type oids (known once it has run)
    results: dict[tuple[Any, ...], _Results] = field(default_factory=dict)

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        params = self.compiled.construct_params(values, _check=True)
        processors = self.bind_processors
        return [processors[key](params[key]) if key in processors else params[key]
                for key in self.positions]

    def rows(self, dialect: Dialect, attributes: Sequence[Any]) -> _Results:
        """How to turn the records of a run into rows (worked out once per result shape)."""
        key = tuple((attribute.name, attribute.type.oid) for attribute in attributes)
        known = self.results.get(key)
        if known is not None:
            return known
        columns = self.compiled._result_columns
        processors: list[Callable[[Any], Any] | None] | None = None
        if len(columns) == len(key):
            processors = [column.type._cached_result_processor(dialect, oid)
                          for column, (_name, oid) in zip(columns, key, strict=True)]
            if not any(processors):
                processors = None
        # Named as PostgreSQL names the columns: by their labels, as SQLAlchemy's rows are.
        row_class = namedtuple("Row", [name for name, _oid in key],  # type: ignore[misc]
                               rename=True)
        self.results[key] = found = _Results(row_class._make, processors)
        return found


@dataclass(frozen=True)
class _Results:
    make: Callable[[Any], Any]
    processors: list[Callable[[Any], Any] | None] | None


def _plan(statement: Any, dialect: Dialect) -> _Plan | None:
    """The statement compiled for ``dialect`` (None: it needs SQLAlchemy's execution)."""
    entry = _PLANS.get(id(statement))
    per_dialect = entry[1] if entry is not None and entry[0] is statement else None
    if per_dialect is not None:
        _PLANS.move_to_end(id(statement))
        if dialect in per_dialect:
            return per_dialect[dialect]
    plan: _Plan | None = None
    if isinstance(statement, ClauseElement):
        compiled: Any = statement.compile(dialect=dialect)
        if (compiled.positional and not compiled.literal_execute_params
                and not compiled.post_compile_params and not compiled.schema_translate_map
                and not compiled.escaped_bind_names and not compiled.isinsert
                and not compiled.isupdate and not compiled.isdelete):
            plan = _Plan(compiled.string, compiled, tuple(compiled.positiontup or ()),
                         compiled._bind_processors)
    if per_dialect is None:
        per_dialect = {}
        _PLANS[id(statement)] = (statement, per_dialect)
        while len(_PLANS) > PLAN_CACHE_SIZE:
            _PLANS.popitem(last=False)
    per_dialect[dialect] = plan
    return plan


def _observed(connection: Connection) -> bool:
    """Whether anything listens to the SQL sent on ``connection`` (then it all goes through
    SQLAlchemy, which tells them)."""
    dispatch = connection.dispatch
    return bool(dispatch.before_cursor_execute) or bool(dispatch.after_cursor_execute)


async def fetch(session: AsyncSession, statement: Any,
                values: Mapping[str, Any] | None = None) -> list[Any]:
    """``(await session.execute(statement, values)).all()``, run directly on asyncpg when the
    session's transaction has begun (see the module docstring): rows with attribute access
    by column name, as SQLAlchemy's."""
    values = values or {}
    sync = await _connection(session)
    raw = sync._dbapi_connection
    adapted = getattr(raw, "dbapi_connection", None)
    if (adapted is None or getattr(adapted, "_transaction", None) is None
            or getattr(adapted, "_prepared_statement_cache", None) is None
            or sync.invalidated or _observed(sync)):
        return list((await session.execute(statement, values)).all())
    dialect = sync.dialect
    plan = _plan(statement, dialect)
    if plan is None:
        return list((await session.execute(statement, values)).all())
    arguments = plan.arguments(values)
    async with adapted._execute_mutex:
        try:
            prepared, attributes = await adapted._prepare(
                plan.sql, dialect._invalidate_schema_cache_asof)  # type: ignore[attr-defined]
            records = await prepared.fetch(*arguments)
        except Exception as error:
            await greenlet_spawn(_raise_translated, sync, adapted, error, plan.sql, arguments)
            raise  # pragma: no cover - _raise_translated always raises
    if not records:
        return []
    results = plan.rows(dialect, attributes)
    make, processors = results.make, results.processors
    if processors is None:
        return [make(record) for record in records]
    return [make([value if process is None else process(value)
                  for process, value in zip(processors, record, strict=True)])
            for record in records]


async def _connection(session: AsyncSession) -> Connection:
    """The session's connection: kept on the session while its transaction lasts
    (``session.connection()`` is a greenlet switch and the session's bookkeeping per call)."""
    info = session.info
    kept: Connection | None = info.get(_CONNECTION_KEY)
    if kept is not None and not kept.closed and kept.in_transaction():
        return kept
    connection = (await session.connection()).sync_connection
    assert connection is not None
    info[_CONNECTION_KEY] = connection
    return connection


#: ``session.info`` key of the session's connection (see :func:`_connection`).
_CONNECTION_KEY = "vitrine.direct.connection"


async def scalar(session: AsyncSession, statement: Any,
                 values: Mapping[str, Any] | None = None) -> Any:
    """``await session.scalar(statement, values)`` through :func:`fetch`."""
    rows = await fetch(session, statement, values)
    return rows[0][0] if rows else None


async def scalars(session: AsyncSession, statement: Any,
                  values: Mapping[str, Any] | None = None) -> list[Any]:
    """``(await session.scalars(statement, values)).all()`` through :func:`fetch`."""
    return [row[0] for row in await fetch(session, statement, values)]


def _raise_translated(connection: Connection, adapted: Any, error: Exception, sql: str,
                      arguments: list[Any]) -> None:
    """Raise ``error`` as SQLAlchemy would have (in a greenlet: invalidating a lost connection
    awaits): the adapter's DBAPI exception, wrapped and handled by the connection."""
    try:
        adapted._handle_exception(error)
    except Exception as translated:
        connection._handle_dbapi_exception(translated, sql, tuple(arguments), None, None)
    raise error  # pragma: no cover - both above raise
