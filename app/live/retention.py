"""Old live events are deleted: cheaply, in bounded batches, at most once a minute per worker.

The outbox exists for replay (a listener reconnecting, a browser resuming with
``Last-Event-ID``), so rows older than ``VITRINE_LIVE_RETENTION`` seconds go. The delete runs
on the listener's own connection, by the index on ``created_at``, at most :data:`BATCH` rows
each time, skipping rows another worker is deleting at that moment (``SKIP LOCKED``).
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["Retention"]

#: Seconds between two deletes by one worker.
INTERVAL = 60.0
#: Rows deleted at most per run.
BATCH = 10000
_DELETE = f"""
    DELETE FROM live_events WHERE id IN (
        SELECT id FROM live_events
         WHERE created_at < now() - make_interval(secs => $1)
         ORDER BY created_at LIMIT {BATCH} FOR UPDATE SKIP LOCKED)
"""  # noqa: S608 - a constant


class Retention:
    """Deletes events older than ``seconds`` (see the module docstring)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self._next = 0.0

    async def maybe_delete(self, connection: Any) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + INTERVAL
        await connection.execute(_DELETE, self.seconds)
