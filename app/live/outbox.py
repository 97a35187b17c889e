"""The ``live_events`` outbox (migration 0010): publishing an event, reading events back.

Catalog and session events are written by the database's triggers; :func:`publish` is for the
app's own kinds (``presence``). Either way the row and its ``pg_notify`` belong to the writing
transaction: delivered at its commit, never after a rollback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .hub import Cursor, LiveEvent, ResumeTooOld

__all__ = ["CHANNEL", "FETCH", "event_from_row", "publish", "replay_after"]

#: The ``LISTEN`` channel; a notification's payload is the event id (a hint only).
CHANNEL = "vitrine_live"
#: Rows read at once; a longer backlog is read in several steps.
FETCH_LIMIT = 2000
#: The listener's read: what follows its position, and the ids it skipped that may still
#: commit (see :mod:`.listener`).
FETCH = f"""
    SELECT id, kind, entity_ids, payload::text, created_at FROM live_events
     WHERE id > $1 OR id = ANY($2::bigint[])
     ORDER BY id LIMIT {FETCH_LIMIT}
"""  # noqa: S608 - a constant
_PUBLISH = text("SELECT live_announce(:kind, CAST(:ids AS bigint[]), CAST(:payload AS jsonb))")
_REPLAY = text(f"""
    SELECT id, kind, entity_ids, payload::text, created_at FROM live_events
     WHERE id > :after OR id = ANY(CAST(:gaps AS bigint[])) ORDER BY id LIMIT {FETCH_LIMIT}
""")  # noqa: S608 - a constant
_OLDEST = text("SELECT min(id) FROM live_events")


async def publish(session: AsyncSession, kind: str, ids: Sequence[int],
                  payload: Mapping[str, Any]) -> int:
    """Add an event of ``kind`` about ``ids`` to the caller's transaction; returns its id."""
    event_id = await session.scalar(_PUBLISH, {
        "kind": kind, "ids": [int(i) for i in ids], "payload": json.dumps(dict(payload))})
    return int(event_id)


def event_from_row(row: Sequence[Any], cursor: Cursor | None = None) -> LiveEvent:
    event_id, kind, ids, payload, created_at = row
    return LiveEvent(int(event_id), kind, tuple(ids or ()), json.loads(payload), created_at,
                     cursor=cursor)


async def replay_after(session: AsyncSession, cursor: Cursor) -> list[LiveEvent]:
    """The events ``cursor`` does not cover still in the outbox, in id order. Raises
    :class:`ResumeTooOld` when some may already be deleted, or there are too many."""
    after = cursor.position
    oldest = await session.scalar(_OLDEST)
    if oldest is not None and oldest > after + 1:
        raise ResumeTooOld(after)
    rows = (await session.execute(_REPLAY, {"after": after,
                                            "gaps": sorted(cursor.gaps)})).all()
    if len(rows) >= FETCH_LIMIT:
        raise ResumeTooOld(after)
    return [event_from_row(row) for row in rows]


def as_ids(values: Iterable[Any]) -> list[int]:
    return [int(value) for value in values]
