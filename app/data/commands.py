"""Commands applied at most once: the ``command_keys`` table (migration 0006).

Every state-changing request carries a one-time key (a hidden field of the editor's forms, the
API's ``Idempotency-Key`` header). :func:`claim` inserts the key with
``INSERT ... ON CONFLICT DO NOTHING`` as the *first* statement of the request's transaction,
and :func:`record` stores the response in the same transaction just before it commits. So:

* a repeat after the first committed (double-click, retry after a timeout, replay on another
  worker or after a restart) finds the row and gets the stored response: :class:`Replay`;
* a concurrent duplicate's insert waits on the first transaction's index entry (PostgreSQL
  makes a conflicting insert wait for the inserting transaction to end): if the first commits,
  the duplicate sees its row and replays it; if it rolls back (a refusal: nothing was changed),
  the duplicate's insert succeeds and it runs as the first;
* callers that must not wait (the API answers 409 to a key still in progress) take a
  transaction-scoped advisory lock on the key first (``wait=False``): :class:`InProgress`;
* a key first used for another endpoint, body or user is refused: :class:`Mismatch`.

Only outcomes that changed something are kept: a refused request (4xx) rolls back, key
included, so the same key may be sent again once the input is corrected.

Rows older than ``COMMAND_KEY_TTL`` seconds are deleted lazily: :func:`claim` runs one indexed
``DELETE`` of at most :data:`PURGE_BATCH` rows, skipping rows another purge has locked, at most
once every :data:`PURGE_EVERY` seconds per worker.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .models import CommandKey

#: Seconds between two lazy purges of expired keys (per worker process).
PURGE_EVERY = 60.0
#: Most expired keys one purge deletes (the rest go at the next one): bounded work per request.
PURGE_BATCH = 5000
_last_purge = 0.0


@dataclass(frozen=True)
class Claimed:
    """The key is new: run the command, then :func:`record` its outcome before committing."""


@dataclass(frozen=True)
class Replay:
    """The key was used before for this same request: send this response again."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(frozen=True)
class Mismatch:
    """The key was used before for another request (endpoint, body or user)."""


@dataclass(frozen=True)
class InProgress:
    """The key's first request is still running (only with ``wait=False``)."""


ClaimResult = Claimed | Replay | Mismatch | InProgress


async def _purge_expired(session: AsyncSession, ttl_seconds: int) -> None:
    global _last_purge
    now = time.monotonic()
    if now - _last_purge < PURGE_EVERY:
        return
    _last_purge = now
    # SKIP LOCKED: two workers purging at once never wait for each other's transaction.
    await session.execute(text(
        "DELETE FROM command_keys WHERE ctid IN (SELECT ctid FROM command_keys"
        " WHERE created_at < now() - make_interval(secs => :ttl)"
        " LIMIT :batch FOR UPDATE SKIP LOCKED)"), {"ttl": ttl_seconds, "batch": PURGE_BATCH})


async def claim(session: AsyncSession, *, scope: str, key: str, user_id: int | None,
                fingerprint: str, ttl_seconds: int, wait: bool = True) -> ClaimResult:
    """Claim ``key`` in ``scope`` for this request, in the session's transaction (see the module
    docstring). Call it before the command reads or writes anything."""
    await _purge_expired(session, ttl_seconds)
    if not wait:
        locked = await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(hashtextextended(:name, 0))"),
            {"name": f"command:{scope}:{key}"})
        if not locked:
            return InProgress()
    inserted = await session.scalar(
        insert(CommandKey)
        .values(scope=scope, key=key, user_id=user_id, fingerprint=fingerprint)
        .on_conflict_do_nothing(constraint="pk_command_keys")
        .returning(CommandKey.key))
    if inserted is not None:
        return Claimed()
    row = (await session.execute(
        select(CommandKey.user_id, CommandKey.fingerprint, CommandKey.status,
               CommandKey.headers, CommandKey.body)
        .where(CommandKey.scope == scope, CommandKey.key == key))).one_or_none()
    if row is None:  # purged between the two statements: a new command after all
        return await claim(session, scope=scope, key=key, user_id=user_id,
                           fingerprint=fingerprint, ttl_seconds=ttl_seconds, wait=wait)
    if row.user_id != user_id or row.fingerprint != fingerprint:
        return Mismatch()
    return Replay(status=row.status or 200,
                  headers=[(str(name), str(value)) for name, value in row.headers or []],
                  body=zlib.decompress(row.body) if row.body else b"")


async def record(session: AsyncSession, *, scope: str, key: str, user_id: int | None,
                 fingerprint: str, status: int, headers: Iterable[tuple[str, str]],
                 body: bytes) -> None:
    """Store the outcome of a claimed key (an upsert: a command that rolled back its own
    transaction on the way, then succeeded, claims the key again here). Not committed."""
    values: dict[str, Any] = {"status": status, "headers": [list(h) for h in headers],
                              "body": zlib.compress(body, 6)}
    await session.execute(
        insert(CommandKey)
        .values(scope=scope, key=key, user_id=user_id, fingerprint=fingerprint, **values)
        .on_conflict_do_update(constraint="pk_command_keys", set_=values))


__all__ = ["ClaimResult", "Claimed", "InProgress", "Mismatch", "Replay", "claim", "record"]
