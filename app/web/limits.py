"""Rate limits (Flask-Limiter): one limiter per app, and a way for each area to put its routes
under a shared limit.

Storage is Redis when ``RATELIMIT_STORAGE_URI`` or ``REDIS_URL`` names one, so a limit holds
across Hypercorn workers and machines; without it each worker counts in memory (fine for
development, not for production). If Redis stops answering, the limiter logs it and falls back
to in-memory counting instead of failing requests (``RATELIMIT_SWALLOW_ERRORS`` /
``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``).

Counters are per client address (``request.remote_addr``; put the app behind a proxy that sets
it, e.g. Werkzeug's ``ProxyFix``). This module knows no area: each one attaches its own limit
with :func:`limit_blueprint` (sign-in attempts in :mod:`app.auth`, the shopper search in
:mod:`app.catalog`, every request in :mod:`app.api`), naming the config key that holds it
(``RATELIMIT_LOGIN``, ``RATELIMIT_SEARCH``, ``RATELIMIT_API``).

A refused request gets 429 with ``Retry-After`` in its client's format (JSON for the API, a
fragment for htmx, a page for a browser) through :func:`app.web.errors.error_response`.

The limiter is created per app (``app.extensions["vitrine_limiter"]``, see :func:`get_limiter`)
rather than as a module global: Flask-Limiter keeps its storage and enabled flag on the instance,
and the test suite builds several apps with different limits in one process.

Flask-Limiter's Redis client is synchronous: a check is one round-trip to Redis (well under a
millisecond on the same host) made on the worker's event loop. The socket timeouts below bound
what a stalled Redis can cost before the in-memory fallback takes over.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from flask.sansio.app import App
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from .errors import error_response

EXTENSION_KEY = "vitrine_limiter"
_REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://")


def redis_storage_url(config: Mapping[str, Any]) -> str | None:
    """The Redis that rate limits (and the sign-in lockout) count in, or None for memory."""
    url = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL")
    return url if isinstance(url, str) and url.startswith(_REDIS_SCHEMES) else None


def init_app(app: Flask) -> None:
    """Attach a limiter to ``app`` unless ``RATELIMIT_ENABLED`` is false."""
    config = app.config
    if not config["RATELIMIT_ENABLED"]:
        return

    redis_url = redis_storage_url(config)
    storage_options: dict[str, Any] = {}
    if redis_url is not None:
        storage_options = {
            "key_prefix": config["RATELIMIT_KEY_PREFIX"],
            "socket_timeout": 0.5,
            "socket_connect_timeout": 0.5,
        }
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=redis_url or "memory://",
        storage_options=storage_options,
        # The prefix is already in the Redis key; keep Flask-Limiter from adding it twice.
        key_prefix="",
    )
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = limiter

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(error: RateLimitExceeded) -> Response:
        extra = {"limit": str(error.limit.limit)} if request.path.startswith("/api/") else None
        return error_response(429, retry_after=retry_after_seconds(limiter), extra=extra)


def limit_blueprint(bp: Blueprint, setting: str, *, scope: str,
                    methods: list[str] | None = None, endpoints: Collection[str] | None = None,
                    error_message: str | None = None) -> None:
    """Count requests to ``bp`` against one limit shared by its routes, read from
    ``app.config[setting]`` (e.g. "10 per minute") when ``bp`` is registered on an app.

    ``methods`` and ``endpoints`` narrow what counts (only ``POST`` to ``auth.login``, say);
    ``scope`` names the counter. Nothing happens on an app whose rate limiting is disabled.
    Call it where ``bp`` is created, before the app registers it.
    """
    exempt_when: Callable[[], bool] | None = None
    if endpoints is not None:
        counted = frozenset(endpoints)

        def exempt_when() -> bool:
            return request.endpoint not in counted

    @bp.record_once
    def attach(state: BlueprintSetupState) -> None:
        limiter = get_limiter(state.app)
        if limiter is not None:
            limiter.shared_limit(state.app.config[setting], scope=scope, methods=methods,
                                 exempt_when=exempt_when, error_message=error_message)(bp)


def get_limiter(app: App | None = None) -> Limiter | None:
    """The app's limiter, or None when rate limiting is disabled."""
    limiter: Limiter | None = (app or current_app).extensions.get(EXTENSION_KEY)
    return limiter


def retry_after_seconds(limiter: Limiter) -> int:
    """Whole seconds until the breached window resets (at least 1)."""
    current = limiter.current_limit
    if current is None:
        return 60
    try:
        return max(1, math.ceil(current.window[0] - time.time()))
    except Exception:  # storage unreachable while reading the window: a safe default
        return 60
