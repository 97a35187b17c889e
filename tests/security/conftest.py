"""Fixtures for the security tests: extra apps with real rate limits or the production config."""

from __future__ import annotations

import uuid

import pytest

from app import create_app


@pytest.fixture
def make_app(database_url):
    """Build another app on the test database (closed after the test)."""
    apps = []

    def build(config_name: str = "testing", **overrides):
        application = create_app(config_name, DATABASE_URL=database_url, **overrides)
        apps.append(application)
        return application

    yield build
    for application in apps:
        application.close()


@pytest.fixture
def redis_prefix(redis_url):
    """A key prefix no other test run uses (``TEST_REDIS_URL`` may be shared), removed after."""
    import redis

    prefix = f"vitrine-test-{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()
