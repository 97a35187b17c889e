"""Who is editing which product now: the ``presence`` table (migration 0011).

An editor opening a product's row form starts a *presence* under a random ``token`` the form
was rendered with (two tabs are two presences); the form's heartbeat keeps it alive
(:func:`touch`), and it ends on Save, Cancel or leaving the page (:func:`end`,
:func:`end_for`) or when its heartbeat stops for ``timeout`` seconds (:func:`sweep`).
Colleagues are shown "ana@example.com is editing" (:func:`editing`). Nothing is locked:
presence only informs; the field-level merge (:mod:`.merge`) decides what a save does.

Every function returns whether the set of people editing a product changed, so the caller can
announce it through the change feed in the same transaction. Ending writes a tombstone
(``ended_at``) instead of deleting: a heartbeat that was already on its way when the form was
closed (they race on a slow network) finds it and does not bring the presence back. Tombstones
and long-expired rows are deleted by :func:`sweep` after :data:`KEEP_ENDED`.

All statements are single indexed ``INSERT ... ON CONFLICT`` / ``UPDATE`` / ``SELECT``
statements (a heartbeat is one round trip), parameterised, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Presence, User

#: How long an ended or expired presence is kept (a late heartbeat must still find it).
KEEP_ENDED = timedelta(minutes=10)
#: A presence token as the row form renders it (``secrets.token_urlsafe(18)``) or longer.
TOKEN_MIN, TOKEN_MAX = 16, 64


@dataclass(frozen=True)
class Editor:
    """One colleague editing a product (one entry per person, however many tabs)."""

    user_id: int
    email: str


def _live() -> ColumnElement[bool]:
    return and_(Presence.ended_at.is_(None), Presence.expires_at > func.now())


_TOUCH = text("""
    WITH before AS (SELECT ended_at IS NOT NULL OR expires_at <= now() AS was_gone
                    FROM presence WHERE token = :token)
    INSERT INTO presence AS p (token, user_id, product_id, expires_at)
    VALUES (:token, :user_id, :product_id, now() + make_interval(secs => :timeout))
    ON CONFLICT (token) DO UPDATE
       SET last_heartbeat = now(), expires_at = excluded.expires_at, ended_at = NULL,
           ended_by = NULL
     WHERE p.user_id = excluded.user_id AND p.product_id = excluded.product_id
       AND (p.ended_by IS NULL OR p.ended_by = 'lapsed')
    RETURNING coalesce((SELECT was_gone FROM before), true) AS started
""")


async def touch(session: AsyncSession, *, token: str, user_id: int, product_id: int,
                lifetime: float) -> bool | None:
    """Start or renew the presence ``token`` of ``user_id`` on ``product_id`` (one statement).

    It stays live ``lifetime`` seconds after this (``PRESENCE_TIMEOUT``). Returns True when
    this started it (new, or back after a timeout: colleagues must be told),
    False for a heartbeat of a live one, None when nothing changed: the token belongs to
    another editor or product, or its form was closed (a heartbeat that lost the race with
    Cancel)."""
    started = await session.scalar(_TOUCH, {"token": token, "user_id": user_id,
                                            "product_id": product_id,
                                            "timeout": float(lifetime)})
    return None if started is None else bool(started)


_END = text("""
    WITH before AS (SELECT ended_at IS NULL AND expires_at > now() AS was_live
                    FROM presence WHERE token = :token AND user_id = :user_id)
    INSERT INTO presence AS p (token, user_id, product_id, expires_at, ended_at, ended_by)
    VALUES (:token, :user_id, :product_id, now(), now(), :ended_by)
    ON CONFLICT (token) DO UPDATE
       SET ended_at = now(), ended_by = CASE WHEN p.ended_by = 'closed' THEN 'closed'
                                             ELSE excluded.ended_by END,
           expires_at = least(p.expires_at, now())
     WHERE p.user_id = excluded.user_id
    RETURNING coalesce((SELECT was_live FROM before), false) AS was_live
""")


async def end(session: AsyncSession, *, token: str, user_id: int, product_id: int,
              final: bool = True) -> bool:
    """End the presence ``token``; True when it was live. ``final``: the form was closed
    (Cancel, swapped away), so no later heartbeat of it counts; not final: the page was hidden
    (``pagehide``) and may come back from the browser's cache with the form still open.

    An unknown token still gets its tombstone, so the heartbeat that would start it, arriving
    after this, does not."""
    return bool(await session.scalar(_END, {"token": token, "user_id": user_id,
                                            "product_id": product_id,
                                            "ended_by": "closed" if final else "lapsed"}))


async def end_for(session: AsyncSession, *, user_id: int, product_id: int) -> bool:
    """End every presence of ``user_id`` on ``product_id`` (their save). True if one was live."""
    ended = await session.scalars(
        update(Presence)
        .where(Presence.user_id == user_id, Presence.product_id == product_id,
               Presence.ended_at.is_(None))
        .values(ended_at=func.now(), ended_by="closed")
        .returning(Presence.expires_at > func.now())
    )
    return any(ended.all())


async def editing(session: AsyncSession, product_ids: Collection[int], *,
                  exclude_user: int | None = None) -> dict[int, list[Editor]]:
    """The colleagues editing each of ``product_ids`` now (by email; the viewer left out)."""
    if not product_ids:
        return {}
    query = (
        select(Presence.product_id, User.id, User.email)
        .join(User, User.id == Presence.user_id)
        .where(Presence.product_id.in_(list(product_ids)), _live())
        .group_by(Presence.product_id, User.id, User.email)
        .order_by(Presence.product_id, func.min(Presence.started_at), User.email)
    )
    if exclude_user is not None:
        query = query.where(Presence.user_id != exclude_user)
    found: dict[int, list[Editor]] = {}
    for product_id, user_id, email in await session.execute(query):
        found.setdefault(product_id, []).append(Editor(user_id=user_id, email=email))
    return found


async def sweep(session: AsyncSession) -> list[tuple[int, int]]:
    """End the presences whose heartbeat stopped, and delete old tombstones. Returns the
    (product, editor) pairs that ended (to announce). Safe to run in every worker at once:
    each expired row is ended by exactly one ``UPDATE``."""
    ended = await session.execute(
        update(Presence)
        .where(Presence.ended_at.is_(None), Presence.expires_at <= func.now())
        .values(ended_at=func.now(), ended_by="lapsed")
        .returning(Presence.product_id, Presence.user_id)
    )
    products = sorted({(product_id, user_id) for product_id, user_id in ended.all()})
    # Every ended row has expires_at <= ended_at, so this also takes the tombstones.
    await session.execute(delete(Presence).where(Presence.expires_at < func.now() - KEEP_ENDED))
    return products


def valid_token(token: str | None) -> bool:
    """A token as a row form renders it: URL-safe characters, bounded length."""
    return (token is not None and TOKEN_MIN <= len(token) <= TOKEN_MAX
            and all(c.isalnum() or c in "-_" for c in token) and token.isascii())


__all__ = ["KEEP_ENDED", "Editor", "editing", "end", "end_for", "sweep", "touch",
           "valid_token"]
