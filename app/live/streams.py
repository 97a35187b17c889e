"""Event-stream bodies made of hub subscriptions: heartbeats, resume, closing rules.

A view checks who may connect, subscribes, and returns :func:`live_response`; the adapter then
pumps the stream on the loop with nothing of the request held (:mod:`app.runtime.events`).
Everything a stream needs after that - the user id it must close for, the kinds it forwards -
is captured when the view builds it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from flask import Response, request
from sqlalchemy.ext.asyncio import AsyncSession

from ..runtime.events import EventStream, event_stream_response
from .hub import Hub, LiveEvent, ResumeTooOld, Subscription, SubscriptionClosed
from .outbox import replay_after

__all__ = ["HEARTBEAT", "RESET", "last_event_id", "live_response", "resume"]

HEARTBEAT = b": hb\n\n"
#: Sent when a resume is impossible: the consumer reloads what it shows.
RESET = b"event: reset\ndata: {}\n\n"
#: Milliseconds a browser waits before reconnecting (the SSE ``retry`` field).
RETRY = b"retry: 1000\n\n"

#: Decides, per event, whether the stream forwards it (bytes), skips it (None) or must close
#: (raises :class:`StopStream`): the per-event authorization.
Render = Callable[[LiveEvent], bytes | None]


class StopStream(Exception):
    """Raised by a stream's renderer: the stream must end now (e.g. its session was revoked)."""


def last_event_id() -> int | None:
    """The request's ``Last-Event-ID`` as an event id, if it is one."""
    raw = request.headers.get("Last-Event-ID", "").strip()
    if raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


async def resume(hub: Hub, subscription: Subscription, after: int | None,
                 session: AsyncSession) -> bytes:
    """Queue what the client missed after event ``after`` (from the hub's memory, else the
    outbox); returns ``RESET`` when that is no longer possible, else nothing."""
    if after is None:
        return b""
    try:
        replay = hub.recent_after(after)
        if replay is None:
            replay = await replay_after(session, after)
        hub.resume(subscription, replay)
    except ResumeTooOld:
        return RESET
    return b""


def live_response(subscription: Subscription, render: Render, heartbeat: float,
                  opening: bytes = b"") -> Response:
    """An event stream forwarding ``subscription``'s events as ``render`` decides, with a
    heartbeat comment after ``heartbeat`` idle seconds."""

    async def events() -> AsyncIterator[bytes]:
        try:
            while True:
                try:
                    event = await subscription.next(heartbeat)
                except SubscriptionClosed:
                    return
                if event is None:
                    yield HEARTBEAT
                    continue
                try:
                    message = render(event)
                except StopStream:
                    return
                if message is not None:
                    yield message
        finally:
            subscription.close()

    return event_stream_response(EventStream(RETRY + opening, events,
                                             on_refused=subscription.close))
