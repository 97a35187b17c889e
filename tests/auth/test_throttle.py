"""The failure counter behind the sign-in lockout, on its own."""

from limits.storage import storage_from_string

from app.auth.throttle import LoginThrottle


def make(**kw):
    return LoginThrottle(storage_from_string("async+memory://"),
                         **{"per_account": 3, "per_address": 5, "window": "1 minute", **kw})


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


def test_a_broken_store_lets_sign_in_through(app):
    class Broken:
        async def test(self, *a, **k):
            raise ConnectionError("redis down")

        hit = test

    throttle = make()
    throttle.limiter = Broken()
    assert app.run_blocking(throttle.check("a@x", "1.1.1.1")).allowed
    app.run_blocking(throttle.record_failure("a@x", "1.1.1.1"))  # logged, not raised
