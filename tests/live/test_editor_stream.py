"""The editors' stream on a real server: events as they commit, resume, revocation, limits."""

from __future__ import annotations

import asyncio

import pytest

from tests.live.streams import messages, next_event, signed_in
from tests.support.live import start_server

pytestmark = pytest.mark.live


@pytest.fixture
def server(database_url, tmp_path):
    started = []

    def start(**env: str):
        started.append(start_server(database_url, tmp_path, env={
            "VITRINE_LIVE_HEARTBEAT": "0.5", **env}))
        return started[-1]

    yield start
    for item in started:
        item.stop()


def test_an_editor_stream_gets_each_committed_change_and_resumes_after_its_last_id(
        server, sql, lamp, editor_user):
    live = server()

    async def scenario():
        client = await signed_in(live.url, "ana@example.com")
        async with client.stream("GET", "/editor/live") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in response.headers
            stream = messages(response)
            sql.execute("UPDATE products SET price = 13 WHERE id = %s", lamp)
            first = await next_event(stream)
            assert first.event == "product"
            assert first.json()["ids"] == [lamp] and first.json()["fields"] == ["price"]
        # Disconnected: two changes are missed, then resumed from the last id seen.
        sql.execute("UPDATE products SET stock = 1 WHERE id = %s", lamp)
        sql.execute("UPDATE products SET stock = 2 WHERE id = %s", lamp)
        client = await signed_in(live.url, "ana@example.com")
        async with client.stream("GET", "/editor/live",
                                         headers={"Last-Event-ID": first.id}) as response:
            stream = messages(response)
            missed = [await next_event(stream), await next_event(stream)]
        assert [m.json()["id"] for m in missed] == sorted(m.json()["id"] for m in missed)
        assert all(m.json()["fields"] == ["stock"] for m in missed)
        assert missed[0].json()["id"] > first.json()["id"]
        # Each SSE id says what the client holds: all of the replay only with the last one.
        assert missed[0].id == first.id and int(missed[1].id) == missed[1].json()["id"]

    asyncio.run(scenario())


def test_a_resume_on_another_server_gets_the_event_that_committed_after_a_higher_one(
        server, sql, lamp, category, editor_user, database_url):
    """Two transactions commit out of id order: the client sees the higher id first, leaves
    before the lower one commits, and resumes on a server that started since (its memory
    holds nothing: the outbox answers). A bare "last id" would skip the lower one."""
    import psycopg

    first = server()
    stool = sql.product("Oak Stool", category_id=category, price="30.00", stock=2)

    async def scenario():
        client = await signed_in(first.url, "ana@example.com")
        with psycopg.connect(database_url) as slow:
            async with client.stream("GET", "/editor/live") as response:
                stream = messages(response)
                await anext(stream)  # open (retry)
                # The slow transaction takes the lower id and stays open...
                slow.execute("UPDATE products SET stock = 9 WHERE id = %s", (lamp,))
                # ...while a later one takes the higher id and commits first.
                sql.execute("UPDATE products SET price = 31 WHERE id = %s", stool)
                seen = await next_event(stream)
                assert seen.json()["ids"] == [stool]
            slow.commit()  # after the client left
        other = server()
        client = await signed_in(other.url, "ana@example.com")
        async with client.stream("GET", "/editor/live",
                                 headers={"Last-Event-ID": seen.id}) as response:
            resumed = await next_event(messages(response))
        assert resumed.json()["ids"] == [lamp] and resumed.json()["fields"] == ["stock"]

    asyncio.run(scenario())


def test_a_revoked_session_closes_its_stream(server, sql, editor_user):
    live = server()

    async def scenario():
        client = await signed_in(live.url, "ana@example.com")
        async with client.stream("GET", "/editor/live") as response:
            assert response.status_code == 200
            stream = messages(response)
            await anext(stream)  # the stream is open (retry, then heartbeats)
            sql.execute("UPDATE users SET session_generation = session_generation + 1"
                        " WHERE id = %s", editor_user)
            async with asyncio.timeout(10):
                async for message in stream:
                    assert not message.event, "a revoked stream carries no more events"
            again = await client.get("/editor/live", headers={"HX-Request": "true"})
            assert again.status_code == 401

    asyncio.run(scenario())


def test_streams_beyond_the_limit_are_refused_with_retry_after(server, sql, editor_user):
    live = server(VITRINE_MAX_STREAMS="2")

    async def scenario():
        client = await signed_in(live.url, "ana@example.com")
        async with client.stream("GET", "/editor/live") as one, \
                client.stream("GET", "/editor/live") as two:
            assert one.status_code == two.status_code == 200
            third = await client.get("/editor/live")
            assert third.status_code == 503 and "retry-after" in third.headers
        await asyncio.sleep(0.5)  # the two streams have ended: room again
        client = await signed_in(live.url, "ana@example.com")
        async with client.stream("GET", "/editor/live") as again:
            assert again.status_code == 200

    asyncio.run(scenario())


def test_a_shopper_cannot_open_the_editor_stream(server):
    live = server()

    async def scenario():
        import httpx
        async with httpx.AsyncClient(base_url=live.url) as client:
            response = await client.get("/editor/live", headers={"HX-Request": "true"})
            assert response.status_code == 401

    asyncio.run(scenario())
