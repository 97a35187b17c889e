"""Sign-in throttling: lock an account, or an address, after repeated failed sign-ins.

Flask-Limiter (:mod:`app.web.limits`) caps how *often* an address may try at all; this module
counts *failures*, so that guessing one account's password stops after a few wrong tries even
when they come from many addresses, and one address cannot try many accounts:

* per account (the email, lower-cased, whether or not it exists, so the lockout reveals
  nothing): ``LOGIN_FAILURES_PER_ACCOUNT`` failures (default 5) within the window lock it;
* per address: ``LOGIN_FAILURES_PER_ADDRESS`` failures (default 20) within the window.

The window (``LOGIN_FAILURE_WINDOW``, default "15 minutes") is a moving window from the
`limits` library (the one Flask-Limiter is built on), stored in the rate limits' Redis when one
is configured (shared by all workers; see :func:`app.web.limits.redis_storage_url`) and in
process memory otherwise. Its keys start with ``RATELIMIT_KEY_PREFIX`` plus ``-auth``, so two
deployments (or test runs) sharing a Redis do not share lockouts. A successful sign-in clears the
account's count. Attempts made while locked are refused without checking the password and are
not counted, so a lock always ends when the window has passed.

The lockout fails closed. With Redis, each worker also counts every failure in its own memory,
and that count decides too whenever Redis is unreachable, and for one window after it last was:
an outage can make the lockout per worker, never absent, and failures made during the outage
still count once Redis is back (whichever count is stricter wins). While healthy, Redis alone
decides, so a success on one worker is not undone by another worker's stale count. An
unreachable store is then left alone for ``RETRY_STORE`` seconds between attempts, so it costs a
sign-in at most one connection timeout (0.5 s) now and then. An outage is logged once, at error
level (protection is degraded: spread over the workers, a guesser gets ``workers`` times the
tries), and its end once, as a warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app
from flask.sansio.app import App
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from ..web.limits import redis_storage_url

log = logging.getLogger("vitrine.auth")

EXTENSION_KEY = "vitrine_login_throttle"
#: Seconds an unreachable store is left alone before it is tried again.
RETRY_STORE = 1.0
T = TypeVar("T")


@dataclass(frozen=True)
class ThrottleState:
    """Whether a sign-in may be attempted now and, if not, for how many seconds not."""

    allowed: bool
    retry_after: int = 0


class LoginThrottle:
    """Counts failed sign-ins per account and per address in a moving window."""

    def __init__(self, storage: Storage, *, per_account: int, per_address: int,
                 window: str, local: bool | None = None) -> None:
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        # The worker's own count behind a shared store (``local``: by default, unless the store
        # is this process's memory already).
        if local is None:
            local = not isinstance(storage, MemoryStorage)
        self.local_storage = MemoryStorage() if local else None
        self.local = (None if self.local_storage is None
                      else MovingWindowRateLimiter(self.local_storage))
        self.account_limit: RateLimitItem = parse(f"{per_account} per {window}")
        self.address_limit: RateLimitItem = parse(f"{per_address} per {window}")
        self._window = max(self.account_limit.get_expiry(), self.address_limit.get_expiry())
        self._degraded = False
        self._last_store_failure: float | None = None  # time.monotonic()

    def _keys(self, account: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
        return [(self.account_limit, "login-fail-account", account.strip().lower()),
                (self.address_limit, "login-fail-address", address or "unknown")]

    async def _shared(self, action: Callable[..., Awaitable[T]], *args: Any) -> T | None:
        """``action(shared limiter, *args)``, or None if the store is down (or was just now)."""
        failed_at = self._last_store_failure
        if self._degraded and failed_at is not None and time.monotonic() - failed_at < RETRY_STORE:
            return None
        try:
            result = await action(self.limiter, *args)
        except Exception:
            self._last_store_failure = time.monotonic()
            if not self._degraded:
                self._degraded = True
                log.error("sign-in lockout degraded: its store is unreachable, each worker "
                          "counts failed sign-ins on its own until it is back", exc_info=True)
            return None
        if self._degraded:
            self._degraded = False
            log.warning("sign-in lockout restored: its store answers again")
        return result

    def _local_decides(self) -> bool:
        """Whether this worker's count matters now: during an outage, and for one window after
        (the failures it counted meanwhile are missing from the store)."""
        failed_at = self._last_store_failure
        return (self.local is not None and failed_at is not None
                and time.monotonic() - failed_at < self._window)

    async def check(self, account: str, address: str) -> ThrottleState:
        """May this account be tried from this address now?"""
        wait = 0
        for limit, scope, key in self._keys(account, address):
            shared = await self._shared(_refused_for, limit, scope, key)
            wait = max(wait, shared or 0)
            if self.local is not None and (shared is None or self._local_decides()):
                wait = max(wait, await _refused_for(self.local, limit, scope, key))
        return ThrottleState(True) if wait == 0 else ThrottleState(False, wait)

    async def record_failure(self, account: str, address: str) -> None:
        for limit, scope, key in self._keys(account, address):
            if self.local is not None:
                await self.local.hit(limit, scope, key)
            await self._shared(MovingWindowRateLimiter.hit, limit, scope, key)

    async def record_success(self, account: str) -> None:
        """Forget the account's failures (not the address's: one success does not excuse
        guessing at other accounts)."""
        key = account.strip().lower()
        if self.local is not None:
            await self.local.clear(self.account_limit, "login-fail-account", key)
        await self._shared(MovingWindowRateLimiter.clear, self.account_limit,
                           "login-fail-account", key)

    async def reset(self) -> None:
        """Forget everything (tests)."""
        if self.local_storage is not None:
            await self.local_storage.reset()
        await self.storage.reset()


async def _refused_for(limiter: MovingWindowRateLimiter, limit: RateLimitItem, scope: str,
                       key: str) -> int:
    """Seconds until ``key`` may be tried again under ``limit``, 0 if it may now."""
    if await limiter.test(limit, scope, key):
        return 0
    stats = await limiter.get_window_stats(limit, scope, key)
    return max(1, int(stats.reset_time - time.time()) + 1)


#: Appended to ``RATELIMIT_KEY_PREFIX``: the lockout counters' own key space in a shared Redis.
KEY_SUFFIX = "-auth"


def init_app(app: App) -> LoginThrottle:
    config = app.config
    storage: Storage
    redis_url = redis_storage_url(config)
    if redis_url is not None:
        storage = RedisStorage(f"async+{redis_url}", implementation="redispy",
                               key_prefix=config["RATELIMIT_KEY_PREFIX"] + KEY_SUFFIX,
                               socket_timeout=0.5, socket_connect_timeout=0.5)
    else:
        storage = MemoryStorage()
    throttle = LoginThrottle(storage, per_account=int(config["LOGIN_FAILURES_PER_ACCOUNT"]),
                             per_address=int(config["LOGIN_FAILURES_PER_ADDRESS"]),
                             window=config["LOGIN_FAILURE_WINDOW"])
    app.extensions[EXTENSION_KEY] = throttle
    return throttle


def get_throttle() -> LoginThrottle:
    throttle: LoginThrottle = current_app.extensions[EXTENSION_KEY]
    return throttle
