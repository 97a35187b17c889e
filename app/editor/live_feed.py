"""What the editors' side puts into the change feed (``app.live``, the outbox of issue 15):
presence starts and ends, kind ``presence``. Product changes are announced by the feed's own
triggers; this module only adds what no table write says.

The payload is small and holds nothing a colleague may not see: the product, who, and whether
they started or stopped editing. Pages read the badge again when it arrives
(:func:`app.editor.presence.badge`), so the payload never has to be the truth about the whole
set of editors, only a reason to look.
"""

from __future__ import annotations

from flask import g
from sqlalchemy.ext.asyncio import AsyncSession

from ..live.outbox import publish

KIND = "presence"


async def publish_presence(session: AsyncSession, product_id: int, *, editing: bool,
                           user_id: int | None = None, email: str | None = None) -> None:
    """Announce that who edits ``product_id`` changed (delivered when the caller commits).
    ``user_id``/``email`` default to the signed-in editor (the sweep names the timed-out one)."""
    if user_id is None:
        user_id, email = g.user.id, g.user.email
    await publish(session, KIND, [product_id],
                  {"user": {"id": user_id, "email": email},
                   "state": "editing" if editing else "left"})
