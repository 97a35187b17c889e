"""The worker's one ``LISTEN`` connection: reads committed events into the hub, forever.

An asyncpg connection of its own (outside the request pool: a pooled connection is reset and
shared, a listening one must stay), ``LISTEN vitrine_live``. A notification only wakes the
reader; events are read from the outbox by id, so nothing depends on a notification arriving:

* **Position and gaps.** Ids are taken when a trigger runs but become visible when their
  transaction commits, so a higher id can be read before a lower one commits. The reader keeps
  its position (the highest id read) and the ids it skipped below it; it reads ``id > position
  OR id = ANY(skipped)``, so a late commit is delivered when it comes. Once no transaction holds
  a write lock on the outbox, every skipped id has committed or never will: one more read takes
  the ones that did and the rest are forgotten (a rollback's ids do not linger). A skipped id
  that has not appeared after :data:`GAP_WAIT` seconds is forgotten too. At start the position
  is the newest id and the missing ids just below it are skipped ids (their transactions may
  still commit). Each event carries the reader's :class:`~.hub.Cursor` once it is delivered -
  position and skipped ids - which is the editors' stream's SSE id, so a client resuming on any
  worker gets exactly what it has not had.
* **Reconnection.** When the connection is lost (a database restart, a killed backend) the
  reader reconnects with a growing delay and first reads everything after its position: the
  events committed meanwhile are delivered, none twice, none lost while the outbox keeps them.
* It also reads every :data:`POLL` seconds without a notification (a lost notification costs a
  delay, not an event), which doubles as a liveness check of the connection.
* At most once a minute it deletes old events (:mod:`.retention`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from .hub import Cursor, Hub
from .outbox import CHANNEL, FETCH, FETCH_LIMIT, event_from_row
from .retention import Retention

log = logging.getLogger("vitrine.live")

#: Seconds a skipped id is waited for (longer than a writing transaction may stay open).
GAP_WAIT = 120.0
#: Skipped ids remembered at most.
MAX_GAPS = 10000
#: Seconds between reads without a notification.
POLL = 5.0
#: Reconnection delays (seconds): doubled from the first up to the last.
RETRY_FIRST, RETRY_MAX = 0.2, 5.0
#: Ids below the newest one checked for transactions still open when the reader starts.
START_SCAN = 1000

_START = """
    WITH top AS (SELECT coalesce(max(id), 0) AS newest, min(id) AS oldest FROM live_events)
    SELECT newest, ARRAY(
        SELECT g FROM generate_series(greatest(newest - $1, coalesce(oldest, newest), 1),
                                      newest) AS g
         WHERE NOT EXISTS (SELECT 1 FROM live_events WHERE id = g)) FROM top
"""
#: True when no other transaction holds a write lock on the outbox: every id taken so far
#: belongs to a transaction that has ended (an insert locks the table before taking its id).
_NO_WRITER = """
    SELECT NOT EXISTS (SELECT 1 FROM pg_locks
                        WHERE locktype = 'relation' AND relation = 'live_events'::regclass
                          AND mode = 'RowExclusiveLock'
                          AND pid IS DISTINCT FROM pg_backend_pid())
"""


class Listener:
    """Feeds ``hub`` from the outbox at ``dsn`` (see the module docstring)."""

    def __init__(self, dsn: str, hub: Hub, retention: Retention, *,
                 application_name: str = "vitrine listener") -> None:
        self.dsn = dsn
        self.hub = hub
        self.retention = retention
        self.application_name = application_name
        self.position: int | None = None
        self.gaps: dict[int, float] = {}
        self.connections = 0  # how many times it connected (tests see reconnections)
        #: True while connected and caught up with the outbox: every event committed before
        #: the last read has been dispatched, and later ones are on their way (see
        #: :attr:`following`).
        self.caught_up = False
        self._wake = asyncio.Event()
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        delay = RETRY_FIRST
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(
                    self.dsn, server_settings={"application_name": self.application_name})
                self._lost.clear()
                await connection.add_listener(CHANNEL, self._notified)
                connection.add_termination_listener(self._terminated)
                self.connections += 1
                if self.position is None:
                    newest, missing = await connection.fetchrow(_START, START_SCAN)
                    self.position = int(newest)
                    until = time.monotonic() + GAP_WAIT
                    self.gaps = {int(gap): until for gap in missing}
                    self.hub.last_id = max(self.hub.last_id, self.position)
                    self.hub.floor = self.position
                    self.hub.cursor = self._cursor()
                self.hub.ready.set()
                delay = RETRY_FIRST
                await self._serve(connection)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # connection refused, lost mid-read, server restarting
                log.warning("live listener reconnecting", extra={"error": repr(error)})
            finally:
                self.caught_up = False
                if connection is not None:
                    with contextlib.suppress(Exception):  # already gone
                        connection.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)

    @property
    def following(self) -> tuple[int, ...] | None:
        """While the listener is caught up, a value that changes whenever it reconnects (events
        may have been missed while it was away; they are replayed, but a consumer that keeps
        derived data may as well start again); None while it is not (not yet connected,
        connection lost, reconnecting): then nobody should rely on the feed."""
        return (self.connections,) if self.caught_up and self._task is not None else None

    def _notified(self, *_args: Any) -> None:
        self._wake.set()

    def _terminated(self, *_args: Any) -> None:
        self.caught_up = False
        self._lost.set()
        self._wake.set()

    async def _serve(self, connection: Any) -> None:
        """Read, then wait for a notification (or the poll interval), until the connection
        is lost; the caller reconnects."""
        while True:
            await self._read(connection)
            self.caught_up = not self._lost.is_set()
            await self.retention.maybe_delete(connection)
            try:
                async with asyncio.timeout(POLL):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            if self._lost.is_set() or connection.is_closed():
                raise ConnectionError("live listener connection lost")

    def _cursor(self) -> Cursor:
        assert self.position is not None
        return Cursor(self.position, frozenset(self.gaps) if self.gaps else frozenset())

    async def _read(self, connection: Any) -> None:
        """Deliver every committed event not delivered yet (see the module docstring)."""
        assert self.position is not None
        now = time.monotonic()
        self.gaps = {gap: until for gap, until in self.gaps.items() if until > now}
        await self._read_all(connection, now)
        if self.gaps and await connection.fetchval(_NO_WRITER):
            settled = list(self.gaps)  # each committed or never will
            await self._read_all(connection, now)  # the ones that committed before the check
            for gap in settled:
                self.gaps.pop(gap, None)
        cursor = self._cursor()
        if cursor != self.hub.cursor:  # gaps forgotten without an event to carry them
            self.hub.cursor = cursor

    async def _read_all(self, connection: Any, now: float) -> None:
        assert self.position is not None
        while True:
            rows = await connection.fetch(FETCH, self.position, list(self.gaps))
            if not rows:
                return
            events = []
            for row in rows:
                event_id = int(row[0])
                if event_id in self.gaps:
                    del self.gaps[event_id]
                else:
                    for skipped in range(self.position + 1, event_id):
                        self.gaps[skipped] = now + GAP_WAIT
                    self.position = max(self.position, event_id)
                    if len(self.gaps) > MAX_GAPS:
                        for gap in sorted(self.gaps)[:len(self.gaps) - MAX_GAPS]:
                            del self.gaps[gap]
                events.append(event_from_row(row, self._cursor()))
            self.hub.dispatch(events)
            if len(rows) < FETCH_LIMIT:
                return
