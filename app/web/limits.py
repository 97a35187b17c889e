"""Rate limits (Flask-Limiter) on sign-in attempts, catalog search and the JSON API.

Storage is Redis when ``REDIS_URL`` is set, so a limit holds across Hypercorn workers and
machines; without it each worker counts in memory (fine for development, not for production).
If Redis stops answering, the limiter logs it and falls back to in-memory counting instead of
failing requests (``RATELIMIT_SWALLOW_ERRORS`` / ``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``).

Counters are per client address (``request.remote_addr``; put the app behind a proxy that sets
it, e.g. Werkzeug's ``ProxyFix``). Each area has one counter shared by its routes:

========  ========================================  ======================
scope     what is counted                           config key
========  ========================================  ======================
login     ``POST`` to a sign-in endpoint            ``RATELIMIT_LOGIN``
search    ``GET /products`` (the shopper search)    ``RATELIMIT_SEARCH``
api       every request under ``/api/v1``           ``RATELIMIT_API``
========  ========================================  ======================

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

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from .errors import error_response

EXTENSION_KEY = "vitrine_limiter"

#: Endpoints whose POST is a sign-in attempt (``auth`` blueprint, issue 4).
LOGIN_ENDPOINTS = frozenset({"auth.login"})
#: The shopper search.
SEARCH_ENDPOINTS = frozenset({"catalog.index"})


def init_app(app: Flask) -> None:
    """Attach a limiter to ``app`` unless ``RATELIMIT_ENABLED`` is false."""
    config = app.config
    config.setdefault("RATELIMIT_ENABLED", True)
    config.setdefault("RATELIMIT_LOGIN", "10 per minute")
    config.setdefault("RATELIMIT_SEARCH", "300 per minute")
    config.setdefault("RATELIMIT_API", "600 per minute")
    config.setdefault("RATELIMIT_KEY_PREFIX", "vitrine")
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_STRATEGY", "fixed-window")
    if not config["RATELIMIT_ENABLED"]:
        return

    redis_url = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL")
    storage_options: dict = {}
    if redis_url and redis_url.startswith(("redis://", "rediss://", "redis+unix://")):
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
    _apply_limits(app, limiter)

    @app.errorhandler(RateLimitExceeded)
    def too_many_requests(error: RateLimitExceeded) -> Response:
        extra = {"limit": str(error.limit.limit)} if request.path.startswith("/api/") else None
        return error_response(429, retry_after=retry_after_seconds(limiter), extra=extra)


def _apply_limits(app: Flask, limiter: Limiter) -> None:
    from ..api import bp as api_bp
    from ..auth import bp as auth_bp
    from ..catalog import bp as catalog_bp

    config = app.config
    limiter.shared_limit(
        config["RATELIMIT_LOGIN"], scope="login", methods=["POST"],
        exempt_when=lambda: request.endpoint not in LOGIN_ENDPOINTS,
        error_message="Too many sign-in attempts.",
    )(auth_bp)
    limiter.shared_limit(
        config["RATELIMIT_SEARCH"], scope="search", methods=["GET"],
        exempt_when=lambda: request.endpoint not in SEARCH_ENDPOINTS,
    )(catalog_bp)
    limiter.shared_limit(config["RATELIMIT_API"], scope="api")(api_bp)


def get_limiter(app: Flask | None = None) -> Limiter | None:
    """The app's limiter, or None when rate limiting is disabled."""
    return (app or current_app).extensions.get(EXTENSION_KEY)


def retry_after_seconds(limiter: Limiter) -> int:
    """Whole seconds until the breached window resets (at least 1)."""
    current = limiter.current_limit
    if current is None:
        return 60
    try:
        return max(1, math.ceil(current.window[0] - time.time()))
    except Exception:  # storage unreachable while reading the window: a safe default
        return 60
