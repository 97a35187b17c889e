"""A route may accept a larger body than ``MAX_CONTENT_LENGTH`` (``@body_allowance``): the
adapter lets a signed-in client's body through up to the route's bound, Werkzeug's form parser
agrees, and every other route, every anonymous client and any body past the bound still get 413.
"""

from __future__ import annotations

import asyncio

import pytest
from flask import request

from app import create_app
from app.runtime.allowances import MAX_ALLOWANCE, body_allowance, view_allowance
from app.runtime.bodies import BodyLimits, BodyTooLarge, read_body

LIMIT = 1000
ALLOWED = 5000


@pytest.fixture
def allowance_app(monkeypatch):
    monkeypatch.setenv("VITRINE_MAX_CONTENT_LENGTH", str(LIMIT))
    application = create_app("testing", WTF_CSRF_ENABLED=False)

    @application.post("/big")
    @body_allowance(lambda config: ALLOWED)
    async def big() -> str:
        return f"{len(request.form['data'])}"

    @application.post("/small")
    async def small() -> str:
        return f"{len(request.form['data'])}"

    yield application
    application.close()


def _receive(body: bytes, chunk: int = 700):
    parts = [body[i:i + chunk] for i in range(0, len(body), chunk)] or [b""]

    async def receive() -> dict:
        await asyncio.sleep(0)
        part = parts.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(parts)}

    return receive


async def _post(app, path: str, body: bytes, *, signed_in: bool, declare: bool = True
                ) -> tuple[int, bytes]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"content-type", b"application/x-www-form-urlencoded")]
    if declare:
        headers.append((b"content-length", str(len(body)).encode()))
    if signed_in:
        headers.append((b"cookie", b"session=anything"))
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers,
             "query_string": b"", "server": ("test", 80), "client": ("127.0.0.1", 1)}
    await app(scope, _receive(body), send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def _form(size: int) -> bytes:
    return b"data=" + b"x" * (size - 5)


@pytest.mark.parametrize("declare", [True, False])
async def test_a_signed_in_body_over_the_app_limit_reaches_a_route_that_allows_it(
        allowance_app, declare):
    status, body = await _post(allowance_app, "/big", _form(3000), signed_in=True,
                               declare=declare)
    assert (status, body) == (200, b"2995")


@pytest.mark.parametrize("declare", [True, False])
async def test_other_routes_anonymous_clients_and_bodies_past_the_bound_get_413(
        allowance_app, declare):
    assert (await _post(allowance_app, "/small", _form(3000), signed_in=True,
                        declare=declare))[0] == 413
    assert (await _post(allowance_app, "/big", _form(3000), signed_in=False,
                        declare=declare))[0] == 413
    assert (await _post(allowance_app, "/big", _form(ALLOWED + 1), signed_in=True,
                        declare=declare))[0] == 413
    # Within the app-wide limit nothing changes.
    assert (await _post(allowance_app, "/small", _form(900), signed_in=False,
                        declare=declare)) == (200, b"895")


def test_the_form_parser_accepts_what_the_route_allows(allowance_app):
    """The test client bypasses the adapter: Werkzeug's own limit is the route's too."""
    client = allowance_app.test_client()
    assert client.post("/big", data={"data": "x" * 3000}).get_data() == b"3000"
    assert client.post("/small", data={"data": "x" * 3000}).status_code == 413


async def test_the_route_is_looked_up_only_for_a_body_over_the_app_limit():
    calls: list[int] = []

    def allowance() -> int:
        calls.append(1)
        return ALLOWED

    limits = BodyLimits(max_size=LIMIT, timeout=5, min_rate=0)
    scope = {"type": "http", "method": "POST", "path": "/x", "headers": []}
    assert len(await read_body(scope, _receive(b"a" * 900), limits, None, allowance)) == 900
    assert calls == []
    assert len(await read_body(scope, _receive(b"a" * 4000), limits, None, allowance)) == 4000
    assert calls == [1]  # asked once, although the body passed the limit over several chunks
    with pytest.raises(BodyTooLarge):
        await read_body(scope, _receive(b"a" * (ALLOWED + 1)), limits, None, allowance)


def test_an_allowance_is_capped_whatever_the_config_computes(allowance_app):
    @allowance_app.post("/huge")
    @body_allowance(lambda config: 10 * MAX_ALLOWANCE)
    async def huge() -> str:
        return ""

    assert view_allowance(allowance_app, "huge") == MAX_ALLOWANCE
    assert view_allowance(allowance_app, "small") is None
