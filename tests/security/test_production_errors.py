"""In the production config no traceback, SQL or exception text reaches a client."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.data.database import get_session


@pytest.fixture
def prod_app(make_app):
    app = make_app("production", SECRET_KEY="p" * 40, RATELIMIT_ENABLED=False)

    @app.get("/boom")
    async def boom():
        raise RuntimeError("secret detail SELECT password_hash FROM users")

    @app.get("/api/v1/boom-sql")
    async def boom_sql():
        session = await get_session()
        await session.execute(text("SELECT * FROM no_such_table_xyz WHERE secret = 'x'"))

    return app


LEAKS = ("Traceback", "secret detail", "password_hash", "no_such_table_xyz", "SELECT",
         "RuntimeError", "asyncpg", "sqlalchemy", 'File "')


@pytest.mark.parametrize("path,headers,kind", [
    ("/boom", {}, "text/html"),
    ("/boom", {"HX-Request": "true"}, "text/html"),
    ("/api/v1/boom-sql", {}, "application/json"),
])
def test_server_errors_show_a_plain_message(prod_app, path, headers, kind):
    response = prod_app.test_client().get(path, headers=headers)
    assert response.status_code == 500
    assert response.mimetype == kind
    body = response.get_data(as_text=True)
    assert "Something went wrong on our side." in body
    for leak in LEAKS:
        assert leak not in body, leak
    assert prod_app.config["DEBUG"] is False and prod_app.config["PROPAGATE_EXCEPTIONS"] in (
        None, False)


def test_htmx_error_is_a_fragment_retargeted_to_messages(prod_app):
    response = prod_app.test_client().get("/boom", headers={"HX-Request": "true"})
    assert response.headers["HX-Retarget"] == "#messages"
    assert "<html" not in response.get_data(as_text=True)
