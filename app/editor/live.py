"""``GET /editor/live``: the editors' event stream (every product, category and presence event).

Authorization is checked when the stream connects (an editor or admin session, as any editor
page) and again for every event: a ``session`` event for this user - sign-out on any device, a
role change, a deactivation, a new password - closes the stream at once, without polling the
database while it is idle. The browser's reconnection then meets the ordinary check. The
message format is ``docs/live-events.md``'s: ``id`` (the outbox id), ``event`` (the kind) and one
line of JSON.
"""

from __future__ import annotations

from flask import g, request
from flask.typing import ResponseReturnValue

from ..auth.access import editor_required
from ..data.database import get_session
from ..live.hub import LiveEvent
from ..live.service import live_service
from ..live.streams import StopStream, last_cursor, live_response, resume
from .blueprint import bp

#: Kinds never forwarded to a browser (they only steer the streams).
INTERNAL_KINDS = frozenset({"session", "synonyms"})
_KIND_LIMIT = 8


def _kinds() -> frozenset[str] | None:
    raw = request.args.get("kinds", "")
    kinds = frozenset(k.strip() for k in raw.split(",")[:_KIND_LIMIT] if k.strip()) - INTERNAL_KINDS
    return kinds or None


@bp.get("/live")
@editor_required
async def live() -> ResponseReturnValue:
    service = live_service()
    hub = service.hub()
    user_id = g.user.id
    kinds = _kinds()

    def accept(event: LiveEvent) -> bool:
        if event.kind in INTERNAL_KINDS:
            return event.kind == "session" and user_id in event.ids
        return kinds is None or event.kind in kinds

    subscription = hub.subscribe(accept)

    def render(event: LiveEvent) -> bytes:
        if event.kind == "session":
            raise StopStream
        return subscription.message(event)  # its id: what this client holds (a resume cursor)

    opening = await resume(hub, subscription, last_cursor(), await get_session())
    return live_response(subscription, render, service.heartbeat, opening)
