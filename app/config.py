"""Typed settings, read from the environment when ``create_app`` runs (never at import).

``VITRINE_CONFIG`` picks the environment: development, testing or production. Each environment is
a :class:`Settings` subclass; :func:`load_settings` validates the environment against it, and
:meth:`Settings.flask_config` turns the result into the keys of ``app.config`` that the code reads
(``current_app.config["DB_POOL_SIZE"]``). A value that does not parse stops the start with a
:class:`ConfigurationError` naming the variable.

Secrets and connection strings come from the environment only. ``DATABASE_URL`` is optional:
without it the app starts an embedded PostgreSQL (see :mod:`app.data.embedded`).
"""

from __future__ import annotations

import os
import secrets
from typing import Annotated, Any, ClassVar

from pydantic import Field, IPvAnyNetwork, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_DEV_SECRET = "dev-only-insecure-secret-key"  # noqa: S105 - refused in production

#: The page policy (see app.web.security). ``base-uri``/``form-action`` stop an injected
#: ``<base>`` or ``<form>`` from sending data elsewhere; ``object-src 'none'`` rules out plugins.
DEFAULT_CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

#: A comma-separated list in one variable (``a,b``), not the JSON pydantic-settings expects.
CommaList = Annotated[list[str], NoDecode]
Networks = Annotated[list[IPvAnyNetwork], NoDecode]


def env(name: str, default: Any, **kwargs: Any) -> Any:
    """A setting read from the environment variable ``name`` (the only place it is read)."""
    return Field(default, validation_alias=name, **kwargs)


class ConfigurationError(RuntimeError):
    """The environment holds a value the settings cannot use; the message names the variable."""


class Settings(BaseSettings):
    """Settings shared by every environment; each field names its environment variable."""

    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore", frozen=True)

    #: Values that are not configuration but facts of the environment (not read from it).
    FIXED: ClassVar[dict[str, Any]] = {
        "ENV_NAME": "base",
        "TESTING": False,
        "DEBUG": False,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    }

    SECRET_KEY: str = env("SECRET_KEY", _DEV_SECRET, repr=False)
    DATABASE_URL: str | None = env("DATABASE_URL", None, repr=False)
    REDIS_URL: str | None = env("REDIS_URL", None, repr=False)
    # A streaming replica for shopper reads (app.data.replica, app.web.read_routing): used while
    # it lags at most REPLICA_MAX_LAG seconds; a session that wrote reads the primary for
    # READ_YOUR_WRITES seconds after.
    DATABASE_REPLICA_URL: str | None = env("DATABASE_REPLICA_URL", None, repr=False)
    REPLICA_MAX_LAG: float = env("VITRINE_REPLICA_MAX_LAG", 5.0, ge=0)
    READ_YOUR_WRITES: float = env("VITRINE_READ_YOUR_WRITES", 10.0, ge=0)
    EMBEDDED_DATABASE_NAME: str = env("VITRINE_EMBEDDED_DB", "vitrine")

    # Request execution (see app.runtime): how many requests one worker runs at once, how long
    # a request may wait for a slot, and how long it may run before it is cancelled with a 503.
    MAX_CONCURRENT_REQUESTS: int = env("VITRINE_MAX_CONCURRENT_REQUESTS", 256, ge=1)
    REQUEST_QUEUE_TIMEOUT: float = env("VITRINE_REQUEST_QUEUE_TIMEOUT", 5.0, gt=0)
    REQUEST_TIMEOUT: float = env("VITRINE_REQUEST_TIMEOUT", 15.0, gt=0)
    # A streamed response (a generator body): each chunk must be produced and taken by the
    # client within REQUEST_TIMEOUT; the whole stream may last STREAM_TIMEOUT seconds.
    STREAM_TIMEOUT: float = env("VITRINE_STREAM_TIMEOUT", 3600.0, gt=0)
    # Live event streams (app.live): how many one worker holds (503 beyond), the seconds between
    # heartbeat comments, how long the outbox keeps events for replay, and the events a stream
    # may have queued before it is dropped as too slow (its client reconnects and replays).
    MAX_STREAMS: int = env("VITRINE_MAX_STREAMS", 10000, ge=0)
    LIVE_HEARTBEAT: float = env("VITRINE_LIVE_HEARTBEAT", 15.0, gt=0)
    LIVE_RETENTION: int = env("VITRINE_LIVE_RETENTION", 600, ge=10)
    LIVE_QUEUE: int = env("VITRINE_LIVE_QUEUE", 256, ge=1)
    RETRY_AFTER_SECONDS: int = env("VITRINE_RETRY_AFTER", 2, ge=0)

    # Connection pool of the worker's async engine.
    DB_POOL_SIZE: int = env("VITRINE_DB_POOL_SIZE", 10, ge=1)
    DB_MAX_OVERFLOW: int = env("VITRINE_DB_MAX_OVERFLOW", 0, ge=0)
    DB_POOL_TIMEOUT: float = env("VITRINE_DB_POOL_TIMEOUT", 5.0, gt=0)
    DB_POOL_PRE_PING: bool = env("VITRINE_DB_POOL_PRE_PING", False)
    # Connections older than this are replaced at checkout (server-side idle limits, failovers).
    DB_POOL_RECYCLE: int = env("VITRINE_DB_POOL_RECYCLE", 1800, ge=-1)
    # A transaction left idle this long (a crashed or disconnected handler) is ended by PostgreSQL.
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: int = env("VITRINE_DB_IDLE_TX_TIMEOUT_MS", 30_000, ge=0)
    DB_STATEMENT_TIMEOUT_MS: int = env("VITRINE_DB_STATEMENT_TIMEOUT_MS", 20_000, ge=0)
    # Memory held per worker for statement reuse. SQLAlchemy keeps compiled SQL per distinct
    # statement (~50 KB each). The catalog builds its statements per *shape* of filter: a few
    # dozen serve most searches, but filters combine into thousands, so this is an LRU of the
    # ones in use (a miss costs 2-10 ms of Python to compile). The asyncpg dialect keeps
    # prepared statements per connection (a miss is one more Parse round trip).
    # 250 compiled statements: ~12 MB.
    DB_QUERY_CACHE_SIZE: int = env("VITRINE_DB_QUERY_CACHE_SIZE", 250, ge=0)
    # Prepared statements per connection. A wandering shopper journey needs a few hundred
    # shapes: with 50 kept, 39% of its statements were prepared again (a Parse round trip, and
    # PostgreSQL parsing and analysing a facet-count statement of up to 17 branches); with 200,
    # 17%, for ~1 ms less PostgreSQL CPU and ~1 ms less worker CPU per request. What it costs is
    # PostgreSQL's memory: ~110 KB per statement kept, 33-36 MB per backend against 10-14 MB
    # (``python -m bench.shopper_replay``; figures in the README).
    DB_PREPARED_STATEMENT_CACHE_SIZE: int = env(
        "VITRINE_DB_PREPARED_STATEMENT_CACHE_SIZE", 200, ge=0
    )
    # How the worker's connections appear in pg_stat_activity.
    DB_APPLICATION_NAME: str = env("VITRINE_DB_APPLICATION_NAME", "vitrine")

    # Shopper search: relevance ranks at most this many matches per block when more match
    # (0 = rank every match). 500, not 2,000: ranking reads each candidate's tsvector, and the
    # judged queries (`make relevance`, 100,000 products) score the same at 200, 500 and 2,000.
    CATALOG_RANK_CANDIDATES: int = env("VITRINE_CATALOG_RANK_CANDIDATES", 500, ge=0)
    CATALOG_CURRENCY_SYMBOL: str = env("VITRINE_CURRENCY_SYMBOL", "£")
    # A served worker trusts its kept category tree on the change feed's word (no version read
    # per request) for at most this many seconds, then reads the version once: a change nobody
    # announced (a synonym edited in psql) shows within that time.
    CATALOG_TREE_RECHECK: float = env("VITRINE_CATALOG_TREE_RECHECK", 5.0, gt=0)

    # Editor bulk actions: above CONFIRM_LIMIT rows the editor must confirm; MAX_ROWS is the cap.
    BULK_CONFIRM_LIMIT: int = env("VITRINE_BULK_CONFIRM_LIMIT", 500, ge=1)
    BULK_MAX_ROWS: int = env("VITRINE_BULK_MAX_ROWS", 20_000, ge=1)
    # Above this many rows a bulk action runs as a background job with progress (app.jobs).
    BULK_JOB_ROWS: int = env("VITRINE_BULK_JOB_ROWS", 2_000, ge=1)
    # Commands applied at most once (app.data.commands): how long a command key and its
    # outcome are kept (a repeat within this time replays the first outcome).
    COMMAND_KEY_TTL: int = env("VITRINE_COMMAND_KEY_TTL", 86_400, ge=60)
    # Background jobs (app.jobs): rows per batch (one transaction each), and seconds without a
    # heartbeat after which a worker counts as dead and its jobs are retried.
    JOB_BATCH_ROWS: int = env("VITRINE_JOB_BATCH_ROWS", 500, ge=1)
    JOB_STALLED_AFTER: float = env("VITRINE_JOB_STALLED_AFTER", 30.0, gt=0)
    # Product images (app.media, app.editor.images): an upload's bytes and pixels at most (the
    # upload route's body allowance follows IMAGE_MAX_BYTES), and images per product.
    IMAGE_MAX_BYTES: int = env("VITRINE_IMAGE_MAX_BYTES", 10 * 1024 * 1024, ge=1024,
                               le=100 * 1024 * 1024)
    IMAGE_MAX_PIXELS: int = env("VITRINE_IMAGE_MAX_PIXELS", 40_000_000, ge=10_000,
                                le=200_000_000)
    IMAGES_PER_PRODUCT: int = env("VITRINE_IMAGES_PER_PRODUCT", 12, ge=1, le=100)
    # Presence (app.data.presence): an open row form's heartbeat every PRESENCE_HEARTBEAT
    # seconds; colleagues stop seeing "… is editing" PRESENCE_TIMEOUT seconds after the last one
    # (a closed laptop, a lost connection). Hidden tabs beat at most once a minute in Chromium,
    # hence the default timeout above 60 s.
    PRESENCE_HEARTBEAT: int = env("VITRINE_PRESENCE_HEARTBEAT", 20, ge=1)
    PRESENCE_TIMEOUT: int = env("VITRINE_PRESENCE_TIMEOUT", 75, ge=2)
    # Ended jobs (with their batches and failures), import files and procrastinate's finished
    # jobs older than this are deleted by a periodic job (app.jobs.purge).
    JOB_RETENTION_HOURS: int = env("VITRINE_JOB_RETENTION_HOURS", 168, ge=1)
    # CSV import (app.data.imports): the largest file accepted (its upload only; every other
    # body keeps MAX_CONTENT_LENGTH) and the most rows it may have.
    IMPORT_MAX_BYTES: int = env("VITRINE_IMPORT_MAX_BYTES", 64 * 1024 * 1024, ge=1)
    IMPORT_MAX_ROWS: int = env("VITRINE_IMPORT_MAX_ROWS", 200_000, ge=1)
    # Rows an import job applies per transaction (set-based: larger batches than a bulk
    # change's, fewer round trips; each batch is still applied exactly once).
    IMPORT_BATCH_ROWS: int = env("VITRINE_IMPORT_BATCH_ROWS", 2_000, ge=1)
    # A file of at most this many rows is checked (its dry run) in the upload's request; a
    # larger one by a job, with progress, so no request runs for tens of seconds.
    IMPORT_INLINE_ROWS: int = env("VITRINE_IMPORT_INLINE_ROWS", 10_000, ge=0)

    # Shopper responses cached by URL and catalog version (app.web.response_cache): in Redis
    # when REDIS_URL is set (entries expire after RESPONSE_CACHE_TTL seconds), else in each
    # worker's memory (RESPONSE_CACHE_BYTES at most); larger responses are not kept.
    # 16 MB, with up to 16 MB of compressed copies beside it (app.runtime.compression.Memo),
    # keeps a worker under the load test's 200 MB: at 64 MB shoppers alone took a worker to
    # 197-215 MB in 2 minutes, at 32 MB to 208 MB in 6, at 16 MB 184 MB (137 MB with the
    # cache off); the Zipf mix of `python -m bench cache` hits 86% at each size.
    RESPONSE_CACHE: bool = env("VITRINE_RESPONSE_CACHE", True)
    RESPONSE_CACHE_BYTES: int = env("VITRINE_RESPONSE_CACHE_BYTES", 16 * 1024 * 1024, ge=0)
    RESPONSE_CACHE_TTL: int = env("VITRINE_RESPONSE_CACHE_TTL", 600, ge=1)
    RESPONSE_CACHE_MAX_ENTRY: int = env("VITRINE_RESPONSE_CACHE_MAX_ENTRY", 1024 * 1024, ge=1)
    # Filters whose facet counts each worker keeps under the catalog version the response cache
    # read, for the next page or sort of the same filter (app.catalog.facet_memo; 0: none).
    # 512 found 35% of the replayed shopper journey's filters, 2,048 37% (python -m
    # bench.shopper_replay --requests 4000 --response-cache on). An entry is about 7 KB:
    # 2,048 took the replay's RSS 14 MB higher than none, 512 took it 2 MB higher. The same
    # bound holds the answers about words kept beside them: as many typed prefixes' expansions,
    # "Did you mean" words and probed filters (a few hundred bytes each).
    FACET_MEMO_ENTRIES: int = env("VITRINE_FACET_MEMO_ENTRIES", 512, ge=0)
    # Compression of HTML, JSON, CSS and JS (app.runtime.compression).
    COMPRESSION: bool = env("VITRINE_COMPRESSION", True)
    # Cache-Control max-age of static files asked for without their content hash
    # (app.web.static_files; hashed URLs are cached for a year).
    STATIC_MAX_AGE: int = env("VITRINE_STATIC_MAX_AGE", 300, ge=0)

    LOG_LEVEL: str | None = env("VITRINE_LOG_LEVEL", None)
    # Flask-Limiter, limits, Hypercorn's errors, SQLAlchemy's pool (app.ops.logging).
    LIBRARY_LOG_LEVEL: str = env("VITRINE_LIBRARY_LOG_LEVEL", "WARNING")

    MAX_CONTENT_LENGTH: int = env("VITRINE_MAX_CONTENT_LENGTH", 1024 * 1024, ge=1)
    MAX_FORM_MEMORY_SIZE: int = env("VITRINE_MAX_FORM_MEMORY_SIZE", 512 * 1024, ge=1)
    # Request bodies (app.runtime.bodies): the whole body within BODY_TIMEOUT seconds, at no
    # less than BODY_MIN_RATE bytes/s after a short grace (a trickle cannot pin memory), and
    # at most UNAUTH_BODY_BUDGET bytes of bodies without credentials in flight per worker.
    BODY_TIMEOUT: float = env("VITRINE_BODY_TIMEOUT", 30.0, gt=0)
    BODY_MIN_RATE: int = env("VITRINE_BODY_MIN_RATE", 1024, ge=0)
    UNAUTH_BODY_BUDGET: int = env("VITRINE_UNAUTH_BODY_BUDGET", 32 * 1024 * 1024, ge=1)

    # Response headers (app.web.security).
    CONTENT_SECURITY_POLICY: str = env("VITRINE_CSP", DEFAULT_CSP)
    REFERRER_POLICY: str = env("VITRINE_REFERRER_POLICY", "strict-origin-when-cross-origin")
    SECURITY_HSTS: bool = env("VITRINE_HSTS", False)
    # Origins allowed to call /api/v1 from a browser (CORS); none by default.
    CORS_ORIGINS: CommaList = env("VITRINE_CORS_ORIGINS", [])

    # Rate limits (app.web.limits): Redis storage when REDIS_URL is set, memory otherwise.
    RATELIMIT_ENABLED: bool = env("VITRINE_RATELIMIT_ENABLED", True)
    RATELIMIT_LOGIN: str = env("VITRINE_RATELIMIT_LOGIN", "10 per minute")
    RATELIMIT_SEARCH: str = env("VITRINE_RATELIMIT_SEARCH", "300 per minute")
    RATELIMIT_API: str = env("VITRINE_RATELIMIT_API", "600 per minute")
    RATELIMIT_KEY_PREFIX: str = env("VITRINE_RATELIMIT_KEY_PREFIX", "vitrine")
    RATELIMIT_STORAGE_URI: str | None = env("VITRINE_RATELIMIT_STORAGE_URI", None, repr=False)
    RATELIMIT_STRATEGY: str = env("VITRINE_RATELIMIT_STRATEGY", "fixed-window")
    # A Redis outage lets requests through (counted in memory) rather than failing them.
    RATELIMIT_SWALLOW_ERRORS: bool = env("VITRINE_RATELIMIT_SWALLOW_ERRORS", True)
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED: bool = env("VITRINE_RATELIMIT_MEMORY_FALLBACK", True)
    # Sign-in lockout (app.auth.throttle): failures per account and per address in the window.
    LOGIN_FAILURES_PER_ACCOUNT: int = env("VITRINE_LOGIN_FAILURES_PER_ACCOUNT", 5, ge=1)
    LOGIN_FAILURES_PER_ADDRESS: int = env("VITRINE_LOGIN_FAILURES_PER_ADDRESS", 20, ge=1)
    LOGIN_FAILURE_WINDOW: str = env("VITRINE_LOGIN_FAILURE_WINDOW", "15 minutes")

    # /metrics (app.ops.metrics): served to a bearer of the token, or to these client networks.
    METRICS_TOKEN: str | None = env("VITRINE_METRICS_TOKEN", None, repr=False)
    METRICS_ALLOW: Networks = env("VITRINE_METRICS_ALLOW", ["127.0.0.0/8", "::1/128"])

    # Error reporting (sentry-sdk, an optional extra): off unless a DSN is set.
    SENTRY_DSN: str | None = env("SENTRY_DSN", None, repr=False)

    @field_validator("CORS_ORIGINS", "METRICS_ALLOW", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("LOG_LEVEL", "LIBRARY_LOG_LEVEL")
    @classmethod
    def _known_level(cls, value: str | None) -> str | None:
        if value is None:
            return None
        level = value.upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    def flask_config(self) -> dict[str, Any]:
        """The ``app.config`` keys: every setting under its field name, then the fixed values."""
        return {**self.model_dump(exclude=self.not_config()), **self.FIXED}

    @classmethod
    def not_config(cls) -> set[str]:
        """Fields that only derive other keys and do not appear in ``app.config`` themselves."""
        return set()


class DevelopmentSettings(Settings):
    FIXED: ClassVar[dict[str, Any]] = {**Settings.FIXED, "ENV_NAME": "development"}


class TestingSettings(Settings):
    FIXED: ClassVar[dict[str, Any]] = {
        **Settings.FIXED,
        "ENV_NAME": "testing",
        "TESTING": True,
        "SECRET_KEY": "testing-secret-key",  # tests only
        "WTF_CSRF_ENABLED": True,
    }

    DATABASE_URL: str | None = env("TEST_DATABASE_URL", None, repr=False)
    # Name of the embedded test database; parallel test runs each set their own.
    EMBEDDED_DATABASE_NAME: str = env("VITRINE_TEST_DB", "vitrine_test")
    # Off so the suite is never throttled; tests of the limits turn it on explicitly.
    RATELIMIT_ENABLED: bool = env("VITRINE_RATELIMIT_ENABLED", False)


class ProductionSettings(Settings):
    FIXED: ClassVar[dict[str, Any]] = {
        **Settings.FIXED,
        "ENV_NAME": "production",
        "SEND_FILE_MAX_AGE_DEFAULT": 7 * 24 * 3600,
    }

    SECURITY_HSTS: bool = env("VITRINE_HSTS", True)
    # Drops the Secure cookie flag: for a plain-http loopback deployment only.
    INSECURE_COOKIES: bool = env("VITRINE_INSECURE_COOKIES", False)

    def flask_config(self) -> dict[str, Any]:
        return {**super().flask_config(), "SESSION_COOKIE_SECURE": not self.INSECURE_COOKIES}

    @classmethod
    def not_config(cls) -> set[str]:
        return {"INSECURE_COOKIES"}


ENVIRONMENTS: dict[str, type[Settings]] = {
    "development": DevelopmentSettings,
    "testing": TestingSettings,
    "production": ProductionSettings,
}


def select_settings(name: str | None = None) -> type[Settings]:
    """The settings class named by ``name`` or ``VITRINE_CONFIG`` (default development)."""
    name = name or os.environ.get("VITRINE_CONFIG") or "development"
    try:
        return ENVIRONMENTS[name]
    except KeyError:
        raise ConfigurationError(
            f"VITRINE_CONFIG={name!r} is not one of {', '.join(sorted(ENVIRONMENTS))}"
        ) from None


def load_settings(name: str | None = None) -> Settings:
    """Validate the current environment against the settings of ``name``."""
    settings_class = select_settings(name)
    try:
        return settings_class()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ConfigurationError(f"invalid configuration in the environment: {problems}") from None


def check_production_secret(secret_key: str | None) -> None:
    """Refuse to run production with a missing, default or short ``SECRET_KEY``."""
    if not secret_key or secret_key == _DEV_SECRET or len(secret_key) < 32:
        example = secrets.token_urlsafe(48)
        raise ConfigurationError(
            "Production needs a real SECRET_KEY of at least 32 characters in the environment, "
            f"for example SECRET_KEY={example}"
        )


__all__ = [
    "DEFAULT_CSP", "ENVIRONMENTS", "ConfigurationError", "Settings", "check_production_secret",
    "load_settings", "select_settings",
]
