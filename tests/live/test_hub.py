"""The worker's hub and the shopper coalescer, without a database: bounded fan-out, resume,
one rendered update per product per interval for every watcher."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from app.live.coalesce import Coalescer
from app.live.hub import Cursor, Hub, LiveEvent, ResumeTooOld, SubscriptionClosed


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
        hub.floor = 0
        hub.dispatch([event(1, 1), event(3, 1), event(2, 1)])  # 2 committed after 3
        subscription = hub.subscribe()
        hub.dispatch([event(4, 1)])
        # The client had 1 and 3 (2 was still open when 3 was sent to it).
        replay = hub.remembered(Cursor(3, frozenset({2})))
        assert [e.id for e in replay] == [2, 4]
        hub.resume(subscription, replay)
        assert [(await subscription.next(1)).id for _ in range(2)] == [2, 4]
        assert await subscription.next(0.05) is None  # 4 came once
        hub.floor = 2  # events up to 2 were forgotten: the outbox must answer
        assert hub.remembered(Cursor(1)) is None
        assert hub.remembered(Cursor(3, frozenset({2}))) is None

    asyncio.run(scenario())


def test_a_cursor_says_which_lower_ids_are_still_owed_and_round_trips_as_an_sse_id():
    owed = Cursor(105, frozenset({104, 101}))
    assert owed.text() == "105:104,101"
    assert Cursor.parse(owed.text()) == owed
    assert Cursor.parse("105") == Cursor(105)
    assert not owed.covers(104) and owed.covers(103) and not owed.covers(106)
    # The union holds what either holds; a gap one side has filled is no longer owed.
    assert owed.union(Cursor(104)) == Cursor(105)
    assert owed.union(Cursor(104, frozenset({101}))) == Cursor(105, frozenset({101}))
    assert owed.without([104]) == Cursor(105, frozenset({101}))
    for hostile in ("", "abc", "5:7", "1:2:3", "²", "1,2", "9" * 19, ":1"):
        assert Cursor.parse(hostile) is None, hostile
    # Too many gaps for a header: it claims less (resumes from below the lowest dropped one).
    many = Cursor(200, frozenset(range(100, 150)))
    shorter = Cursor.parse(many.text())
    assert shorter is not None and shorter.position < 200
    assert all(not shorter.covers(i) for i in range(100, 201) if not many.covers(i))


def test_a_resumed_stream_s_ids_say_what_the_client_holds_after_the_replay():
    async def scenario():
        hub = Hub()
        hub.floor = 0
        hub.dispatch([event(1, 1), event(3, 1)])
        hub.cursor = Cursor(3, frozenset({2}))
        subscription = hub.subscribe()
        # The client came from a worker that had sent 1, 2 and 4 (3 was owed there).
        client = Cursor(4, frozenset({3}))
        replay = hub.remembered(client)
        assert [e.id for e in replay] == [3]
        hub.resume(subscription, replay, client)
        replayed = await subscription.next(1)
        assert replayed.id == 3
        assert b"id: 4\n" in subscription.message(replayed)
        late = LiveEvent(2, "product", (1,), {}, datetime.now(UTC), cursor=Cursor(3))
        hub.dispatch([late])  # 2 commits at last: this worker delivers it
        message = subscription.message(await subscription.next(1))
        assert b"id: 4\n" in message  # the client still holds 4, though this hub is at 3

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
