"""A client that accepts compression gets the product's strong ETag, and that ETag works in
``If-Match``: compression (in the ASGI adapter) never turns the API's version tags weak, which
would make every conditional write of such a client a 412. Served through the ASGI entry point,
where compression happens (Flask's test client bypasses it)."""

from __future__ import annotations

import json

import httpx


async def test_a_compressed_read_gives_an_etag_that_if_match_accepts(app, editor, sql):
    category = sql.category("Lighting")
    lamp = sql.product("Brass Floor Lamp", category_id=category,
                       description="A lamp of brushed brass with a linen shade. " * 20)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        read = await client.get(f"/api/v1/products/{lamp}",
                                headers={**editor.headers, "Accept-Encoding": "br, gzip"})
        assert read.headers["content-encoding"] == "br"  # compressed...
        etag = read.headers["etag"]
        assert etag == '"1"'  # ...and the tag still names version 1, strongly
        write = await client.patch(
            f"/api/v1/products/{lamp}", content=json.dumps({"stock": 9}),
            headers={**editor.headers, "Content-Type": "application/json", "If-Match": etag,
                     "Accept-Encoding": "br, gzip"})
        assert write.status_code == 200, write.text
    await app.extensions["vitrine_db"].dispose_current()
    assert sql.scalar("SELECT stock FROM products WHERE id = %s", lamp) == 9
