"""The failure counter behind the sign-in lockout, on its own."""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.storage import storage_from_string

from app.auth import throttle as throttle_module
from app.auth.throttle import LoginThrottle
from tests.support.clients import sign_in


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


def test_an_unreachable_store_still_locks_and_says_once_that_protection_is_degraded(app):
    # Nothing listens on port 1: every store call fails at once with "connection refused".
    down = RedisStorage("async+redis://127.0.0.1:1/0", implementation="redispy",
                        socket_connect_timeout=0.5)
    throttle = LoginThrottle(down, per_account=3, per_address=5, window="1 minute")

    async def run():
        states = []
        for _ in range(4):  # more failures than the limit: counted in this worker's memory
            states.append((await throttle.check("a@x", "1.1.1.1")).allowed)
            await throttle.record_failure("a@x", "1.1.1.1")
        return states, await throttle.check("A@x", "2.2.2.2")

    with warnings_of("vitrine.auth") as records:
        states, state = app.run_blocking(run())
    assert states == [True, True, True, False]
    assert not state.allowed and 0 < state.retry_after <= 61
    assert [(r.levelno, r.getMessage().split(":")[0]) for r in records] == [
        (logging.ERROR, "sign-in lockout degraded")]
    assert records[0].exc_info


class FlakyMemory(MemoryStorage):
    """A memory store that can be switched off, to stand for a Redis that goes and comes."""

    down = False

    def _fail(self) -> None:
        if self.down:
            raise ConnectionError("store down")

    async def acquire_entry(self, *args, **kwargs):
        self._fail()
        return await super().acquire_entry(*args, **kwargs)

    async def get_moving_window(self, *args, **kwargs):
        self._fail()
        return await super().get_moving_window(*args, **kwargs)

    async def clear(self, *args, **kwargs):
        self._fail()
        return await super().clear(*args, **kwargs)


def test_failures_counted_during_an_outage_still_count_when_the_store_is_back(app, monkeypatch):
    monkeypatch.setattr(throttle_module, "RETRY_STORE", 0)  # try the store on every call
    store = FlakyMemory()
    throttle = LoginThrottle(store, per_account=3, per_address=50, window="1 minute",
                             local=True)

    async def run():
        await throttle.record_failure("a@x", "1.1.1.1")  # counted by both
        store.down = True
        for _ in range(2):  # counted in memory only: the store never sees them
            await throttle.record_failure("a@x", "1.1.1.1")
        store.down = False
        return await throttle.check("a@x", "1.1.1.1"), await throttle.check("b@x", "1.1.1.1")

    with warnings_of("vitrine.auth") as records:
        account, other = app.run_blocking(run())
    assert not account.allowed  # 1 in the store, 3 in memory: the stricter count wins
    assert other.allowed
    assert [(r.levelno, r.getMessage().split(":")[0]) for r in records] == [
        (logging.ERROR, "sign-in lockout degraded"),
        (logging.WARNING, "sign-in lockout restored")]


def test_with_redis_stopped_fifteen_wrong_passwords_lock_the_account(make_app, sql, tmp_path):
    """The attack from the issue: Redis down, 15 wrong passwords in a row, then the right one."""
    from tests.support.redis_server import start_redis

    redis_server = start_redis(tmp_path / "redis")  # the session's Redis is shared: not that one
    try:
        application = make_app(REDIS_URL=redis_server.url,
                               RATELIMIT_KEY_PREFIX=f"vitrine-test-{uuid.uuid4().hex}")
        client = application.test_client()
        sql.user("ed@example.com")
        assert sign_in(client, "ed@example.com", "wrong password!").status_code == 401
    finally:
        redis_server.stop()
    with warnings_of("vitrine.auth") as records:
        statuses = [sign_in(client, "ed@example.com", "wrong password!").status_code
                    for _ in range(15)]
        right = sign_in(client, "ed@example.com")
    assert statuses == [401] * 4 + [429] * 11
    assert right.status_code == 429 and "Too many failed sign-in attempts" in right.text
    assert client.get("/editor/products").status_code == 302  # not signed in
    errors = [r for r in records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "degraded" in errors[0].getMessage()


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
