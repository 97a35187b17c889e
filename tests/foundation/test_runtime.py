"""How requests execute: one loop and one pool per process, Flask's context intact inside async
views, timeouts answered 503 with the connection returned, failures rolled back."""

from __future__ import annotations

import time

import pytest

from tests.support.probe_app import create_probe_app


def test_one_pooled_connection_serves_many_requests(app, sql):
    probe_app = create_probe_app(DATABASE_URL=app.config["DATABASE_URL"],
                                 DB_APPLICATION_NAME="vitrine-pool-probe")
    try:
        probe_client = probe_app.test_client()
        pids = {probe_client.get("/_probe/backend-pid").json["pid"] for _ in range(25)}
        assert len(pids) == 1, "sequential requests should reuse one pooled connection"
        connections = sql.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vitrine-pool-probe'"
            " AND datname = current_database()"
        )
        assert connections == 1  # this app's pool opened no other connection
    finally:
        probe_app.close()


def test_request_context_inside_async_views_and_hooks(probe_app, probe_client):
    first = probe_client.get("/_probe/context?x=hello").json
    second = probe_client.get("/_probe/context?x=again").json
    assert first == {"arg": "hello", "before": "/_probe/context", "app": probe_app.name,
                     "visits": 1, "loop_running": True}
    assert second["arg"] == "again" and second["visits"] == 2  # the session cookie round-trips
    assert probe_app.extensions["probe_teardowns"][-2:] == ["/_probe/context"] * 2


def test_async_error_handler_runs_with_context(probe_client):
    response = probe_client.get("/_probe/lookup-error")
    assert response.status_code == 418
    assert response.json == {"error": "lookup", "path": "/_probe/lookup-error"}


def test_unhandled_error_rolls_back_and_hides_the_traceback(probe_client, sql):
    response = probe_client.get("/_probe/insert-then-fail")
    assert response.status_code == 500
    assert b"boom" not in response.data and b"Traceback" not in response.data
    assert sql.scalar("SELECT count(*) FROM categories WHERE slug = 'doomed'") == 0
    # the pool is healthy afterwards
    assert probe_client.get("/_probe/backend-pid").status_code == 200


def test_slow_view_is_cancelled_with_503_and_the_pool_recovers(app, sql):
    slow_app = create_probe_app(DATABASE_URL=app.config["DATABASE_URL"], REQUEST_TIMEOUT=0.5,
                                DB_POOL_SIZE=1)
    try:
        client = slow_app.test_client()
        response = client.get("/_probe/db-sleep?seconds=30")
        assert response.status_code == 503
        assert response.headers["Retry-After"].isdigit()
        assert b"busy" in response.data
        # the cancelled query is not left running, and the only pooled connection is usable again
        def running() -> int:
            return sql.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%%'"
                " AND state = 'active' AND application_name = 'vitrine'"
                " AND datname = current_database()"
            )

        deadline = time.monotonic() + 2  # asyncpg sends the cancel to the server asynchronously
        while running() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert running() == 0
        assert client.get("/_probe/pool").json["checked_out"] == 0  # returned to the pool
        assert client.get("/_probe/backend-pid").status_code == 200
    finally:
        slow_app.close()


def test_requests_over_the_concurrency_limit_wait_then_get_503(app):
    busy_app = create_probe_app(DATABASE_URL=app.config["DATABASE_URL"],
                                MAX_CONCURRENT_REQUESTS=1, REQUEST_QUEUE_TIMEOUT=0.2)
    try:
        import concurrent.futures

        client = busy_app.test_client()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            statuses = sorted(
                pool.map(
                    lambda _: busy_app.test_client().get("/_probe/sleep?seconds=1").status_code,
                    range(4),
                )
            )
        assert statuses[0] == 200 and statuses[-1] == 503, statuses
        assert set(statuses) <= {200, 503}
        assert client.get("/_probe/sleep?seconds=0").status_code == 200  # recovers
    finally:
        busy_app.close()


@pytest.mark.asyncio
async def test_asgi_entry_point_in_an_asyncio_test(probe_app):
    """Under pytest-asyncio the app runs on the test's own loop, with its own pool."""
    import httpx

    database = probe_app.extensions["vitrine_db"]
    transport = httpx.ASGITransport(app=probe_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        first = (await client.get("/_probe/backend-pid")).json()["pid"]
        second = (await client.get("/_probe/backend-pid")).json()["pid"]
        context = (await client.get("/_probe/context?x=async")).json()
    await database.dispose_current()
    assert first == second
    assert context["arg"] == "async" and context["before"] == "/_probe/context"


def test_htmx_errors_are_fragments_sent_to_the_message_area(client):
    page = client.get("/no-such-page")
    fragment = client.get("/no-such-page", headers={"HX-Request": "true"})
    assert page.status_code == fragment.status_code == 404
    assert b"<html" in page.data and b"<html" not in fragment.data
    assert fragment.headers["HX-Retarget"] == "#messages"
    assert "HX-Request" in page.headers["Vary"]
