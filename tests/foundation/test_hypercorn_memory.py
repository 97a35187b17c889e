"""The slim per-connection objects served to Hypercorn's asyncio workers
(app/runtime/hypercorn_memory.py): the same FIFO, bound and waiting behaviour as
``asyncio.Queue``, the same set/clear/wait as Hypercorn's ``EventWrapper``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.runtime.hypercorn_memory import AppQueue, LazyEvent, install


def test_items_come_out_in_order_and_a_get_waits_for_a_put() -> None:
    async def scenario() -> list[object]:
        queue = AppQueue(10)
        waiting = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        assert not waiting.done()
        await queue.put("a")
        await queue.put("b")
        first = await waiting
        return [first, await queue.get(), queue.qsize()]

    assert asyncio.run(scenario()) == ["a", "b", 0]


def test_a_put_waits_while_the_queue_is_full() -> None:
    async def scenario() -> list[object]:
        queue = AppQueue(1)
        await queue.put(1)
        putting = asyncio.ensure_future(queue.put(2))
        await asyncio.sleep(0)
        blocked = not putting.done()
        got = await queue.get()
        await putting
        return [blocked, got, await queue.get()]

    assert asyncio.run(scenario()) == [True, 1, 2]


def test_a_getter_cancelled_after_being_woken_passes_the_item_on() -> None:
    async def scenario() -> object:
        queue = AppQueue()
        first = asyncio.ensure_future(queue.get())
        second = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        await queue.put("x")  # wakes the first getter...
        first.cancel()  # ...which is cancelled before it runs: the second gets the item
        with pytest.raises(asyncio.CancelledError):
            await first
        return await asyncio.wait_for(second, 1)

    assert asyncio.run(scenario()) == "x"


def test_a_cancelled_getter_leaves_no_waiter_behind() -> None:
    async def scenario() -> object:
        queue = AppQueue()
        getting = asyncio.ensure_future(queue.get())
        await asyncio.sleep(0)
        getting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await getting
        await queue.put("y")
        return await queue.get()

    assert asyncio.run(scenario()) == "y"


def test_next_item_takes_the_next_item_without_a_task() -> None:
    async def scenario() -> list[object]:
        queue = AppQueue(1)
        await queue.put("first")
        ready = queue.next_item()  # an item is there: taken at once
        waiting = queue.next_item()
        cancelled = queue.next_item()
        cancelled.cancel()
        await queue.put("second")  # to the waiting future, not the cancelled one
        await queue.put("third")  # kept for the next consumer
        return [ready.result(), waiting.result(), await queue.get(), queue.qsize()]

    assert asyncio.run(scenario()) == ["first", "second", "third", 0]


def test_hypercorn_serves_requests_through_it() -> None:
    from hypercorn.asyncio.task_group import TaskGroup
    from hypercorn.config import Config

    assert install()

    async def scenario() -> list[object]:
        received: list[object] = []

        async def app(scope: object, receive: object, send: object, *_helpers: object) -> None:
            received.append(type(receive.__self__).__name__)  # type: ignore[attr-defined]
            received.append(await receive())  # type: ignore[operator]

        async def send(message: object) -> None:
            return None

        async with TaskGroup(asyncio.get_running_loop()) as group:
            spawn: Any = group.spawn_app
            put = await spawn(app, Config(), {"type": "http"}, send)
            await put({"type": "http.disconnect"})
        return received

    assert asyncio.run(scenario()) == ["AppQueue", {"type": "http.disconnect"}]


def test_a_lazy_event_waits_until_set_and_not_once_set() -> None:
    async def scenario() -> list[object]:
        event = LazyEvent()
        await event.set()
        await asyncio.wait_for(event.wait(), 1)  # set: no wait (and no asyncio.Event made)
        made = event._event is not None
        await event.clear()
        waiting = asyncio.ensure_future(event.wait())
        await asyncio.sleep(0)
        blocked = not waiting.done()
        await event.set()
        await asyncio.wait_for(waiting, 1)
        await event.clear()
        return [made, blocked, event.is_set()]

    assert asyncio.run(scenario()) == [False, True, False]


def test_hypercorn_makes_lazy_events_once_installed() -> None:
    from hypercorn.asyncio.worker_context import WorkerContext

    assert install()
    assert isinstance(WorkerContext(None).event_class(), LazyEvent)
