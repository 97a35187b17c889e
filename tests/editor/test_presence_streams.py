"""Presence through a real server's streams (issue 15): a colleague's editor stream receives
"editing" and "left" as they happen, and a shopper's stream on the same product never
receives anything about who is editing."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from bs4 import BeautifulSoup

from tests.live.streams import messages, next_event, signed_in
from tests.support.live import start_server


@pytest.fixture
def shop(sql):
    lighting = sql.category("Lighting")
    sql.user("ed@example.com")
    sql.user("ana@example.com")
    return sql.product("Brass Lamp", category_id=lighting, price="12.00")


@pytest.fixture
def live(database_url, tmp_path):
    server = start_server(database_url, tmp_path, env={"VITRINE_LIVE_HEARTBEAT": "0.5"})
    yield server
    server.stop()


def test_presence_reaches_colleagues_streams_and_never_a_shoppers(live, shop, sql):
    lamp = shop
    category = sql.scalar("SELECT category_id FROM products WHERE id = %s", lamp)

    async def scenario():
        ed = await signed_in(live.url, "ed@example.com")
        ana = await signed_in(live.url, "ana@example.com")
        shopper = httpx.AsyncClient(base_url=live.url, timeout=30)
        try:
            row = await ed.get(f"/editor/products/{lamp}/edit", headers={"HX-Request": "true"})
            beat = BeautifulSoup(row.text, "html.parser").find("span", class_="presence-beat")
            page = await ed.get("/editor/products")
            csrf = BeautifulSoup(page.text, "html.parser").find(
                "meta", attrs={"name": "csrf-token"})["content"]
            headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
            form = {"token": beat["data-presence-token"]}
            async with ana.stream("GET", "/editor/live?kinds=presence") as colleague, \
                    shopper.stream("GET", f"/live/catalog?ids={lamp}") as shop_stream:
                seen = messages(colleague)
                shown = messages(shop_stream)
                assert (await ed.post(beat["hx-post"], data=form, headers=headers)
                        ).status_code == 204
                started = await next_event(seen)
                assert started.event == "presence"
                assert json.loads(started.data)["state"] == "editing"
                assert json.loads(started.data)["user"]["email"] == "ed@example.com"
                assert (await ed.post(beat["data-presence-end"], data=form, headers=headers)
                        ).status_code == 204
                ended = await next_event(seen)
                assert json.loads(ended.data)["state"] == "left"
                # The shopper's stream got nothing of it; the next thing it shows is a price.
                await ed.put(f"/editor/products/{lamp}", data={
                    "version": "1", "name": "Brass Lamp", "price": "13.00", "stock": "5",
                    "category_id": str(category), "is_active": "y", "command_key": "k" * 24},
                    headers=headers)
                update = await next_event(shown)
                assert "13.00" in update.data
                for secret in ("ed@example.com", "editing", "presence"):
                    assert secret not in update.data
        finally:
            for client in (ed, ana, shopper):
                await client.aclose()

    asyncio.run(scenario())
