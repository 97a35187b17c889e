"""Configuration classes, chosen by ``VITRINE_CONFIG`` (development, testing, production).

Secrets and connection strings come from the environment only. ``DATABASE_URL`` is optional:
without it the app starts an embedded PostgreSQL (see :mod:`app.data.embedded`).
"""

from __future__ import annotations

import os
import secrets

_DEV_SECRET = "dev-only-insecure-secret-key"  # noqa: S105 - refused in production


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


class BaseConfig:
    """Settings shared by every environment; each can be overridden from the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET)
    DATABASE_URL = os.environ.get("DATABASE_URL") or None
    REDIS_URL = os.environ.get("REDIS_URL") or None

    # Request execution (see app.runtime): how many requests one worker runs at once, how long
    # a request may wait for a slot, and how long it may run before it is cancelled with a 503.
    MAX_CONCURRENT_REQUESTS = _int("VITRINE_MAX_CONCURRENT_REQUESTS", 256)
    REQUEST_QUEUE_TIMEOUT = _float("VITRINE_REQUEST_QUEUE_TIMEOUT", 5.0)
    REQUEST_TIMEOUT = _float("VITRINE_REQUEST_TIMEOUT", 15.0)
    RETRY_AFTER_SECONDS = _int("VITRINE_RETRY_AFTER", 2)

    # Connection pool of the worker's async engine.
    DB_POOL_SIZE = _int("VITRINE_DB_POOL_SIZE", 10)
    DB_MAX_OVERFLOW = _int("VITRINE_DB_MAX_OVERFLOW", 0)
    DB_POOL_TIMEOUT = _float("VITRINE_DB_POOL_TIMEOUT", 5.0)
    DB_POOL_PRE_PING = os.environ.get("VITRINE_DB_POOL_PRE_PING", "0") == "1"
    # A transaction left idle this long (a crashed or disconnected handler) is ended by PostgreSQL.
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = _int("VITRINE_DB_IDLE_TX_TIMEOUT_MS", 30_000)
    DB_STATEMENT_TIMEOUT_MS = _int("VITRINE_DB_STATEMENT_TIMEOUT_MS", 20_000)
    # Memory held per worker for statement reuse. SQLAlchemy keeps compiled SQL per distinct
    # statement (~50 KB each). The catalog builds its statements per *shape* of filter (see
    # app.catalog.filters): a few dozen serve most searches, but filters combine into thousands,
    # so this is an LRU of the ones in use (a miss costs 2-10 ms of Python to compile). The
    # asyncpg dialect keeps prepared statements per connection (a miss is one more Parse round
    # trip). 250 compiled statements: ~12 MB.
    DB_QUERY_CACHE_SIZE = _int("VITRINE_DB_QUERY_CACHE_SIZE", 250)
    DB_PREPARED_STATEMENT_CACHE_SIZE = _int("VITRINE_DB_PREPARED_STATEMENT_CACHE_SIZE", 50)
    # How the worker's connections appear in pg_stat_activity.
    DB_APPLICATION_NAME = os.environ.get("VITRINE_DB_APPLICATION_NAME", "vitrine")

    # Shopper search: relevance ranks at most this many matches per block when more match
    # (0 = rank every match). See app.catalog.query._capped_ranking for the trade-off.
    CATALOG_RANK_CANDIDATES = _int("VITRINE_CATALOG_RANK_CANDIDATES", 2_000)

    EMBEDDED_DATABASE_NAME = "vitrine"
    LOG_LEVEL = os.environ.get("VITRINE_LOG_LEVEL") or None

    MAX_CONTENT_LENGTH = _int("VITRINE_MAX_CONTENT_LENGTH", 1024 * 1024)
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Rate limits (app.web.limits): Redis storage when REDIS_URL is set, memory otherwise.
    RATELIMIT_ENABLED = os.environ.get("VITRINE_RATELIMIT_ENABLED", "1") == "1"
    RATELIMIT_LOGIN = os.environ.get("VITRINE_RATELIMIT_LOGIN", "10 per minute")
    RATELIMIT_SEARCH = os.environ.get("VITRINE_RATELIMIT_SEARCH", "300 per minute")
    RATELIMIT_API = os.environ.get("VITRINE_RATELIMIT_API", "600 per minute")
    RATELIMIT_KEY_PREFIX = os.environ.get("VITRINE_RATELIMIT_KEY_PREFIX", "vitrine")

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    TESTING = False
    DEBUG = False
    ENV_NAME = "base"


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"


class TestingConfig(BaseConfig):
    ENV_NAME = "testing"
    TESTING = True
    DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None
    # Name of the embedded test database; parallel test runs each set their own.
    EMBEDDED_DATABASE_NAME = os.environ.get("VITRINE_TEST_DB", "vitrine_test")
    SECRET_KEY = "testing-secret-key"  # noqa: S105 - tests only
    WTF_CSRF_ENABLED = True
    # Off so the suite is never throttled; tests of the limits turn it on explicitly.
    RATELIMIT_ENABLED = os.environ.get("VITRINE_RATELIMIT_ENABLED", "0") == "1"


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = os.environ.get("VITRINE_INSECURE_COOKIES", "0") != "1"
    SEND_FILE_MAX_AGE_DEFAULT = 7 * 24 * 3600


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def select_config(name: str | None = None) -> type[BaseConfig]:
    """Return the config class named by ``name`` or ``VITRINE_CONFIG`` (default development)."""
    name = name or os.environ.get("VITRINE_CONFIG", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"VITRINE_CONFIG={name!r} is not one of {', '.join(sorted(CONFIGS))}"
        ) from None


def check_production_secret(secret_key: str | None) -> None:
    """Refuse to run production with a missing, default or short ``SECRET_KEY``."""
    if not secret_key or secret_key == _DEV_SECRET or len(secret_key) < 32:
        example = secrets.token_urlsafe(48)
        raise RuntimeError(
            "Production needs a real SECRET_KEY of at least 32 characters in the environment, "
            f"for example SECRET_KEY={example}"
        )
