"""Fixtures for the security tests: extra apps with real rate limits or the production config."""

from __future__ import annotations

import uuid

import pytest


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
