"""Request bodies are read under a deadline, a minimum rate and (anonymous ones) a per-worker
budget: a client that trickles its body, or many that hold unfinished ones, cannot pin memory.

The reader is driven by fake ASGI ``receive`` callables that trickle; the adapter tests check
what the client gets (408, 503 with ``Retry-After``) and that the budget is given back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from app import create_app
from app.runtime.bodies import (
    BodyBudget,
    BodyBudgetSpent,
    BodyClaim,
    BodyLimits,
    BodyTooSlow,
    has_credentials,
    read_body,
)

SCOPE = {"type": "http", "method": "POST", "path": "/auth/login", "headers": []}


def trickle(chunk: bytes, every: float, count: int | None = None) -> Callable:
    """A ``receive`` that sends ``chunk`` every ``every`` seconds (forever, or ``count`` times
    and then the end of the body)."""
    sent = 0

    async def receive() -> dict:
        nonlocal sent
        await asyncio.sleep(every)
        sent += 1
        done = count is not None and sent >= count
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return receive


def hold(chunk: bytes, release: asyncio.Event) -> Callable:
    """A ``receive`` that sends ``chunk`` at once, then nothing until ``release`` is set."""
    state = {"sent": False}

    async def receive() -> dict:
        if not state["sent"]:
            state["sent"] = True
            return {"type": "http.request", "body": chunk, "more_body": True}
        await release.wait()
        return {"type": "http.request", "body": b"", "more_body": False}

    return receive


async def test_a_body_that_keeps_trickling_is_cut_at_the_deadline():
    """Each byte arrives well within any per-read timeout; the whole-body deadline still ends it."""
    limits = BodyLimits(max_size=None, timeout=0.3, min_rate=0)
    with pytest.raises(BodyTooSlow):
        await read_body(SCOPE, trickle(b"x", 0.02), limits)


async def test_a_body_below_the_minimum_rate_is_cut_before_the_deadline():
    limits = BodyLimits(max_size=None, timeout=3600, min_rate=1000, grace=0.1)
    with pytest.raises(BodyTooSlow):
        await read_body(SCOPE, trickle(b"x" * 5, 0.02), limits)  # 250 bytes/s


async def test_a_body_at_a_healthy_rate_is_read_whole():
    limits = BodyLimits(max_size=None, timeout=3600, min_rate=1000, grace=0.1)
    body = await read_body(SCOPE, trickle(b"y" * 1000, 0.01, count=20), limits)
    assert body == b"y" * 20_000


async def test_anonymous_bodies_share_a_budget_given_back_when_they_end():
    budget = BodyBudget(100)
    limits = BodyLimits(max_size=None, timeout=3600, min_rate=0)
    release = asyncio.Event()
    first = BodyClaim(budget)
    holding = asyncio.create_task(read_body(SCOPE, hold(b"a" * 80, release), limits, first))
    await asyncio.sleep(0.01)
    assert budget.in_flight == 80
    with pytest.raises(BodyBudgetSpent):
        await read_body(SCOPE, trickle(b"b" * 30, 0, count=1), limits, BodyClaim(budget))
    signed_in = await read_body(SCOPE, trickle(b"c" * 30, 0, count=1), limits, BodyClaim(None))
    assert signed_in == b"c" * 30  # requests with credentials are not counted
    release.set()
    await holding
    first.release()
    assert budget.in_flight == 0
    second = BodyClaim(budget)
    assert await read_body(SCOPE, trickle(b"b" * 30, 0, count=1), limits, second) == b"b" * 30


def test_credentials_are_a_session_cookie_or_an_authorization_header():
    def scope(*headers: tuple[bytes, bytes]) -> dict:
        return {**SCOPE, "headers": list(headers)}

    assert not has_credentials(scope(), "session")
    assert not has_credentials(scope((b"cookie", b"theme=dark")), "session")
    assert has_credentials(scope((b"cookie", b"theme=dark; session=abc")), "session")
    assert has_credentials(scope((b"authorization", b"Bearer t")), "session")


# -- through the adapter: what the client is answered ------------------------------------------

@pytest.fixture
def body_app(monkeypatch):
    monkeypatch.setenv("VITRINE_BODY_TIMEOUT", "0.3")
    monkeypatch.setenv("VITRINE_UNAUTH_BODY_BUDGET", "1000")
    application = create_app("testing")
    yield application
    application.close()


async def _serve(app, receive, headers=()) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {**SCOPE, "headers": [(b"content-type", b"application/x-www-form-urlencoded"),
                                  *headers],
             "query_string": b"", "server": ("test", 80), "client": ("127.0.0.1", 1)}
    await app(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body


async def test_a_trickled_body_is_answered_408_and_its_budget_returned(body_app):
    status, _headers, body = await _serve(body_app, trickle(b"x", 0.02))
    assert status == 408 and b"<html" in body
    assert body_app.asgi.body_budget.in_flight == 0


async def test_anonymous_bodies_past_the_budget_get_503_with_retry_after(body_app):
    release = asyncio.Event()
    holding = asyncio.create_task(_serve(body_app, hold(b"a" * 900, release)))
    await asyncio.sleep(0.01)
    status, headers, _body = await _serve(body_app, trickle(b"b" * 200, 0, count=1))
    assert status == 503 and headers[b"retry-after"] == b"2"
    release.set()
    await holding  # answered (whatever the view says), and its bytes given back
    assert body_app.asgi.body_budget.in_flight == 0
