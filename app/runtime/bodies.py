"""Reading a request body without letting a slow or hostile client pin the worker's memory.

A body is buffered whole before the app runs (the WSGI app reads ``wsgi.input`` synchronously),
so every byte a client has sent but not finished sending is held by the worker. Three limits
keep that bounded:

* **a size** (``MAX_CONTENT_LENGTH``): more is refused with 413, by its ``Content-Length``
  before any byte is read when it declares one. A route may allow more
  (:mod:`.allowances`): the reader asks ``allowance()`` once, only when a body is about to
  exceed the app-wide size, and holds it to that bound instead;
* **a deadline** for the whole body (``BODY_TIMEOUT``) and **a minimum rate**
  (``BODY_MIN_RATE`` bytes/s, counted from :data:`RATE_GRACE` seconds after the request
  started): a per-read timeout alone does not stop a client sending one byte a second, so the
  wait for each message is cut at the moment the body would fall behind either bound. The
  request is answered 408 and the connection closed (the body is unfinished);
* **a budget** of body bytes in flight, per worker, for requests that carry no credentials (no
  session cookie, no ``Authorization``): anonymous clients together cannot hold more than
  ``UNAUTH_BODY_BUDGET`` bytes; past it, 503 with ``Retry-After``. The check is only whether a
  credential is *present* (no database): it keeps an anonymous flood from crowding out signed-in
  editors, while the deadline and the rate bound everyone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .types import Receive, Scope

#: Seconds a body may take before the minimum rate applies (connection set-up, a slow start).
RATE_GRACE = 2.0


class BodyTooLarge(Exception):
    """The request body exceeded ``MAX_CONTENT_LENGTH`` (413)."""


class BodyTooSlow(Exception):
    """The body missed its deadline or fell below the minimum rate (408)."""


class BodyBudgetSpent(Exception):
    """Anonymous bodies in flight already hold the worker's budget (503)."""


class ClientGone(Exception):
    """The client disconnected before its body was complete."""


@dataclass(frozen=True)
class BodyLimits:
    """The bounds every body is read under (from the app's config)."""

    max_size: int | None
    timeout: float
    min_rate: int
    grace: float = RATE_GRACE

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BodyLimits:
        return cls(max_size=int(config.get("MAX_CONTENT_LENGTH") or 0) or None,
                   timeout=float(config["BODY_TIMEOUT"]),
                   min_rate=int(config["BODY_MIN_RATE"]))


class BodyBudget:
    """Bytes of anonymous request bodies one worker holds at once (a plain counter: the worker's
    requests all run on its one event loop)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    def claim(self, size: int) -> bool:
        if self.in_flight + size > self.limit:
            return False
        self.in_flight += size
        return True

    def release(self, size: int) -> None:
        self.in_flight -= size


class BodyClaim:
    """What one request holds of the budget (nothing when it carries credentials); released
    once, when the request is over. ``received`` counts its body bytes either way."""

    def __init__(self, budget: BodyBudget | None) -> None:
        self._budget = budget
        self.held = 0
        self.received = 0

    def add(self, size: int) -> None:
        self.received += size
        if self._budget is None or not size:
            return
        if not self._budget.claim(size):
            raise BodyBudgetSpent
        self.held += size

    def release(self) -> None:
        if self._budget is not None and self.held:
            self._budget.release(self.held)
            self.held = 0


def has_credentials(scope: Scope, session_cookie: str) -> bool:
    """Whether the request presents a session cookie or an ``Authorization`` header (not
    whether they are valid: that needs the database, and this runs before the app)."""
    marker = session_cookie.encode("latin-1") + b"="
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return True
        if name == b"cookie" and marker in value:
            return True
    return False


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class _SizeBound:
    """The body's size limit: the app-wide one until a body would pass it, then the route's
    allowance if it has a larger one (asked at most once)."""

    def __init__(self, max_size: int | None, allowance: Callable[[], int | None] | None) -> None:
        self.value = max_size
        self._allowance = allowance

    def exceeded(self, size: int) -> bool:
        if self.value is None or size <= self.value:
            return False
        if self._allowance is not None:
            allowed, self._allowance = self._allowance(), None
            if allowed is not None and allowed > self.value:
                self.value = allowed
                return size > allowed
        return True


async def read_body(scope: Scope, receive: Receive, limits: BodyLimits,
                    claim: BodyClaim | None = None,
                    allowance: Callable[[], int | None] | None = None) -> bytes:
    """The whole body of the request, or one of the exceptions above. ``allowance`` gives the
    route's larger size limit, if any (see :mod:`.allowances`); it is called only for a body
    larger than ``limits.max_size``.

    On any exception the chunks read so far are dropped with this frame: nothing outlives it.
    """
    bound = _SizeBound(limits.max_size, allowance)
    declared = _declared_length(scope)
    if declared is not None and bound.exceeded(declared):
        raise BodyTooLarge
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + limits.timeout
    chunks: list[bytes] = []
    size = 0
    while True:
        due = deadline
        if limits.min_rate:
            # With ``size`` bytes in, the body is on pace until started + grace + size / rate.
            due = min(due, started + limits.grace + size / limits.min_rate)
        try:
            async with asyncio.timeout_at(due):
                message = await receive()
        except TimeoutError:
            raise BodyTooSlow from None
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if bound.exceeded(size):
            raise BodyTooLarge
        if claim is not None:
            claim.add(len(chunk))
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
