"""Signing in through the real form, and a client that sends what the browser sends.

One sign-in helper for every test: :func:`sign_in` posts the sign-in form with the CSRF token of
the rendered page, :func:`signed_in` also checks that it worked, and :func:`sign_in_client` gives
an :class:`EditorClient` that adds the CSRF token and htmx headers to its requests.
"""

from __future__ import annotations

import secrets
from typing import Any

from .html import csrf_token

PASSWORD = "correct horse battery"  # tests.support.sql.Sql.user's default


def sign_in(client: Any, email: str, password: str = PASSWORD, *, next_: str | None = None,
            environ: dict[str, Any] | None = None) -> Any:
    """Post the sign-in form as a browser would; the response (whatever it is)."""
    page = client.get("/auth/login")
    data = {"email": email, "password": password, "csrf_token": csrf_token(page.data)}
    if next_ is not None:
        data["next"] = next_
    return client.post("/auth/login", data=data, environ_base=environ or {})


def signed_in(client: Any, email: str, password: str = PASSWORD) -> Any:
    """``client``, signed in as ``email`` (fails the test if the sign-in is refused)."""
    response = sign_in(client, email, password)
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return client


def command_key() -> str:
    """A fresh one-time command key, like the one each editor form renders."""
    return secrets.token_urlsafe(18)


class EditorClient:
    """Wraps Flask's test client: ``htmx=True`` sends ``HX-Request``; state-changing calls
    send ``X-CSRFToken`` unless ``csrf=False``, and a fresh one-time ``command_key`` with a
    form body (a dict or none) that has none, as every editor form does, unless
    ``key=False``."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.csrf: str | None = None

    def refresh_csrf(self) -> str:
        self.csrf = csrf_token(self.client.get("/editor/products").data)
        return self.csrf

    def _headers(self, htmx: bool, csrf: bool, headers: dict | None) -> dict:
        result = dict(headers or {})
        if htmx:
            result["HX-Request"] = "true"
        if csrf:
            result["X-CSRFToken"] = self.csrf or self.refresh_csrf()
        return result

    def get(self, url: str, *, htmx: bool = False, **kwargs: Any):
        return self.client.get(url, headers=self._headers(htmx, False, kwargs.pop("headers", None)),
                               **kwargs)

    def send(self, method: str, url: str, data: Any = None, *, htmx: bool = True,
             csrf: bool = True, key: bool = True, **kwargs: Any):
        headers = self._headers(htmx, csrf, kwargs.pop("headers", None))
        if key and (data is None or isinstance(data, dict)) and "json" not in kwargs:
            data = {"command_key": command_key(), **(data or {})}
        return self.client.open(url, method=method, data=data, headers=headers, **kwargs)

    def post(self, url: str, data: Any = None, **kwargs: Any):
        return self.send("POST", url, data, **kwargs)

    def put(self, url: str, data: Any = None, **kwargs: Any):
        return self.send("PUT", url, data, **kwargs)

    def patch(self, url: str, data: Any = None, **kwargs: Any):
        return self.send("PATCH", url, data, **kwargs)

    def delete(self, url: str, data: Any = None, **kwargs: Any):
        return self.send("DELETE", url, data, **kwargs)


def sign_in_client(app: Any, email: str, password: str = PASSWORD) -> EditorClient:
    """A new client signed in through the real sign-in form."""
    return EditorClient(signed_in(app.test_client(), email, password))
