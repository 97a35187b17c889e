"""The worker's hub and the shopper coalescer, without a database: bounded fan-out, resume,
one rendered update per product per interval for every watcher."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from app.live.coalesce import Coalescer
from app.live.hub import Hub, LiveEvent, ResumeTooOld, SubscriptionClosed


def event(event_id: int, *ids: int, kind: str = "product") -> LiveEvent:
    return LiveEvent(event_id, kind, ids, {"fields": ["price"]}, datetime.now(UTC))


def test_a_slow_subscriber_is_dropped_and_the_others_get_everything():
    async def scenario():
        hub = Hub(queue_size=3)
        slow, fast = hub.subscribe(), hub.subscribe()
        received = []
        for n in range(1, 6):
            hub.dispatch([event(n, 1)])
            received.append((await fast.next(1)).id)
        assert received == [1, 2, 3, 4, 5]
        assert slow.closed == "slow" and slow not in hub.subscribers
        with pytest.raises(SubscriptionClosed):
            await slow.next(1)

    asyncio.run(scenario())


def test_a_resume_replays_from_memory_before_new_events_without_duplicates():
    async def scenario():
        hub = Hub()
        hub.dispatch([event(1, 1), event(3, 1), event(2, 1)])  # 2 committed after 3
        subscription = hub.subscribe()
        hub.dispatch([event(4, 1)])
        replay = hub.recent_after(3)
        assert [e.id for e in replay] == [2, 4]
        hub.resume(subscription, replay)
        assert [(await subscription.next(1)).id for _ in range(2)] == [2, 4]
        assert await subscription.next(0.05) is None  # 4 came once
        assert hub.recent_after(99) is None  # unknown: the outbox must answer

    asyncio.run(scenario())


def test_a_resume_with_more_than_the_queue_holds_is_refused():
    async def scenario():
        hub = Hub(queue_size=2)
        subscription = hub.subscribe()
        with pytest.raises(ResumeTooOld):
            hub.resume(subscription, [event(n, 1) for n in range(1, 4)])

    asyncio.run(scenario())


def test_a_burst_of_changes_is_one_render_per_interval_shared_by_every_watcher():
    async def scenario():
        hub = Hub()
        renders: list[list[int]] = []

        async def render(ids: list[int], event_id: int) -> dict[int, bytes]:
            renders.append(ids)
            return {i: f"id: {event_id}\ndata: product {i}\n\n".encode() for i in ids}

        coalescer = Coalescer(hub, "product", render, interval=1.0)
        watchers = [coalescer.watch([7]) for _ in range(50)]
        other = coalescer.watch([8])
        await asyncio.sleep(0.01)
        for n in range(1, 11):  # ten changes of product 7 in a row
            hub.dispatch([event(n, 7)])
            await asyncio.sleep(0)
        firsts = [await w.next(1) for w in watchers]
        assert len({id(m) for m in firsts}) == 1  # the same message object for all 50
        seconds = [await w.next(3) for w in watchers]
        assert seconds[0].id == 10  # the last change is never lost
        assert len(renders) == 2  # ten changes, two renders
        assert await other.next(0.05) is None  # product 8's watcher heard nothing
        await coalescer.stop()

    asyncio.run(scenario())
