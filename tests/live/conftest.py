"""Live-feed helpers: watch the app's hub (on its loop thread) while a test changes things."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from app.live.hub import LiveEvent, Subscription
from tests.support.clients import EditorClient, sign_in_client


class Watch:
    """A subscription to the app's hub, read from the test thread."""

    def __init__(self, app, sql, accept: Callable[[LiveEvent], bool] | None = None) -> None:
        self.app = app
        since = sql.scalar("SELECT coalesce(max(id), 0) FROM live_events")

        def wanted(event: LiveEvent) -> bool:  # not what committed before the watch began
            return event.id > since and (accept is None or accept(event))

        async def subscribe() -> Subscription:
            service = app.extensions["vitrine_live"]
            await service.start()
            return service.hub().subscribe(wanted)

        self.subscription = app.run_blocking(subscribe())

    def next(self, timeout: float = 5.0) -> LiveEvent | None:
        """The next event within ``timeout`` seconds, or None."""
        async def take() -> LiveEvent | None:
            return await self.subscription.next(timeout)

        return self.app.run_blocking(take())

    def events(self, timeout: float = 1.0) -> list[LiveEvent]:
        """Every event that arrives until ``timeout`` seconds pass without one."""
        found = []
        while (event := self.next(timeout)) is not None:
            found.append(event)
        return found

    def close(self) -> None:
        self.app.run_blocking(_close(self.subscription))


async def _close(subscription: Subscription) -> None:
    subscription.close()
    await asyncio.sleep(0)


@pytest.fixture
def watch(app, sql):
    made: list[Watch] = []

    def start(accept: Callable[[LiveEvent], bool] | None = None) -> Watch:
        made.append(Watch(app, sql, accept))
        return made[-1]

    yield start
    for item in made:
        item.close()


@pytest.fixture
def category(sql) -> int:
    return sql.category("Lighting")


@pytest.fixture
def lamp(sql, category) -> int:
    return sql.product("Brass Lamp", category_id=category, price="12.00", stock=4)


@pytest.fixture
def editor_user(sql) -> int:
    return sql.user("ana@example.com", role="editor")


@pytest.fixture
def editor(app, editor_user) -> EditorClient:
    return sign_in_client(app, "ana@example.com")
