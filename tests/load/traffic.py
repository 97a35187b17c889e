"""Concurrent HTTP traffic for the fault tests: every request's path, outcome and timing.

A "hang" must show up as a failure, not as a stuck test, so every request has a client timeout
and every test bounds how many requests it sends.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

HTMX = {"HX-Request": "true"}


@dataclass(frozen=True)
class Outcome:
    path: str
    started: float
    finished: float
    status: int | None  # None: the client got no HTTP answer (connection error, timeout)
    headers: dict[str, str] | None = None
    error: str | None = None

    @property
    def retry_after(self) -> str | None:
        return (self.headers or {}).get("retry-after")

    @property
    def seconds(self) -> float:
        return self.finished - self.started


def statuses(outcomes: Sequence[Outcome]) -> Counter:
    return Counter(o.status if o.status is not None else o.error for o in outcomes)


async def fetch(client: httpx.AsyncClient, path: str, headers: dict | None = None) -> Outcome:
    started = time.monotonic()
    try:
        response = await client.get(path, headers=headers)
    except httpx.HTTPError as error:
        return Outcome(path, started, time.monotonic(), None, error=type(error).__name__)
    return Outcome(path, started, time.monotonic(), response.status_code,
                   headers={k.lower(): v for k, v in response.headers.items()})


async def burst(base_url: str, paths: Sequence[str], *, client_timeout: float = 15,
                headers: dict | None = None) -> list[Outcome]:
    """Send every path at once, each on its own connection."""
    limits = httpx.Limits(max_connections=len(paths), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, limits=limits,
                                 timeout=client_timeout) as client:
        return list(await asyncio.gather(*(fetch(client, p, headers) for p in paths)))


async def steady(base_url: str, next_path: Callable[[int], str], *, workers: int,
                 until: Callable[[], bool], client_timeout: float = 10, limit: int = 5000,
                 headers: dict | None = None) -> list[Outcome]:
    """``workers`` clients sending requests back to back until ``until()`` is true (at most
    ``limit`` requests in all)."""
    outcomes: list[Outcome] = []
    limits = httpx.Limits(max_connections=workers)

    async def worker(client: httpx.AsyncClient, index: int) -> None:
        n = index
        while not until() and len(outcomes) < limit:
            outcome = await fetch(client, next_path(n), headers)
            outcomes.append(outcome)
            n += workers
            if outcome.status is None:  # do not spin on a refused connection
                await asyncio.sleep(0.05)

    async with httpx.AsyncClient(base_url=base_url, limits=limits,
                                 timeout=client_timeout) as client:
        await asyncio.gather(*(worker(client, i) for i in range(workers)))
    return outcomes
