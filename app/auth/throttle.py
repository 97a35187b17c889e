"""Sign-in throttling: lock an account, or an address, after repeated failed sign-ins.

Flask-Limiter (:mod:`app.web.limits`) caps how *often* an address may try at all; this module
counts *failures*, so that guessing one account's password stops after a few wrong tries even
when they come from many addresses, and one address cannot try many accounts:

* per account (the email, lower-cased, whether or not it exists, so the lockout reveals
  nothing): ``LOGIN_FAILURES_PER_ACCOUNT`` failures (default 5) within the window lock it;
* per address: ``LOGIN_FAILURES_PER_ADDRESS`` failures (default 20) within the window.

The window (``LOGIN_FAILURE_WINDOW``, default "15 minutes") is a moving window from the
`limits` library (the one Flask-Limiter is built on), stored in Redis when ``REDIS_URL`` is set
(shared by all workers) and in process memory otherwise. A successful sign-in clears the
account's count. Attempts made while locked are refused without checking the password and are
not counted, so a lock always ends when the window has passed. If the store fails, sign-in is
allowed (the password is still required) and the failure is logged.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

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


def init_app(app: Flask) -> LoginThrottle:
    config = app.config
    config.setdefault("LOGIN_FAILURES_PER_ACCOUNT", 5)
    config.setdefault("LOGIN_FAILURES_PER_ADDRESS", 20)
    config.setdefault("LOGIN_FAILURE_WINDOW", "15 minutes")
    redis_url = config.get("REDIS_URL")
    if redis_url and redis_url.startswith(("redis://", "rediss://")):
        storage = storage_from_string(f"async+{redis_url}", implementation="redispy",
                                      key_prefix="vitrine-auth", socket_timeout=0.5,
                                      socket_connect_timeout=0.5)
    else:
        storage = storage_from_string("async+memory://")
    throttle = LoginThrottle(storage, per_account=int(config["LOGIN_FAILURES_PER_ACCOUNT"]),
                             per_address=int(config["LOGIN_FAILURES_PER_ADDRESS"]),
                             window=config["LOGIN_FAILURE_WINDOW"])
    app.extensions[EXTENSION_KEY] = throttle
    return throttle


def get_throttle() -> LoginThrottle:
    return current_app.extensions[EXTENSION_KEY]
