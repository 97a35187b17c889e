"""One ``DATABASE_URL`` configures everything: the async driver for requests, a sync one for
migrations. Both are derived here so nothing else has to know driver names."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url


class UnsupportedDatabase(ValueError):
    """The URL names a database other than PostgreSQL."""


def _postgres(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.get_backend_name() not in {"postgresql", "postgres"}:
        raise UnsupportedDatabase(
            f"Vitrine runs on PostgreSQL only; DATABASE_URL names {parsed.get_backend_name()!r}"
        )
    return parsed


def async_url(url: str | URL) -> URL:
    """The URL with the asyncpg driver (``postgresql://`` is accepted as input)."""
    return _postgres(url).set(drivername="postgresql+asyncpg")


def sync_url(url: str | URL) -> URL:
    """The URL with the psycopg driver, for Alembic migrations and other sync tooling."""
    return _postgres(url).set(drivername="postgresql+psycopg")


def libpq_dsn(url: str | URL) -> str:
    """A plain ``postgresql://`` DSN (for asyncpg.connect, psql and pgbench)."""
    return _postgres(url).set(drivername="postgresql").render_as_string(hide_password=False)
