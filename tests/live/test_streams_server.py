"""Event streams under real Hypercorn: what an idle stream holds, what a shopper may see,
shutdown, a database restart mid-stream, and two servers on one database."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import signal

import httpx
import psycopg
import pytest

from tests.live.streams import messages, next_event, signed_in
from tests.support.live import start_server
from tests.support.sql import Sql

pytestmark = pytest.mark.live


@pytest.fixture
def server(database_url, tmp_path):
    started = []

    def start(database: str | None = None, workers: int = 1, **env: str):
        started.append(start_server(database or database_url, tmp_path, workers=workers, env={
            "VITRINE_LIVE_HEARTBEAT": "0.5", "VITRINE_LOG_LEVEL": "INFO", **env}))
        return started[-1]

    yield start
    for item in started:
        item.stop()


def metric(text: str, name: str) -> float:
    """The sum of a metric's samples in a Prometheus exposition."""
    values = re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
    assert values, f"no {name} in /metrics"
    return sum(float(v) for v in values)


def test_idle_streams_hold_no_slot_and_no_connection_and_outlive_the_request_timeout(
        server, sql, lamp):
    live = server(VITRINE_MAX_CONCURRENT_REQUESTS="2", VITRINE_DB_POOL_SIZE="2",
                  VITRINE_REQUEST_TIMEOUT="1")

    async def scenario():
        async with httpx.AsyncClient(base_url=live.url, timeout=30,
                                     limits=httpx.Limits(max_connections=50)) as client:
            streams = []
            for _ in range(12):  # six times the slots, six times the pool
                response = await client.send(client.build_request(
                    "GET", f"/live/catalog?ids={lamp}"), stream=True)
                assert response.status_code == 200
                streams.append((response, messages(response)))
            await asyncio.sleep(2)  # twice the request timeout
            exposition = (await client.get("/metrics")).text
            assert metric(exposition, "vitrine_streams_open") == 12
            assert metric(exposition, "vitrine_requests_in_flight") == 1  # this request
            assert metric(exposition, "vitrine_db_pool_checked_out") == 0
            assert (await client.get("/products")).status_code == 200  # a slot is free
            sql.execute("UPDATE products SET price = 7 WHERE id = %s", lamp)
            for _response, stream in streams:
                update = await next_event(stream)
                assert "£7.00" in update.data
            for response, _stream in streams:
                await response.aclose()
            # Each stream ends when its client goes away (its disconnect watch).
            for _ in range(50):
                exposition = (await client.get("/metrics")).text
                if metric(exposition, "vitrine_streams_open") == 0:
                    break
                await asyncio.sleep(0.1)
            assert metric(exposition, "vitrine_streams_open") == 0

    asyncio.run(scenario())


def test_a_shopper_stream_carries_no_inactive_product_and_no_editor_data(server, sql, lamp,
                                                                        category, editor_user):
    hidden = sql.product("Secret Prototype", category_id=category, price="999.00",
                         is_active=False)
    live = server()

    async def scenario():
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as client, \
                client.stream("GET", f"/live/catalog?ids={lamp},{hidden}") as response:
            stream = messages(response)
            sql.execute("SELECT set_config('vitrine.actor', %s, false)", str(editor_user))
            sql.execute("UPDATE products SET price = 888, name = 'Secret Thing' WHERE id = %s",
                        hidden)
            sql.execute("UPDATE products SET is_active = false WHERE id = %s", lamp)
            seen = [await next_event(stream), await next_event(stream)]
            sql.execute("SELECT set_config('vitrine.actor', '', false)")
        for message in seen:
            assert "No longer available" in message.data
            for secret in ("888", "999", "Secret", "ana@example.com", "Brass", "12.00",
                           "version", "fields"):
                assert secret not in message.data

    asyncio.run(scenario())


def test_bad_ids_are_a_clear_400(server):
    live = server()
    for query in ("", "?ids=", "?ids=1,x", "?ids=0", "?ids=%C2%B2", "?ids=1%C2%B2",
                  "?ids=" + ",".join(["1"] * 101)):
        response = httpx.get(live.url + "/live/catalog" + query, headers={"HX-Request": "true"})
        assert response.status_code == 400, query
        assert "product ids" in response.text


def test_sigterm_ends_open_streams_cleanly_and_the_server_stops(server, sql, lamp):
    live = server()

    async def scenario():
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as client, \
                client.stream("GET", f"/live/catalog?ids={lamp}") as response:
            assert response.status_code == 200
            live.process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(15):
                async for _line in response.aiter_lines():
                    pass  # a clean end of the body: no exception
        return True

    assert asyncio.run(scenario())
    assert live.process.wait(15) == 0
    records = [json.loads(line) for line in live.log().splitlines() if line.startswith("{")]
    assert any(r.get("outcome") == "stream_shutdown" for r in records)


def test_an_edit_on_one_server_reaches_a_stream_on_another(server, sql, lamp, editor_user):
    raw = "vit_" + "b" * 43
    sql.execute("INSERT INTO api_tokens (user_id, name, token_hash, expires_at)"
                " VALUES (%s, 't', %s, now() + interval '1 day')", editor_user,
                hashlib.sha256(raw.encode()).hexdigest())
    first, second = server(workers=2), server(workers=2)

    async def scenario():
        listening = await signed_in(second.url, "ana@example.com")
        async with listening.stream("GET", "/editor/live") as editor_stream, \
                httpx.AsyncClient(base_url=second.url, timeout=30) as shopper, \
                shopper.stream("GET", f"/live/catalog?ids={lamp}") as shopper_stream:
            editors, shoppers = messages(editor_stream), messages(shopper_stream)
            async with httpx.AsyncClient(base_url=first.url) as api:
                response = await api.patch(
                    f"/api/v1/products/{lamp}", json={"price": "21.00"},
                    headers={"If-Match": '"1"', "Authorization": f"Bearer {raw}"})
            assert response.status_code == 200
            change = (await next_event(editors)).json()
            assert change["ids"] == [lamp] and change["source"] == "api"
            assert "£21.00" in (await next_event(shoppers)).data
        await listening.aclose()

    asyncio.run(scenario())


def test_a_database_restart_mid_stream_loses_no_event(server, tmp_path):
    from app import create_app
    from tests.load.test_database_restart import ThrowawayPostgres

    postgres = ThrowawayPostgres()
    try:
        url = postgres.url("vitrine_live_restart")
        migrated = create_app("testing", DATABASE_URL=url)
        try:
            from flask_migrate import upgrade

            with migrated.app_context():
                upgrade()
        finally:
            migrated.close()
        with psycopg.connect(url, autocommit=True) as connection:
            data = Sql(connection)
            category = data.category("Lighting")
            lamp = data.product("Lamp", category_id=category)
            data.user("ana@example.com", role="editor")
        live = server(database=url)

        async def scenario():
            client = await signed_in(live.url, "ana@example.com")
            async with client.stream("GET", "/editor/live") as response:
                stream = messages(response)
                change(url, lamp, 1)
                assert (await next_event(stream)).json()["ids"] == [lamp]
                postgres.stop()
                postgres.start()
                for stock in (2, 3, 4):  # committed while the listener reconnects
                    change(url, lamp, stock)
                versions = [(await next_event(stream, 30)).json()["versions"]
                            for _ in range(3)]
                assert versions == [[3], [4], [5]]
            await client.aclose()

        asyncio.run(scenario())
        live.stop()
    finally:
        postgres.destroy()


def change(url: str, product_id: int, stock: int) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("UPDATE products SET stock = %s, version = version + 1"
                           " WHERE id = %s", (stock, product_id))
