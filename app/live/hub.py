"""The worker's hub: fans each committed event out to the streams and consumers subscribed.

One hub per worker (per event loop), fed by the worker's one listener (:mod:`.listener`). A
subscriber gets a bounded queue: the hub never waits for anyone. A subscriber whose queue is
full is *dropped* (its stream ends; the browser reconnects with ``Last-Event-ID`` and replays
from the outbox), so one slow client never delays the others or grows the worker's memory.

The hub keeps the last events it delivered, in delivery order, so that a reconnecting stream
resumes from memory; older ones come from the outbox (:meth:`Hub.resume`).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

__all__ = ["Hub", "KeyedHub", "LiveEvent", "ResumeTooOld", "Subscription"]

#: Events the hub remembers for resumes without a database round trip.
RECENT = 4096


@dataclass(frozen=True, eq=False)
class LiveEvent:
    """One committed change (a ``live_events`` row)."""

    id: int
    kind: str
    ids: tuple[int, ...]
    payload: dict[str, Any]
    created_at: datetime
    #: The SSE message when the producer rendered it (a shopper fragment), else built from
    #: the payload.
    rendered: bytes | None = None

    @cached_property
    def data(self) -> str:
        """The event as one line of JSON (the editor stream's ``data``), built once for every
        stream that sends it."""
        return json.dumps({"id": self.id, "kind": self.kind, "ids": list(self.ids),
                           **self.payload, "at": self.created_at.isoformat()},
                          separators=(",", ":"))

    @cached_property
    def message(self) -> bytes:
        """The event as an SSE message named after its kind (same bytes for every stream)."""
        if self.rendered is not None:
            return self.rendered
        return f"id: {self.id}\nevent: {self.kind}\ndata: {self.data}\n\n".encode()


class ResumeTooOld(LookupError):
    """The events after a ``Last-Event-ID`` are no longer all kept: the client must reload."""


class SubscriptionClosed(Exception):
    """Raised by :meth:`Subscription.next` once the subscription has ended."""


@dataclass(eq=False)
class Subscription:
    """A bounded queue of the events one consumer accepts."""

    hub: Hub
    accept: Callable[[LiveEvent], bool]
    maxsize: int
    queue: deque[LiveEvent] = field(default_factory=deque)
    closed: str | None = None
    _waiter: asyncio.Future[None] | None = None

    def push(self, event: LiveEvent) -> None:
        if self.closed is not None or not self.accept(event):
            return
        if len(self.queue) >= self.maxsize:
            self.close("slow")
            return
        self.queue.append(event)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self, reason: str = "closed") -> None:
        """End the subscription (idempotent): :meth:`next` raises once the queue is drained."""
        if self.closed is None:
            self.closed = reason
            if reason == "slow":  # what it holds is replayed after its client reconnects
                self.queue.clear()
            self.hub.unsubscribe(self)
            self._wake()

    async def next(self, timeout: float | None = None) -> LiveEvent | None:  # noqa: ASYNC109
        """The next event, or None after ``timeout`` seconds without one (a heartbeat is due).
        Raises :class:`SubscriptionClosed` when the subscription has ended."""
        while not self.queue:
            if self.closed is not None:
                raise SubscriptionClosed(self.closed)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                if timeout is None:
                    await self._waiter
                else:
                    try:
                        async with asyncio.timeout(timeout):
                            await self._waiter
                    except TimeoutError:
                        return None
            finally:
                self._waiter = None
        return self.queue.popleft()

    def __aiter__(self) -> AsyncIterator[LiveEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[LiveEvent]:
        while True:
            try:
                event = await self.next()
            except SubscriptionClosed:
                return
            if event is not None:
                yield event


def _accept_all(event: LiveEvent) -> bool:
    return True


class Hub:
    """Subscribers and the recent events of one worker."""

    def __init__(self, queue_size: int = 256) -> None:
        self.queue_size = queue_size
        self.subscribers: set[Subscription] = set()
        self.recent: deque[LiveEvent] = deque(maxlen=RECENT)
        self.last_id = 0
        #: Events dispatched so far, per kind: a worker's caches of derived data (the category
        #: tree) compare these instead of asking the database whether anything changed.
        self.dispatched: dict[str, int] = {}
        #: Set once the listener has read the outbox's position: resumes are exact from then.
        self.ready = asyncio.Event()

    def subscribe(self, accept: Callable[[LiveEvent], bool] | None = None,
                  maxsize: int | None = None) -> Subscription:
        """A new subscription to the events committed from now on that ``accept`` takes."""
        subscription = Subscription(self, accept or _accept_all, maxsize or self.queue_size)
        self.subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscribers.discard(subscription)

    def dispatch(self, events: Iterable[LiveEvent]) -> None:
        """Hand committed events to every subscriber (never waits; see the module docstring)."""
        dispatched = self.dispatched
        for event in events:
            self.recent.append(event)
            self.last_id = max(self.last_id, event.id)
            dispatched[event.kind] = dispatched.get(event.kind, 0) + 1
            for subscription in list(self.subscribers):
                subscription.push(event)

    def recent_after(self, event_id: int) -> list[LiveEvent] | None:
        """The events delivered after ``event_id`` if it is still remembered (else None)."""
        recent = self.recent
        if event_id == self.last_id and (not recent or recent[-1].id == event_id):
            return []
        for index in range(len(recent) - 1, -1, -1):
            if recent[index].id == event_id:
                return list(recent)[index + 1:]
        return None

    def resume(self, subscription: Subscription, replay: list[LiveEvent]) -> None:
        """Put ``replay`` (events missed before ``subscription`` began) in front of its queue,
        without the ones it already holds."""
        queued = {event.id for event in subscription.queue}
        missed = [event for event in replay if event.id not in queued
                  and subscription.accept(event)]
        if len(missed) + len(subscription.queue) > subscription.maxsize:
            raise ResumeTooOld("too many events to replay")
        subscription.queue.extendleft(reversed(missed))
        if missed:
            subscription._wake()

    def close_all(self, reason: str = "shutdown") -> None:
        for subscription in list(self.subscribers):
            subscription.close(reason)


class KeyedHub(Hub):
    """A hub whose subscribers each watch a few entity ids: an event reaches only the
    subscribers of its ids, so fanning out one product's change costs its watchers, not every
    open stream (the shopper streams, :mod:`.coalesce`)."""

    def __init__(self, queue_size: int = 256) -> None:
        super().__init__(queue_size)
        self.by_key: dict[int, set[Subscription]] = {}
        self._keys: dict[Subscription, tuple[int, ...]] = {}

    def subscribe_keys(self, keys: Iterable[int], maxsize: int | None = None) -> Subscription:
        subscription = self.subscribe(maxsize=maxsize)
        self._keys[subscription] = tuple(keys)
        for key in self._keys[subscription]:
            self.by_key.setdefault(key, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        super().unsubscribe(subscription)
        for key in self._keys.pop(subscription, ()):
            watchers = self.by_key.get(key)
            if watchers is not None:
                watchers.discard(subscription)
                if not watchers:
                    del self.by_key[key]

    def dispatch(self, events: Iterable[LiveEvent]) -> None:
        for event in events:
            self.last_id = max(self.last_id, event.id)
            reached: set[Subscription] = set()
            for key in event.ids:
                reached.update(self.by_key.get(key, ()))
            for subscription in reached:
                subscription.push(event)
