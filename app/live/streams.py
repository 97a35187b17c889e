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
from .hub import Cursor, Hub, LiveEvent, ResumeTooOld, Subscription, SubscriptionClosed
from .outbox import replay_after

__all__ = ["HEARTBEAT", "RESET", "last_cursor", "last_event_id", "live_response", "resume"]

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


def last_cursor() -> Cursor | None:
    """The request's ``Last-Event-ID`` as a :class:`~.hub.Cursor`, if it is one."""
    return Cursor.parse(request.headers.get("Last-Event-ID", "").strip())


def last_event_id() -> int | None:
    """The highest event id the request's ``Last-Event-ID`` says the client has seen."""
    cursor = last_cursor()
    return None if cursor is None else cursor.position


async def resume(hub: Hub, subscription: Subscription, cursor: Cursor | None,
                 session: AsyncSession) -> bytes:
    """Queue every event the client's ``cursor`` does not cover (from the hub's memory, else
    the outbox), so a resume on any worker misses nothing, even an event that committed after
    a higher id was sent; returns ``RESET`` when that is no longer possible, else nothing.
    ``subscription`` must be made before this is called (what commits meanwhile is queued)."""
    if cursor is None:
        return b""
    try:
        replay = hub.remembered(cursor)
        if replay is None:
            replay = await replay_after(session, cursor)
        hub.resume(subscription, replay, cursor)
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
