"""Who is changing the catalog, and through what, for the live feed's triggers.

The triggers of migration 0010 announce every committed change to ``products`` and
``categories`` (:mod:`app.live`); they read who made it and the source (``inline``, ``bulk``,
``api``, ``restore``...) from two transaction-local settings. The write services set them just
before writing, so every path through them is covered; ``is_local`` settings end with the
transaction (and a rolled-back savepoint restores the previous values), so a pooled connection
never carries one request's actor into the next.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["act_as"]

_SET = text("SELECT set_config('vitrine.actor', :actor, true), "
            "set_config('vitrine.source', :source, true)")


async def act_as(session: AsyncSession, user_id: int | None, source: str) -> None:
    """Name the user (None: nobody) and source of the writes that follow in this transaction."""
    await session.execute(_SET, {"actor": "" if user_id is None else str(int(user_id)),
                                 "source": source[:40]})
