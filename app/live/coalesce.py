"""Per-entity updates rendered once per worker, at most one per entity per interval.

A shopper's page follows a few products; thousands of shoppers may follow the same one. The
:class:`Coalescer` is the one consumer of the worker's hub for them: for each product event it
notes the products someone here watches, and at most once per ``interval`` per product it
renders their current state **once** (one query for all products due, then one message each)
and hands the same bytes to every stream watching them (:class:`~.hub.KeyedHub`). A burst of
edits to a product therefore costs its watchers one message per second, and a thousand
watchers cost one render.

What a message says is read from the database when it is rendered, not taken from the event:
the renderer decides what a stream may see (a shopper's renderer reads only public columns of
active products).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from .hub import Hub, KeyedHub, LiveEvent, Subscription, SubscriptionClosed

__all__ = ["Coalescer", "Renderer"]

log = logging.getLogger("vitrine.live")

#: Renders the current state of entities: ``{id: message bytes}`` (given the event id to carry).
Renderer = Callable[[list[int], int], Awaitable[dict[int, bytes]]]


class Coalescer:
    """Watches ``hub`` for ``kind`` events and feeds :attr:`fanout` (see the module docstring)."""

    def __init__(self, hub: Hub, kind: str, render: Renderer, *, interval: float = 1.0,
                 queue_size: int = 256) -> None:
        self.hub = hub
        self.kind = kind
        self.render = render
        self.interval = interval
        self.fanout = KeyedHub(queue_size)
        self.pending: dict[int, int] = {}      # entity id -> latest event id not yet sent
        self.last_sent: dict[int, float] = {}  # entity id -> when it was last rendered
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def watch(self, ids: list[int], maxsize: int | None = None) -> Subscription:
        """A subscription to the rendered updates of ``ids``."""
        return self.fanout.subscribe_keys(ids, maxsize)

    def _accept(self, event: LiveEvent) -> bool:
        if event.kind != self.kind:
            return False
        watched = self.fanout.by_key
        return any(entity in watched for entity in event.ids)

    async def _run(self) -> None:
        subscription = self.hub.subscribe(self._accept, maxsize=1_000_000)
        consume = asyncio.get_running_loop().create_task(self._consume(subscription))
        try:
            while True:
                await self._flush_when_due()
        finally:
            consume.cancel()
            subscription.close()

    async def _consume(self, subscription: Subscription) -> None:
        while True:
            try:
                event = await subscription.next()
            except SubscriptionClosed:
                subscription = self.hub.subscribe(self._accept, maxsize=1_000_000)
                continue
            if event is None:
                continue
            watched = self.fanout.by_key
            for entity in event.ids:
                if entity in watched:
                    self.pending[entity] = event.id
            self._wake.set()

    async def _flush_when_due(self) -> None:
        """Wait until some pending entity may be sent again, then render and send those."""
        while not self.pending:
            self._wake.clear()
            await self._wake.wait()
        now = time.monotonic()
        due_at = min(self.last_sent.get(entity, 0.0) + self.interval for entity in self.pending)
        if due_at > now:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(due_at - now):
                    await self._wake.wait()
            return
        due = {entity: event_id for entity, event_id in self.pending.items()
               if self.last_sent.get(entity, 0.0) + self.interval <= now}
        for entity in due:
            del self.pending[entity]
            self.last_sent[entity] = now
        self._forget_old(now)
        event_id = max(due.values())
        try:
            messages = await self.render(sorted(due), event_id)
        except Exception:  # the database is away: the next change renders them again
            log.warning("live updates could not be rendered", exc_info=True)
            return
        created = datetime.now(UTC)
        self.fanout.dispatch(
            LiveEvent(due[entity], self.kind, (entity,), {}, created, rendered=message)
            for entity, message in messages.items())

    def _forget_old(self, now: float) -> None:
        if len(self.last_sent) > 10_000:
            self.last_sent = {entity: at for entity, at in self.last_sent.items()
                              if at + self.interval > now}

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self.fanout.close_all()
