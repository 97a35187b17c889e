"""Migrations, configuration, the seed generator and the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from app import create_app
from app.config import check_production_secret
from app.data import models as _models  # noqa: F401 - puts the models' tables on db.metadata
from app.data.embedded import ensure_database
from app.data.schema import LIBRARY_PREFIX, TRIGGER_MAINTAINED, include_object
from app.data.seed import category_rows, generate_products
from app.data.urls import UnsupportedDatabase, async_url, libpq_dsn, sync_url
from app.extensions import db

TABLES = set(db.metadata.tables)
MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _tables(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return {row[0] for row in rows} - {"alembic_version"}


def test_migrations_upgrade_from_empty_and_downgrade_to_empty(database_url):
    from flask_migrate import downgrade, upgrade

    admin = libpq_dsn(async_url(database_url).set(database="postgres"))
    ensure_database(admin, "vitrine_migrations_check")
    url = async_url(database_url).set(database="vitrine_migrations_check")
    dsn = libpq_dsn(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    app = create_app("testing", DATABASE_URL=url.render_as_string(hide_password=False))
    try:
        with app.app_context():
            upgrade()
            assert _tables(dsn) >= TABLES  # every model's table (areas may add their own)
            with psycopg.connect(dsn) as conn:
                has_trgm = conn.execute(
                    "SELECT 1 FROM pg_extension WHERE extname='pg_trgm'").fetchone()
                generated = conn.execute(
                    "SELECT is_generated FROM information_schema.columns"
                    " WHERE table_name='products' AND column_name='search_vector'"
                ).fetchone()
            assert has_trgm and generated == ("ALWAYS",)
            assert _model_drift(app) == []
            downgrade(revision="base")
            assert _tables(dsn) == set()
            upgrade()
            assert _tables(dsn) >= TABLES
    finally:  # a scratch database of its own: not left behind on a shared server
        app.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS vitrine_migrations_check WITH (FORCE)")


def _model_drift(app) -> list:
    """Differences between the models and the migrated schema, with the rule ``env.py`` uses."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        return compare_metadata(context, db.metadata)


def test_trigger_maintained_tables_are_the_only_tables_without_a_model(database_url):
    """The rule hides exactly the tables no model declares: a new hand-made table must be added
    to it (or get a model), and a table that gains a model must leave it."""
    unmodelled = _tables(libpq_dsn(database_url)) - TABLES
    library = {name for name in unmodelled if name.startswith(LIBRARY_PREFIX)}
    assert unmodelled - library == TRIGGER_MAINTAINED
    assert library == {"procrastinate_jobs", "procrastinate_events", "procrastinate_workers",
                       "procrastinate_periodic_defers"}  # the job queue's schema (0009)
    assert not TRIGGER_MAINTAINED & TABLES


def test_db_migrate_on_head_proposes_nothing(app, tmp_path):
    """``flask db migrate`` through the real ``env.py`` on the migrated test database writes no
    revision (it would propose dropping the trigger-maintained tables without the rule)."""
    from flask_migrate import migrate

    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, directory)
    before = sorted(path.name for path in (directory / "versions").glob("*.py"))
    with app.app_context():
        migrate(directory=str(directory), message="should be empty")
    assert sorted(path.name for path in (directory / "versions").glob("*.py")) == before


def test_urls_derive_drivers_and_refuse_other_databases():
    assert async_url("postgresql://u:p@h/db").drivername == "postgresql+asyncpg"
    assert sync_url("postgresql+asyncpg://u:p@h/db").drivername == "postgresql+psycopg"
    with pytest.raises(UnsupportedDatabase):
        async_url("mysql://u:p@h/db")


def test_production_refuses_a_missing_or_default_secret():
    for secret in (None, "", "dev-only-insecure-secret-key", "short"):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            check_production_secret(secret)
    check_production_secret("x" * 40)


def test_seed_is_deterministic_and_realistic():
    categories = category_rows()
    assert 35 <= len(categories) <= 60
    ids = {slug: i for i, (_, slug, _) in enumerate(categories, 1)}
    first = generate_products(2000, 7, ids)
    assert first == generate_products(2000, 7, ids)
    assert first != generate_products(2000, 8, ids)
    out_of_stock = sum(1 for row in first if row[4] == 0)
    inactive = sum(1 for row in first if not row[5])
    prices = sorted(row[3] for row in first)
    assert 100 < out_of_stock < 400 and 20 < inactive < 150
    assert prices[0] >= 2 and prices[-1] > 10 * prices[len(prices) // 2] / 4
    assert len({row[1] for row in first}) == 2000  # unique slugs
    assert all(row[2].count(".") >= 2 for row in first)  # multi-sentence descriptions


def test_seed_and_users_cli(app, sql):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed", "--products", "300", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert sql.scalar("SELECT count(*) FROM products") == 300
    refused = runner.invoke(args=["seed", "--products", "10"])
    assert refused.exit_code != 0 and "--replace" in refused.output
    skipped = runner.invoke(args=["seed", "--if-empty"])
    assert skipped.exit_code == 0 and sql.scalar("SELECT count(*) FROM products") == 300

    created = runner.invoke(args=["users", "create", "Ed@Example.com", "--role", "admin",
                                  "--password", "long enough pw"])
    assert created.exit_code == 0, created.output
    assert sql.one("SELECT role, email FROM users") == {"role": "admin", "email": "Ed@Example.com"}
    duplicate = runner.invoke(
        args=["users", "create", "ed@example.com", "--password", "another pw!"]
    )
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    weak = runner.invoke(args=["users", "create", "x@example.com", "--password", "short"])
    assert weak.exit_code != 0 and "at least" in weak.output


def test_health_and_readiness(client, app):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ok", "database": "ok"}
    broken = create_app("testing", DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    try:
        response = broken.test_client().get("/readyz")
        assert response.status_code == 503 and response.json["status"] == "unavailable"
    finally:
        broken.close()
