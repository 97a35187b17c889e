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

What is kept of a statement is its plan: the SQL, the parameters' order and conversions, the
result columns' types - not SQLAlchemy's compiled object, which holds the whole tree and the
compiler's state. A statement passed as itself keeps its plan while it lives; the catalog's
statements per filter shape are kept as :class:`Prepared`, the plan alone, so a worker can
keep a thousand shapes per kind in the memory 128 trees took.

What stays SQLAlchemy's:

* **The transaction's start.** The asyncpg adapter begins its transaction at the first
  statement of the session, in its cursor, with its ``_start_transaction`` (isolation level,
  read-only, deferrable as configured); :func:`fetch` calls that very method at the same
  point, under the same lock, so ``BEGIN`` - its failure, a cancellation landing on it - goes
  as through the session (a cancelled ``BEGIN``'s transaction is ended when the connection
  goes back to the pool: :func:`app.data.database._end_interrupted_begin`). (Sending a
  session's first statement through the session instead cost a :class:`Prepared` statement
  a rebuilt tree: ~1.4 ms per search in the benchmark.)
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

import functools
import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter, ClauseElement, _anonymous_label

from ..runtime.bridge import greenlet_spawn

__all__ = ["Prepared", "fetch", "scalar", "scalars"]

#: id(statement) -> (a weak reference to it, its plan per dialect), for statements passed as
#: themselves (a module's constant, a tree kept by a shape cache). A plan holds no reference
#: to its statement or to SQLAlchemy's compiled object (see :class:`_Plan`), so the entry dies
#: with the statement: one built for a single request takes its plan along. No bound of its
#: own to tune: whatever keeps the statements decides how much a worker keeps.
_PLANS: dict[int, tuple[weakref.ref[Any], dict[Dialect, _Plan | None]]] = {}


class _Parameter(NamedTuple):
    """One positional parameter of a plan: the request's value by ``key`` (None for an
    anonymous literal, which no request names) or by ``name`` (the parameter's name in the
    SQL); failing both, an error if ``required``, else ``default()`` or the value bound in the
    statement, converted once: ``constant``. ``process`` converts the request's values.

    Not the statement's ``BindParameter`` objects, which with their types and clones tripled
    a plan's size: a facet-count statement has ~50 parameters, most of them literals."""

    name: str
    key: str | None
    required: bool
    default: Callable[[], Any] | None
    constant: Any
    process: Callable[[Any], Any] | None

    @classmethod
    def of(cls, name: str, binds: list[BindParameter[Any]],
           process: Callable[[Any], Any] | None) -> _Parameter | None:
        """The parameter filled by ``binds`` (None: they do not agree on a key)."""
        keys = {bind.key for bind in binds}
        if len(keys) != 1:
            return None
        last = binds[-1]
        key = None if isinstance(last.key, _anonymous_label) else last.key
        constant = None
        if not last.callable and not last.required:
            constant = last.value if process is None else process(last.value)
        return cls(name, key, any(bind.required for bind in binds), last.callable, constant,
                   process)


@dataclass
class _Plan:
    """A compiled statement, kept as what running it again needs: its SQL, how to order and
    convert its parameters, the types of its result columns.

    Not SQLAlchemy's compiled object: that refers to the whole statement tree and to the
    compiler's working state (a worker that kept 512 of them held ~40 MB for them).
    """

    sql: str
    parameters: tuple[_Parameter, ...]
    #: values of ``statement.params(...)``, beneath the request's own
    collected: Mapping[str, Any]
    column_types: tuple[Any, ...]
    #: the row class and result processors, by the prepared statement's column names and
    #: type oids (known once it has run)
    results: dict[tuple[Any, ...], _Results] = field(default_factory=dict)

    @classmethod
    def of(cls, compiled: Any) -> _Plan | None:
        """The plan of ``compiled`` (None: its parameters need SQLAlchemy's own handling)."""
        by_name: dict[str, list[BindParameter[Any]]] = {}
        for bind, name in compiled.bind_names.items():
            by_name.setdefault(name, []).append(bind)
        processors = compiled._bind_processors
        parameters = []
        for name in compiled.positiontup or ():
            parameter = _Parameter.of(name, by_name[name], processors.get(name))
            if parameter is None:
                return None
            parameters.append(parameter)
        return cls(compiled.string, tuple(parameters), dict(compiled._collected_params or {}),
                   tuple(column.type for column in compiled._result_columns))

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        """The request's values in the SQL's order, converted as SQLAlchemy converts them
        (what ``compiled.construct_params`` and the bind processors give)."""
        if self.collected:
            values = {**self.collected, **values}
        arguments = []
        for name, key, required, default, constant, process in self.parameters:
            if key is not None and key in values:
                value = values[key]
            elif name in values:
                value = values[name]
            elif required:
                raise exc.InvalidRequestError(
                    f"A value is required for bind parameter {key or name!r}", code="cd3x")
            elif default is not None:
                value = default()
            else:
                arguments.append(constant)
                continue
            arguments.append(value if process is None else process(value))
        return arguments

    def rows(self, dialect: Dialect, attributes: Sequence[Any]) -> _Results:
        """How to turn the records of a run into rows (worked out once per result shape)."""
        key = tuple((attribute.name, attribute.type.oid) for attribute in attributes)
        known = self.results.get(key)
        if known is not None:
            return known
        types = self.column_types
        processors: list[Callable[[Any], Any] | None] | None = None
        if len(types) == len(key):
            processors = [type_._cached_result_processor(dialect, oid)
                          for type_, (_name, oid) in zip(types, key, strict=True)]
            if not any(processors):
                processors = None
        row_class = _row_class(tuple(name for name, _oid in key))
        self.results[key] = found = _Results(row_class._make, processors)
        return found


@functools.lru_cache(maxsize=1024)
def _row_class(names: tuple[str, ...]) -> Any:
    """The row class of a result with these column names, shared by every plan that has them
    (a named tuple class of eight columns is ~6 KB and takes ~0.05 ms to make).

    Named as PostgreSQL names the columns: by their labels, as SQLAlchemy's rows are."""
    return namedtuple("Row", names, rename=True)


@dataclass(frozen=True)
class _Results:
    make: Callable[[Any], Any]
    processors: list[Callable[[Any], Any] | None] | None


def _plan(statement: Any, dialect: Dialect) -> _Plan | None:
    """The statement compiled for ``dialect`` (None: it needs SQLAlchemy's execution)."""
    key = id(statement)
    entry = _PLANS.get(key)
    per_dialect = entry[1] if entry is not None and entry[0]() is statement else None
    if per_dialect is not None and dialect in per_dialect:
        return per_dialect[dialect]
    plan = _compile(statement, dialect)
    if per_dialect is None:
        per_dialect = {}
        try:
            reference = weakref.ref(statement, functools.partial(_forget, key))
        except TypeError:  # not weakly referable: planned on each call, never kept
            return plan
        _PLANS[key] = (reference, per_dialect)
    per_dialect[dialect] = plan
    return plan


def _compile(statement: Any, dialect: Dialect) -> _Plan | None:
    """``statement`` compiled for ``dialect`` as a plan, if it can run without SQLAlchemy's
    per-execution work (expanding ``IN``, literal execution, schema translation, DML)."""
    if not isinstance(statement, ClauseElement):
        return None
    compiled: Any = statement.compile(dialect=dialect)
    if (compiled.positional and not compiled.literal_execute_params
            and not compiled.post_compile_params and not compiled.schema_translate_map
            and not compiled.escaped_bind_names and not compiled.isinsert
            and not compiled.isupdate and not compiled.isdelete):
        return _Plan.of(compiled)
    return None


def _forget(key: int, reference: weakref.ref[Any]) -> None:
    """Drop the plans of a statement that has gone (unless its id is already another's)."""
    entry = _PLANS.get(key)
    if entry is not None and entry[0] is reference:
        del _PLANS[key]


class Prepared:
    """A statement of fixed shape kept as its plan alone, not as a statement tree.

    The catalog keeps one statement per filter shape it meets (facet counts, estimates, card
    pages), and shoppers wandering through phrases, facets, prices and sorts meet about a
    thousand shapes where the search bench's 30 URLs meet a few dozen. As trees, a worker could
    keep only 128 per kind (a facet-count statement with what compiling it memoises is
    ~200 KB) and missed a third of the time, building and compiling them again: 19.7 ms of CPU
    per request in ``python -m bench.shopper_replay``, 11.8 ms as plans. As a plan (its SQL,
    parameters and result types: ~20 KB for facet counts) a worker keeps eight times as many
    in less memory.

    ``build`` makes the statement: called when the plan is first needed on a dialect, and
    whenever a call must go through SQLAlchemy (while the SQL is observed, on a connection
    being invalidated: rare, and SQLAlchemy's own compiled cache then finds it). A statement
    that cannot run directly (:func:`_compile` gives None) is kept built.
    """

    __slots__ = ("build", "_plans", "_kept")

    #: dialects planned for at most: one per engine, and a worker has one (the test suite
    #: makes an app, so an engine, per test)
    DIALECTS = 4

    def __init__(self, build: Callable[[], Any]) -> None:
        self.build = build
        self._plans: dict[Dialect, _Plan | None] = {}
        self._kept: Any = None

    def plan(self, dialect: Dialect) -> _Plan | None:
        """The statement's plan on ``dialect`` (None: it needs SQLAlchemy's execution)."""
        try:
            return self._plans[dialect]
        except KeyError:
            pass
        statement = self.build()
        plan = _compile(statement, dialect)
        if plan is None:
            self._kept = statement
        if len(self._plans) >= self.DIALECTS:
            self._plans.clear()
        self._plans[dialect] = plan
        return plan

    def statement(self) -> Any:
        """The statement itself, for SQLAlchemy's execution."""
        return self._kept if self._kept is not None else self.build()


def _observed(connection: Connection) -> bool:
    """Whether anything listens to the SQL sent on ``connection`` (then it all goes through
    SQLAlchemy, which tells them)."""
    dispatch = connection.dispatch
    return bool(dispatch.before_cursor_execute) or bool(dispatch.after_cursor_execute)


async def fetch(session: AsyncSession, statement: Any,
                values: Mapping[str, Any] | None = None) -> list[Any]:
    """``(await session.execute(statement, values)).all()``, run directly on asyncpg (see the
    module docstring): rows with attribute access by column name, as SQLAlchemy's.
    ``statement``: a statement, or a :class:`Prepared` one."""
    values = values or {}
    sync = await _connection(session)
    raw = sync._dbapi_connection
    adapted = getattr(raw, "dbapi_connection", None)
    if (adapted is None or not hasattr(adapted, "_start_transaction")
            or getattr(adapted, "_prepared_statement_cache", None) is None
            or sync.invalidated or _observed(sync)):
        return await _through_session(session, statement, values)
    dialect = sync.dialect
    plan = statement.plan(dialect) if isinstance(statement, Prepared) else _plan(statement, dialect)
    if plan is None:
        return await _through_session(session, statement, values)
    arguments = plan.arguments(values)
    async with adapted._execute_mutex:
        try:
            if adapted._transaction is None:  # the session's first statement: as the adapter's
                await adapted._start_transaction()  # cursor does, BEGIN first
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


async def _through_session(session: AsyncSession, statement: Any,
                           values: Mapping[str, Any]) -> list[Any]:
    """The statement run by SQLAlchemy, as ``session.execute`` runs any."""
    if isinstance(statement, Prepared):
        statement = statement.statement()
    return list((await session.execute(statement, values)).all())


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
