"""The failure counter behind the sign-in lockout, on its own."""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from limits.aio.storage import RedisStorage
from limits.storage import storage_from_string

from app import create_app
from app.auth.throttle import LoginThrottle, ThrottleState


def make(**kw):
    return LoginThrottle(storage_from_string("async+memory://"),
                         **{"per_account": 3, "per_address": 5, "window": "1 minute", **kw})


@contextmanager
def warnings_of(name: str) -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(logging.WARNING)
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def make_app(database_url):
    """Another app on the test database, closed after the test."""
    apps = []

    def build(**overrides):
        application = create_app("testing", DATABASE_URL=database_url, **overrides)
        apps.append(application)
        return application

    yield build
    for application in apps:
        application.close()


def test_failures_lock_an_account_case_insensitively(app):
    throttle = make()

    async def run():
        for _ in range(3):
            assert (await throttle.check("Ed@Example.com", "1.1.1.1")).allowed
            await throttle.record_failure("Ed@Example.com", "1.1.1.1")
        return await throttle.check("ed@example.com", "2.2.2.2")

    state = app.run_blocking(run())
    assert not state.allowed and 0 < state.retry_after <= 61


def test_success_clears_the_account_but_not_the_address(app):
    throttle = make()

    async def run():
        for n in range(5):
            await throttle.record_failure(f"u{n % 2}@x", "1.1.1.1")
        await throttle.record_success("u0@x")
        return (await throttle.check("u0@x", "3.3.3.3"), await throttle.check("new@x", "1.1.1.1"))

    account, address = app.run_blocking(run())
    assert account.allowed
    assert not address.allowed


def test_an_unreachable_store_lets_sign_in_through_and_logs_it(app):
    # Nothing listens on port 1: every store call fails at once with "connection refused".
    down = RedisStorage("async+redis://127.0.0.1:1/0", implementation="redispy",
                        socket_connect_timeout=0.5)
    throttle = LoginThrottle(down, per_account=3, per_address=5, window="1 minute")

    async def run():
        for _ in range(4):  # more failures than the limit: none of them could be counted
            await throttle.record_failure("a@x", "1.1.1.1")
        await throttle.record_success("a@x")
        return await throttle.check("a@x", "1.1.1.1")

    with warnings_of("vitrine.auth") as records:
        state = app.run_blocking(run())
    assert state == ThrottleState(True)
    assert len(records) == 6
    assert all(r.getMessage() == "login throttle store unavailable" and r.exc_info
               for r in records)


def test_limits_come_from_the_settings(make_app):
    strict = make_app(LOGIN_FAILURES_PER_ACCOUNT=2, LOGIN_FAILURES_PER_ADDRESS=50,
                      LOGIN_FAILURE_WINDOW="1 hour")
    throttle = strict.extensions["vitrine_login_throttle"]

    async def run():
        states = []
        for _ in range(2):
            states.append((await throttle.check("ed@x", "1.1.1.1")).allowed)
            await throttle.record_failure("ed@x", "1.1.1.1")
        states.append(await throttle.check("ed@x", "1.1.1.1"))
        return states

    first, second, third = strict.run_blocking(run())
    assert first and second
    assert not third.allowed and 3500 < third.retry_after <= 3601


def test_two_prefixes_sharing_a_redis_do_not_share_lockouts(make_app, redis_url):
    prefixes = [f"vitrine-test-{uuid.uuid4().hex}" for _ in range(2)]
    one, other = (make_app(REDIS_URL=redis_url, RATELIMIT_KEY_PREFIX=prefix)
                  for prefix in prefixes)
    throttles = [app.extensions["vitrine_login_throttle"] for app in (one, other)]
    client = redis.Redis.from_url(redis_url)
    try:
        async def lock_in_one():
            for _ in range(5):
                await throttles[0].record_failure("ed@example.com", "1.1.1.1")
            return await throttles[0].check("ed@example.com", "2.2.2.2")

        assert not one.run_blocking(lock_in_one()).allowed
        assert other.run_blocking(throttles[1].check("ed@example.com", "1.1.1.1")).allowed
        keys = [key.decode() for key in client.scan_iter(f"{prefixes[0]}*")]
        assert keys and all(key.startswith(f"{prefixes[0]}-auth:") for key in keys)
        assert list(client.scan_iter(f"{prefixes[1]}*")) == []
    finally:
        for prefix in prefixes:
            keys = list(client.scan_iter(f"{prefix}*"))
            if keys:
                client.delete(*keys)
        client.close()
