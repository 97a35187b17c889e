"""Whether shopper reads may go to the read replica: up, and not lagging too far behind.

The router answers :meth:`ReplicaRouter.usable` from what it learnt at most
:data:`CHECK_INTERVAL` seconds ago; the first request after that asks the replica again (one
autocommit statement, bounded by :data:`CHECK_TIMEOUT`) while the requests that arrive meanwhile
use the last answer. A request that finds the replica down (:meth:`ReplicaRouter.failed`) marks
it unusable until the next check, so an outage costs each worker at most one failed connection
attempt per interval, and no request fails for it (:mod:`app.data.database` reads the primary).

**Lag** is measured on the replica itself: zero when it has replayed all the WAL it has
received, otherwise the age of the last transaction it replayed. That over-estimates right after
a quiet period (a change arrives after an hour without any: until it is replayed the lag reads
as an hour), which only sends reads to the primary for that moment - safe, never stale. What it
cannot see is a replica cut off from its primary that has replayed everything it received (no
new WAL arrives, so it looks current); a stopped primary fails the writes anyway, and a
network partition between the two is for the operator's monitoring (``pg_stat_replication``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import text

log = logging.getLogger("vitrine.db.replica")

#: Seconds an answer about the replica is trusted before it is asked again.
CHECK_INTERVAL = 1.0
#: Seconds the check may take (the first one opens a connection); slower counts as unusable.
CHECK_TIMEOUT = 2.0

#: The replica's delay in seconds (0 on a primary, or when all WAL received is replayed).
LAG_SQL = text("""
    SELECT CASE
        WHEN NOT pg_is_in_recovery() THEN 0.0
        WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0.0
        ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()),
                      1e9)::float8
    END
""")


class Checkable(Protocol):
    async def scalar_autocommit(self, statement: Any) -> Any: ...


D = TypeVar("D", bound=Checkable)


class ReplicaRouter(Generic[D]):
    """Routes shopper reads to ``replica`` while it answers within ``max_lag`` seconds."""

    def __init__(self, replica: D, *, max_lag: float) -> None:
        self.replica = replica
        self.max_lag = max_lag
        self._usable = False
        self._checked_at = float("-inf")
        self._checks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = (
            weakref.WeakKeyDictionary())
        self._reported: str | None = None

    async def usable(self) -> bool:
        """Whether a shopper read may use the replica now (checked at most once a second)."""
        if time.monotonic() - self._checked_at < CHECK_INTERVAL:
            return self._usable
        loop = asyncio.get_running_loop()
        check = self._checks.get(loop)
        if check is None or check.done():
            check = self._checks[loop] = loop.create_task(self._check())
            await asyncio.shield(check)  # the first caller waits; later ones use the old answer
        return self._usable

    def failed(self, error: BaseException) -> None:
        """A request could not use the replica: use the primary until the next check."""
        self._note(False, f"the read replica failed a request: {error!r}")

    async def _check(self) -> None:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                lag = float(await self.replica.scalar_autocommit(LAG_SQL))
        except Exception as error:  # down, refusing, too slow: reads go to the primary
            self._note(False, f"the read replica does not answer: {error!r}")
            return
        if lag > self.max_lag:
            self._note(False, f"the read replica lags {lag:.1f} s (bound {self.max_lag:g} s)")
        else:
            self._note(True, "the read replica is in use again")

    def _note(self, usable: bool, message: str) -> None:
        self._usable = usable
        self._checked_at = time.monotonic()
        state = "up" if usable else "down"
        if self._reported != state:  # one line per change of state, not per request
            if usable:
                if self._reported is not None:
                    log.warning(message)
            else:
                log.warning("%s; shopper reads use the primary", message)
            self._reported = state
