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
not counted, so a lock always ends when the window has passed. If the store fails, sign-in is
allowed (the password is still required) and the failure is logged.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import current_app
from flask.sansio.app import App
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from ..web.limits import redis_storage_url

log = logging.getLogger("vitrine.auth")

EXTENSION_KEY = "vitrine_login_throttle"


@dataclass(frozen=True)
class ThrottleState:
    """Whether a sign-in may be attempted now and, if not, for how many seconds not."""

    allowed: bool
    retry_after: int = 0


class LoginThrottle:
    """Counts failed sign-ins per account and per address in a moving window."""

    def __init__(self, storage: Storage, *, per_account: int, per_address: int,
                 window: str) -> None:
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        self.account_limit: RateLimitItem = parse(f"{per_account} per {window}")
        self.address_limit: RateLimitItem = parse(f"{per_address} per {window}")

    def _keys(self, account: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
        return [(self.account_limit, "login-fail-account", account.strip().lower()),
                (self.address_limit, "login-fail-address", address or "unknown")]

    async def check(self, account: str, address: str) -> ThrottleState:
        """May this account be tried from this address now?"""
        try:
            for limit, scope, key in self._keys(account, address):
                if not await self.limiter.test(limit, scope, key):
                    stats = await self.limiter.get_window_stats(limit, scope, key)
                    return ThrottleState(False, max(1, int(stats.reset_time - time.time()) + 1))
        except Exception:  # the store is down: do not lock everybody out
            log.warning("login throttle store unavailable", exc_info=True)
        return ThrottleState(True)

    async def record_failure(self, account: str, address: str) -> None:
        try:
            for limit, scope, key in self._keys(account, address):
                await self.limiter.hit(limit, scope, key)
        except Exception:
            log.warning("login throttle store unavailable", exc_info=True)

    async def record_success(self, account: str) -> None:
        """Forget the account's failures (not the address's: one success does not excuse
        guessing at other accounts)."""
        try:
            await self.limiter.clear(self.account_limit, "login-fail-account",
                                     account.strip().lower())
        except Exception:
            log.warning("login throttle store unavailable", exc_info=True)

    async def reset(self) -> None:
        """Forget everything (tests)."""
        await self.storage.reset()


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
