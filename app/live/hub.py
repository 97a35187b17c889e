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
import math
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

__all__ = ["Cursor", "Hub", "KeyedHub", "LiveEvent", "ResumeTooOld", "Subscription"]

#: Events the hub remembers for resumes without a database round trip.
RECENT = 4096
#: Gaps a cursor's text carries at most (beyond, it claims less: see :meth:`Cursor.text`).
CURSOR_GAPS = 32


@dataclass(frozen=True)
class Cursor:
    """What a client holds: every committed event with an id up to ``position``, except the
    ids in ``gaps`` (taken by transactions still open when it read past them).

    Ids are taken when a trigger runs but become visible at commit, so a lower id can commit
    after a higher one was delivered: a bare "last id" cannot say that the lower one is still
    owed. A cursor can, and it is the SSE ``id:`` of the editors' stream, so ``Last-Event-ID``
    resumes exactly - on another worker or server too: the replay is every event the cursor
    does not cover. Text form: ``105`` or ``105:104,101`` (the gaps).
    """

    position: int
    gaps: frozenset[int] = frozenset()

    def covers(self, event_id: int) -> bool:
        return event_id <= self.position and event_id not in self.gaps

    def union(self, other: Cursor) -> Cursor:
        """What a client holds that has what both cursors say."""
        gaps = ({gap for gap in self.gaps if not other.covers(gap)}
                | {gap for gap in other.gaps if not self.covers(gap)})
        merged = Cursor(max(self.position, other.position), frozenset(gaps))
        return merged if merged != other else other

    def without(self, delivered: Iterable[int]) -> Cursor:
        """The cursor after the events ``delivered`` (ids) were sent too."""
        gaps = self.gaps.difference(delivered)
        return self if len(gaps) == len(self.gaps) else Cursor(self.position, gaps)

    def text(self) -> str:
        """The cursor as an SSE id. With more than :data:`CURSOR_GAPS` gaps it claims less
        (up to just below its lowest gap beyond those kept): a resume may then send an event
        twice, never miss one."""
        if not self.gaps:
            return str(self.position)
        gaps = sorted(self.gaps)
        position = self.position
        if len(gaps) > CURSOR_GAPS:
            position, gaps = gaps[CURSOR_GAPS] - 1, gaps[:CURSOR_GAPS]
            while gaps and gaps[-1] == position:  # a gap at the top: the position is below it
                gaps.pop()
                position -= 1
            if not gaps:
                return str(position)
        return f"{position}:" + ",".join(map(str, reversed(gaps)))

    @classmethod
    def parse(cls, raw: str) -> Cursor | None:
        """A cursor from its text (``Last-Event-ID``), or None if it is not one."""
        head, _, tail = raw.partition(":")
        numbers = [head, *(tail.split(",") if tail else ())]
        if len(numbers) > CURSOR_GAPS + 1 or not all(
                0 < len(n) <= 18 and n.isascii() and n.isdigit() for n in numbers):
            return None
        position, *gaps = map(int, numbers)
        if any(gap >= position for gap in gaps):
            return None
        return cls(position, frozenset(gaps))


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
    #: What the worker's listener had delivered once this event was: every event it covers
    #: (set by the listener; None for events it did not read).
    cursor: Cursor | None = None

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
        return self.message_as(self.cursor.text() if self.cursor is not None else str(self.id))

    def message_as(self, sse_id: str) -> bytes:
        """The message with ``sse_id`` as its ``id:`` (a stream's own cursor)."""
        return f"id: {sse_id}\nevent: {self.kind}\ndata: {self.data}\n\n".encode()


class ResumeTooOld(LookupError):
    """The events after a ``Last-Event-ID`` are no longer all kept: the client must reload."""


class SubscriptionClosed(Exception):
    """Raised by :meth:`Subscription.next` once the subscription has ended."""


@dataclass(eq=False, slots=True)
class Subscription:
    """A bounded queue of the events one consumer accepts (slotted: a worker holds thousands).

    The queue is an empty tuple until an event is queued: an idle stream's subscription then
    costs no ``deque`` (760 bytes even empty, a third of what the subscription holds)."""

    hub: Hub
    accept: Callable[[LiveEvent], bool]
    maxsize: int
    queue: deque[LiveEvent] | tuple[()] = ()
    closed: str | None = None
    _waiter: asyncio.Future[object] | None = None
    #: The hub's cursor when it subscribed: what it had delivered before (see :meth:`Hub.resume`).
    joined: Cursor | None = None
    #: After a resume: what the client holds beyond the events' own cursors (see :meth:`message`).
    base: Cursor | None = None
    #: After a resume: the client's own cursor, and the replayed events still to be sent.
    held: Cursor | None = None
    replaying: int = 0
    #: Replayed ids the hub has not delivered yet: not sent a second time when it does.
    skip: set[int] | None = None

    def push(self, event: LiveEvent) -> None:
        if self.closed is not None or not self.accept(event):
            return
        if self.skip and event.id in self.skip:
            self.skip.discard(event.id)
            return
        if len(self.queue) >= self.maxsize:
            self.close("slow")
            return
        self._deque().append(event)
        self._wake()

    def _deque(self) -> deque[LiveEvent]:
        queue = self.queue
        if not isinstance(queue, deque):
            queue = self.queue = deque()
        return queue

    def message(self, event: LiveEvent) -> bytes:
        """``event``'s SSE message with this stream's cursor as its id: after a resume the
        client may hold more than the event's own cursor says (what it had before, the replay),
        and its next ``Last-Event-ID`` must say so; otherwise the shared bytes."""
        base = self.base
        if base is None or event.rendered is not None:
            return event.message
        if self.replaying:  # replayed: the client holds everything only after the last one
            self.replaying -= 1
            held = self.held if self.replaying else base
            return event.message_as((held or base).text())
        if event.cursor is None:
            return event.message_as(base.text())
        merged = base.union(event.cursor)
        if merged is event.cursor:  # the hub has caught up with the client: shared bytes again
            self.base = self.held = None
            return event.message
        self.base = merged
        return event.message_as(merged.text())

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def close(self, reason: str = "closed") -> None:
        """End the subscription (idempotent): :meth:`next` raises once the queue is drained."""
        if self.closed is None:
            self.closed = reason
            if reason == "slow":  # what it holds is replayed after its client reconnects
                self.queue = ()
            self.hub.unsubscribe(self)
            self._wake()

    async def next(self, timeout: float | None = None) -> LiveEvent | None:  # noqa: ASYNC109
        """The next event, or None after ``timeout`` seconds without one (a heartbeat is due).
        Raises :class:`SubscriptionClosed` when the subscription has ended."""
        while not self.queue:
            if self.closed is not None:
                raise SubscriptionClosed(self.closed)
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            if timeout is not None:
                _alarms(loop).add(waiter, timeout)
            try:
                if await waiter is _TIME_UP and not self.queue:
                    return None
            finally:
                self._waiter = None
        event = self._deque().popleft()
        if not self.queue:
            self.queue = ()  # idle again: the deque goes
        return event

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


_TIME_UP = object()
#: Seconds the alarms of waits are rounded up to (one timer for all that end in the same slot).
ALARM_SLOT = 0.25


class _Alarms:
    """The timeouts of every subscription waiting on one loop: thousands of idle streams wait
    for their heartbeat at once, and a timer handle each (or an ``asyncio.timeout`` scope) costs
    ~1 KB a stream; here a wait costs a list slot, and one timer rings every wait whose
    deadline falls in the same :data:`ALARM_SLOT` (so a heartbeat comes up to that much late)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.slots: dict[int, list[asyncio.Future[object]]] = {}

    def add(self, waiter: asyncio.Future[object], timeout: float) -> None:
        slot = math.ceil((self.loop.time() + timeout) / ALARM_SLOT)
        waiters = self.slots.get(slot)
        if waiters is None:
            waiters = self.slots[slot] = []
            self.loop.call_at(slot * ALARM_SLOT, self._ring, slot)
        waiters.append(waiter)

    def _ring(self, slot: int) -> None:
        for waiter in self.slots.pop(slot, ()):
            if not waiter.done():  # else: an event came first, or the stream ended
                waiter.set_result(_TIME_UP)


_ALARMS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Alarms] = (
    weakref.WeakKeyDictionary())


def _alarms(loop: asyncio.AbstractEventLoop) -> _Alarms:
    alarms = _ALARMS.get(loop)
    if alarms is None:
        alarms = _ALARMS[loop] = _Alarms(loop)
    return alarms


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
        #: What the listener has delivered (see :class:`Cursor`); kept by the listener.
        self.cursor = Cursor(0)
        #: Events with ids up to this one may be missing from :attr:`recent` (delivered before
        #: this hub started, or forgotten since); None until the listener has started.
        self.floor: int | None = None
        #: Set once the listener has read the outbox's position: resumes are exact from then.
        self.ready = asyncio.Event()

    def subscribe(self, accept: Callable[[LiveEvent], bool] | None = None,
                  maxsize: int | None = None) -> Subscription:
        """A new subscription to the events committed from now on that ``accept`` takes."""
        subscription = Subscription(self, accept or _accept_all, maxsize or self.queue_size,
                                    joined=self.cursor)
        self.subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscribers.discard(subscription)

    def dispatch(self, events: Iterable[LiveEvent]) -> None:
        """Hand committed events to every subscriber (never waits; see the module docstring)."""
        dispatched = self.dispatched
        recent = self.recent
        for event in events:
            if len(recent) == recent.maxlen and self.floor is not None:
                self.floor = max(self.floor, recent[0].id)
            recent.append(event)
            self.last_id = max(self.last_id, event.id)
            dispatched[event.kind] = dispatched.get(event.kind, 0) + 1
            if event.cursor is not None:
                self.cursor = event.cursor
            for subscription in list(self.subscribers):
                subscription.push(event)

    def remembered(self, cursor: Cursor) -> list[LiveEvent] | None:
        """The delivered events ``cursor`` does not cover, if this hub still holds all of
        them (else None: the outbox must answer)."""
        floor = self.floor
        if floor is None or cursor.position < floor or any(gap <= floor for gap in cursor.gaps):
            return None
        return [event for event in self.recent if not cursor.covers(event.id)]

    def resume(self, subscription: Subscription, replay: list[LiveEvent],
               cursor: Cursor | None = None) -> None:
        """Put ``replay`` (events missed before ``subscription`` began) in front of its queue,
        without the ones it already holds. Given the client's ``cursor``, the stream's ids
        from then on say what the client holds (:meth:`Subscription.message`)."""
        queued = {event.id for event in subscription.queue}
        missed = [event for event in replay if event.id not in queued
                  and subscription.accept(event)]
        if len(missed) + len(subscription.queue) > subscription.maxsize:
            raise ResumeTooOld("too many events to replay")
        if missed:
            subscription._deque().extendleft(reversed(missed))
        if cursor is not None:
            joined = subscription.joined or Cursor(0)
            replayed = [event.id for event in replay]
            # Everything the hub had delivered before the subscription is now either held by
            # the client or in the replay (read after it subscribed).
            subscription.base = cursor.union(joined).without(replayed)
            subscription.held = cursor
            subscription.replaying = len(missed)
            later = {i for i in replayed if not joined.covers(i) and i not in queued}
            subscription.skip = later or None
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
