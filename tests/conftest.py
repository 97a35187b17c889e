"""Shared fixtures: one migrated test database per run, emptied before every test.

The database is the embedded PostgreSQL (``instance/pgdata``, database ``vitrine_test``) unless
``TEST_DATABASE_URL`` names another server. Tests get a Flask ``app`` and ``client`` (Flask's test
client, routed through the same event-loop bridge as a served request), a sync ``sql`` helper
for arranging and checking rows, ``live_server`` for a real Hypercorn process and ``redis_url``
for a Redis (``TEST_REDIS_URL``, or one the run starts and stops).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator

import psycopg
import pytest

os.environ["VITRINE_CONFIG"] = "testing"

from app import create_app  # noqa: E402
from app.data.urls import libpq_dsn  # noqa: E402
from app.runtime import VitrineFlask  # noqa: E402

from .support.sql import Sql  # noqa: E402

TABLES = ("presence", "procrastinate_jobs", "procrastinate_workers", "job_batches", "jobs",
          "command_keys", "product_images", "image_blobs",
          "product_revisions", "api_tokens", "products", "categories", "users")


@pytest.fixture(scope="session")
def app() -> Iterator[VitrineFlask]:
    """The app under test, on a freshly migrated test database."""
    application = create_app("testing")
    reset_schema(application)
    yield application
    application.close()


def reset_schema(application: VitrineFlask) -> None:
    """Drop everything and migrate from empty to head, as a fresh deployment would."""
    from flask_migrate import upgrade

    with psycopg.connect(libpq_dsn(application.config["DATABASE_URL"]), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    with application.app_context():
        upgrade()


@pytest.fixture(scope="session")
def database_url(app: VitrineFlask) -> str:
    return app.config["DATABASE_URL"]


@pytest.fixture(scope="session")
def _sql_connection(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_dsn(database_url), autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="session")
def _seeded_synonyms(_sql_connection: psycopg.Connection) -> list[tuple]:
    """The synonym groups the migrations seed, as the run found them."""
    return _sql_connection.execute(
        "SELECT id, words, created_at FROM search_synonyms ORDER BY id").fetchall()


@pytest.fixture(autouse=True)
def _empty_tables(_sql_connection: psycopg.Connection, _seeded_synonyms: list[tuple]) -> None:
    """Every test starts from empty tables (identities restarted) and the seeded synonym
    groups, whatever an earlier test added or deleted."""
    _sql_connection.execute(f"TRUNCATE {', '.join(TABLES)}, search_synonyms RESTART IDENTITY"
                            " CASCADE")
    with _sql_connection.cursor() as cursor:
        cursor.executemany("INSERT INTO search_synonyms (id, words, created_at)"
                           " VALUES (%s, %s, %s)", _seeded_synonyms)
        cursor.execute("SELECT setval(pg_get_serial_sequence('search_synonyms', 'id'),"
                       " (SELECT max(id) FROM search_synonyms))")


@pytest.fixture
def sql(_sql_connection: psycopg.Connection) -> Sql:
    """Arrange and inspect rows with plain SQL (autocommit), independent of the app's loop."""
    return Sql(_sql_connection)


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., VitrineFlask]]:
    """Build more apps on the test database (another config, real rate limits, other
    settings, even another database): ``make_app("production", KEY=value)``; each is closed
    after the test."""
    made: list[VitrineFlask] = []

    def make(config_name: str = "testing", **overrides: object) -> VitrineFlask:
        application = create_app(config_name, **{"DATABASE_URL": database_url, **overrides})
        made.append(application)
        return application

    yield make
    for application in made:
        application.close()


@pytest.fixture
def client(app: VitrineFlask):
    return app.test_client()


@pytest.fixture
def run_db(app: VitrineFlask):
    """Run ``fn(session)`` on the app's loop in one transaction, rolled back unless
    ``commit=True`` (for tests that call the data layer directly)."""
    database = app.extensions["vitrine_db"]

    def run(fn, *, commit: bool = False):
        async def go():
            async with database.session() as session:
                result = await fn(session)
                if commit:
                    await session.commit()
                return result

        return app.run_blocking(go())

    return run


@pytest.fixture
def live_server(database_url: str, tmp_path):
    """A one-worker Hypercorn serving ``app:create_app()`` on the test database."""
    from .support.live import start_server

    server = start_server(database_url, tmp_path)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis for the tests: ``TEST_REDIS_URL`` if set, else a ``redis-server`` this run starts
    on a free port (memory only, files in a temporary directory) and stops by pid at the end."""
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        yield configured
        return
    from .support.redis_server import start_redis

    server = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright; fails loudly if Chromium is missing.

    Module-scoped: Playwright's sync API keeps an event loop running in the main thread while it
    is open, which would stop pytest-asyncio tests in other modules from running theirs.
    """
    from playwright.sync_api import sync_playwright

    from .support.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


# Under the app's strict CSP (no 'unsafe-eval'), give ``page.wait_for_function`` a function
# ("() => ..."): Playwright evaluates a bare expression with eval on every poll after the first,
# which the CSP blocks, so such a wait fails whenever its condition is not true at once.
@pytest.fixture
def page(browser):
    """A fresh browser context and page; console errors are collected on ``page.errors``.

    ``page.screenshot`` leaves the text caret alone (``caret="initial"``): to hide it,
    Playwright sets ``caret-color`` in every input's ``style`` while it captures, and an htmx
    swap landing then copies the old input's ``style`` attribute onto the new one with the same
    id (htmx's settle step), which the CSP refuses as an inline style: a console error that is
    the test's own doing (intermittent: only when a swap and a screenshot overlap).
    """
    context = browser.new_context()
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.screenshot = functools.partial(page.screenshot, caret="initial")
    yield page
    context.close()
