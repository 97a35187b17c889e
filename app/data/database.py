"""The async engine and the per-request session.

Each event loop gets its own :class:`~sqlalchemy.ext.asyncio.AsyncEngine` (an asyncpg connection
belongs to the loop that opened it). Under Hypercorn a worker has exactly one loop, so it has one
engine and one pool, shared by all its requests; the test client's loop thread has another.

Each app has its own :class:`AsyncDatabase` (``app.extensions["vitrine_db"]``, created by
:func:`init_database`), so two apps in one process never share a URL or a pool.

In a request, :func:`get_session` returns the request's ``AsyncSession``; it is closed at
teardown, after a rollback if the request failed or was cancelled. Outside requests (CLI, tests,
benchmarks), take the app's database first (``db = get_database()`` in an app context, or
``app.extensions["vitrine_db"]``), then ``async with db.session() as session`` on the loop.

**A read replica** (``DATABASE_REPLICA_URL``, optional): a request that the web layer marks as a
shopper read (:func:`prefer_replica`, see :mod:`app.web.read_routing`) gets its session from the
replica when :class:`~app.data.replica.ReplicaRouter` finds it up and within
``REPLICA_MAX_LAG``; every other request, and any request once the replica failed it, uses the
primary. The choice is made once per request and only ever moves from the replica to the
primary, so a request never reads the primary's state and then an older one.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import event, exc, text
from sqlalchemy.engine import URL, ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection, PoolResetState

from ..runtime.bridge import await_in_greenlet
from .replica import ReplicaRouter
from .urls import async_url

log = logging.getLogger("vitrine.db")

_SESSION_KEY = "_vitrine_db_session"
#: The database this request reads and writes (chosen at its first use).
_CHOSEN_KEY = "_vitrine_db_chosen"
#: Set by :func:`prefer_replica`: this request only reads shopper data.
_PREFER_REPLICA_KEY = "_vitrine_db_prefer_replica"
#: The app's :class:`~app.data.replica.ReplicaRouter`, when a replica is configured.
ROUTER_KEY = "vitrine_db_router"
#: Seconds a connection attempt to the replica may take before its reads go to the primary.
REPLICA_CONNECT_TIMEOUT = 2.0


class AsyncDatabase:
    """Owns one async engine per event loop, built from one app's ``DATABASE_URL``."""

    def __init__(self, url: URL, engine_options: dict[str, Any]) -> None:
        self.url = url
        self.engine_options = engine_options
        self._engines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncEngine] = (
            weakref.WeakKeyDictionary()
        )
        self._sessionmakers: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, async_sessionmaker[AsyncSession]
        ] = weakref.WeakKeyDictionary()

    @property
    def engine(self) -> AsyncEngine:
        """The engine of the running event loop, created on first use."""
        loop = asyncio.get_running_loop()
        engine = self._engines.get(loop)
        if engine is None:
            engine = create_async_engine(self.url, **self.engine_options)
            event.listen(engine.sync_engine, "handle_error", _keep_cancelled_connection)
            event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
            event.listen(engine.sync_engine, "reset", _end_interrupted_begin)
            self._engines[loop] = engine
            self._sessionmakers[loop] = async_sessionmaker(engine, expire_on_commit=False)
        return engine

    def current_engine(self) -> AsyncEngine | None:
        """The running loop's engine if it has been created (metrics read its pool)."""
        return self._engines.get(asyncio.get_running_loop())

    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """The session factory bound to the running loop's engine."""
        self.engine  # noqa: B018 - creates the engine and its factory on first use
        return self._sessionmakers[asyncio.get_running_loop()]

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for code outside a request; rolled back unless committed."""
        async with self.sessionmaker()() as session:
            yield session

    async def scalar_autocommit(self, statement: Any) -> Any:
        """Run one statement outside any transaction: a single round trip (no BEGIN, no
        ROLLBACK), for reads that need no snapshot shared with others (the catalog version)."""
        async with self.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            return await autocommit.scalar(statement)

    async def ping(self) -> None:
        """Round-trip to the database (used by ``/readyz``)."""
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose_current(self) -> None:
        """Close the running loop's pool (worker shutdown, end of a test loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        engine = self._engines.pop(loop, None)
        self._sessionmakers.pop(loop, None)
        if engine is not None:
            await engine.dispose()


def server_settings(config: Mapping[str, Any]) -> dict[str, str]:
    """The session settings every connection of the app's pool starts with.

    * ``statement_timeout``, ``idle_in_transaction_session_timeout``: PostgreSQL-side safety
      nets behind the app's own request timeout.
    * ``plan_cache_mode = force_custom_plan``: asyncpg prepares every statement, and after five
      runs PostgreSQL may switch a prepared statement to a generic plan - which cannot know
      whether a search word matches 30 or 70,000 rows and picks one index strategy for both.
    * ``random_page_cost = 1.1`` (default 4, tuned for spinning disks): the catalog lives in
      memory; at 4 the planner prefers a sequential scan evaluating ``@@`` on every row to a
      GIN bitmap scan over a few thousand, and is 3-5x slower.
    * ``max_parallel_workers_per_gather = 0``, ``jit = off``: a search statement is a few
      milliseconds; parallel workers (a process each, started per statement) and JIT
      compilation shorten a lone request on an idle server but cost more CPU in total, and
      under load - when it matters - every core is already busy with other requests.
    * ``work_mem = 16MB`` (default 4MB): a bitmap of a 100,000-row filter (a department, a
      brand) at 1,000,000 products spans ~65,000 heap pages; at 4MB PostgreSQL makes it lossy
      and then reads and rechecks every row of those pages - 16,000 pages instead of 6,000 for
      "lamp + Lighting + a brand", which also pushes the catalog out of shared buffers (issue
      14). Sorts and hashes of a search are small; 16MB is a bound, not an allocation.

    Set at connect time rather than per transaction, they cost no round trip per request.
    """
    return {
        "application_name": config["DB_APPLICATION_NAME"],
        "idle_in_transaction_session_timeout": str(config["DB_IDLE_IN_TRANSACTION_TIMEOUT_MS"]),
        "statement_timeout": str(config["DB_STATEMENT_TIMEOUT_MS"]),
        "plan_cache_mode": "force_custom_plan",
        "random_page_cost": "1.1",
        "max_parallel_workers_per_gather": "0",
        "jit": "off",
        "work_mem": "16MB",
    }


def _keep_cancelled_connection(context: ExceptionContext) -> None:
    """``handle_error``: a statement interrupted by task cancellation keeps its connection.

    SQLAlchemy treats any exit exception during a statement as a lost connection and closes
    it. Here cancellation is routine - htmx aborts every stale search (``hx-sync``), and the
    request timeout cancels slow ones - and asyncpg handles it: it sends PostgreSQL a cancel
    request for the running query and makes the connection's next command wait until the
    server is ready again. Closing the connection instead would cost a new PostgreSQL
    backend, its type introspection and every prepared statement per abandoned search.

    What the cancellation leaves open is ended when the connection goes back to the pool:
    a transaction the adapter holds by the request's teardown rollback; one whose ``BEGIN``
    the cancellation interrupted by :func:`_end_interrupted_begin`; an autocommit statement
    (the catalog version each shopper request reads first) leaves nothing. If that fails,
    the connection is discarded there. A cancellation landing on a commit, a rollback or the
    connect itself (no statement) still closes the connection: what the server did is unknown.
    """
    if not isinstance(context.original_exception, asyncio.CancelledError):
        return
    if context.statement is None or context.connection is None:
        return  # commit, rollback or connect: the transaction's state is unknown
    context.is_disconnect = False


def _end_interrupted_begin(dbapi_connection: Any, record: ConnectionPoolEntry,
                           reset_state: PoolResetState) -> None:
    """``reset`` (a connection going back to the pool): end a transaction whose ``BEGIN`` a
    cancellation interrupted.

    asyncpg marks its connection as inside a transaction (``_top_xact``) before it sends
    ``BEGIN``; SQLAlchemy's asyncpg adapter records the transaction (``_transaction``) only once
    ``BEGIN`` has answered. Cancelled in between, the server may have begun a transaction that
    no rollback of the adapter's would end, and asyncpg would turn the next request's ``BEGIN``
    into a ``SAVEPOINT`` inside it: that request's commit would only release the savepoint.
    So the connection gets a plain ``ROLLBACK`` (a harmless warning if the server had begun
    nothing; asyncpg first waits for the cancelled command to finish) and asyncpg's mark is
    cleared. Private attributes of asyncpg and of the adapter, checked by
    ``tests/foundation/test_cancellation.py`` on both paths (the session's and
    :mod:`app.data.direct`'s).
    """
    if not reset_state.asyncio_safe or reset_state.terminate_only:
        return  # the connection is being closed anyway
    connection = getattr(dbapi_connection, "_connection", None)
    if (getattr(connection, "_top_xact", None) is None
            or getattr(dbapi_connection, "_transaction", None) is not None):
        return  # no transaction, or one the adapter holds (and rolls back itself)
    log.info("ending a transaction whose BEGIN was cancelled")
    connection._top_xact = None  # type: ignore[union-attr]
    await_in_greenlet(connection.execute("ROLLBACK"))  # type: ignore[union-attr]


def _refuse_closed_connection(dbapi_connection: Any, record: ConnectionPoolEntry,
                              proxy: PoolProxiedConnection) -> None:
    """``checkout``: a pooled connection that PostgreSQL has already closed is not handed out;
    the pool then replaces every connection it holds, and the request gets a fresh one.

    After a database restart (or a failover, or ``pg_terminate_backend``) each pooled connection
    is dead, but nobody notices until a request uses one: without this, the first request on
    each worker got a 503, however long after the restart it came. asyncpg notices by itself:
    the server sends "terminating connection" and closes the socket, the worker's event loop
    reads that while the connection sits idle in the pool, and ``is_closed()`` turns true. So
    checking it costs no round trip, unlike ``pool_pre_ping`` (which, with asyncpg, is three:
    BEGIN, an empty query, ROLLBACK - on every checkout, i.e. every request).

    :class:`~sqlalchemy.exc.InvalidatePoolError`: one closed connection means the others are
    probably closed too (a restart ends them all), and some may not show it yet (their end of
    the socket not read yet); they are replaced at their next checkout rather than each
    failing one request.
    What this cannot see is a connection whose server vanished without closing the socket (a
    network partition): that is what ``VITRINE_DB_POOL_PRE_PING`` is still there for.
    """
    connection = getattr(dbapi_connection, "_connection", None)  # SQLAlchemy's asyncpg adapter
    is_closed = getattr(connection, "is_closed", None)
    if is_closed is not None and is_closed():
        log.warning("a pooled database connection was closed by the server; renewing the pool")
        raise exc.InvalidatePoolError("connection closed by the server")


def engine_options(config: Mapping[str, Any]) -> dict[str, Any]:
    """The pool and connection options of the app's engines (primary and replica alike).

    The pool hands out the connection returned last (``pool_use_lifo``): a request takes one
    connection for the catalog version and then one for its session, one after the other, and
    with a first-in-first-out pool those would be two different connections, so a worker at low
    load would keep every pooled connection (and its PostgreSQL backend and prepared
    statements) warm instead of reusing the one it just had."""
    return {
        "pool_size": config["DB_POOL_SIZE"],
        "pool_use_lifo": True,
        "max_overflow": config["DB_MAX_OVERFLOW"],
        "pool_timeout": config["DB_POOL_TIMEOUT"],
        "pool_pre_ping": config["DB_POOL_PRE_PING"],
        "pool_recycle": config["DB_POOL_RECYCLE"],
        "query_cache_size": config["DB_QUERY_CACHE_SIZE"],
        "connect_args": {
            "prepared_statement_cache_size": config["DB_PREPARED_STATEMENT_CACHE_SIZE"],
            "server_settings": server_settings(config),
        },
    }


def init_database(app: Flask) -> AsyncDatabase:
    """Create the app's database (and replica) from its config; close request sessions at
    teardown."""
    config = app.config
    database = AsyncDatabase(async_url(config["DATABASE_URL"]), engine_options(config))
    app.extensions["vitrine_db"] = database
    app.teardown_request(_close_request_session)
    on_shutdown = getattr(app, "on_shutdown", None)
    if on_shutdown is not None:
        on_shutdown(database.dispose_current)
    replica_url = config.get("DATABASE_REPLICA_URL")
    if replica_url:
        options = engine_options(config)
        options["connect_args"] = {**options["connect_args"], "timeout": REPLICA_CONNECT_TIMEOUT}
        replica = AsyncDatabase(async_url(replica_url), options)
        router = ReplicaRouter(replica, max_lag=float(config["REPLICA_MAX_LAG"]))
        app.extensions[ROUTER_KEY] = router
        if on_shutdown is not None:
            on_shutdown(replica.dispose_current)
    return database


def get_database() -> AsyncDatabase:
    """The current app's database (needs an app or request context)."""
    return current_app.extensions["vitrine_db"]


def prefer_replica() -> None:
    """Mark the current request as a shopper read: it may read from the replica."""
    setattr(g, _PREFER_REPLICA_KEY, True)


def _router() -> ReplicaRouter | None:
    router: ReplicaRouter | None = current_app.extensions.get(ROUTER_KEY)
    return router


async def request_database() -> AsyncDatabase:
    """The database the current request uses, chosen at its first use: the replica for a
    shopper read while the replica is usable, the primary otherwise."""
    chosen: AsyncDatabase | None = g.get(_CHOSEN_KEY)
    if chosen is None:
        chosen = get_database()
        router = _router()
        if router is not None and g.get(_PREFER_REPLICA_KEY) and await router.usable():
            chosen = router.replica
        setattr(g, _CHOSEN_KEY, chosen)
    return chosen


def _fall_back_to_primary(error: BaseException) -> AsyncDatabase:
    """The replica failed this request: note it (the router stops using it until its next
    check) and use the primary from now on."""
    router = _router()
    if router is not None:
        router.failed(error)
    primary = get_database()
    setattr(g, _CHOSEN_KEY, primary)
    return primary


async def read_outside_transaction(statement: Any) -> Any:
    """One autocommit statement on the request's database (falling back to the primary if
    the replica cannot answer)."""
    database = await request_database()
    if database is get_database():
        return await database.scalar_autocommit(statement)
    try:
        return await database.scalar_autocommit(statement)
    except Exception as error:  # the replica is down or refused us: the primary answers
        return await _fall_back_to_primary(error).scalar_autocommit(statement)


async def get_session() -> AsyncSession:
    """The current request's session, opened on first use and closed at teardown.

    A session on the replica takes its connection at once, so a replica that is down is found
    here, before any query of the view, and the request reads from the primary instead."""
    session: AsyncSession | None = g.get(_SESSION_KEY)
    if session is None:
        database = await request_database()
        session = database.sessionmaker()()
        if database is not get_database():
            try:
                await session.connection()
            except Exception as error:  # the replica is down: this request reads the primary
                await _discard(session)
                session = _fall_back_to_primary(error).sessionmaker()()
        setattr(g, _SESSION_KEY, session)
    return session


async def _discard(session: AsyncSession) -> None:
    try:
        await session.invalidate()
    except Exception:  # nothing to give back: its connection never opened
        log.debug("closing a replica session that never connected failed", exc_info=True)


def _close_request_session(error: BaseException | None) -> None:
    """Teardown: roll back (on error or cancellation) and return the connection to the pool.

    Shielded: a client that disconnects while its request is already closing cancels the
    request, but not the rollback - an interrupted rollback would cost the connection."""
    session: AsyncSession | None = g.pop(_SESSION_KEY, None)
    if session is not None:
        closing = asyncio.ensure_future(_finish(session, error))
        _CLOSING.add(closing)  # held until done, even if the request is cancelled meanwhile
        closing.add_done_callback(_CLOSING.discard)
        await_in_greenlet(asyncio.shield(closing))


#: Teardowns still running for requests that were cancelled while closing.
_CLOSING: set[asyncio.Future[None]] = set()


async def _finish(session: AsyncSession, error: BaseException | None) -> None:
    try:
        if error is not None:
            await session.rollback()
        await session.close()
    except BaseException:  # a cancelled query can leave the connection unusable: drop it
        log.warning("discarding a database connection after a failed close", exc_info=True)
        await session.invalidate()
