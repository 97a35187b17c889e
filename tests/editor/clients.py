"""A signed-in test client that sends the CSRF token and htmx headers like the browser does."""

from __future__ import annotations

import re
from typing import Any

PASSWORD = "correct horse battery"  # tests.support.sql.Sql.user's default

_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_HIDDEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _META.search(html) or _HIDDEN.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class EditorClient:
    """Wraps Flask's test client: ``htmx=True`` sends ``HX-Request``; state-changing calls
    send ``X-CSRFToken`` unless ``csrf=False``."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.csrf: str | None = None

    def refresh_csrf(self) -> str:
        self.csrf = csrf_from(self.client.get("/editor/products").get_data(as_text=True))
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
             csrf: bool = True, **kwargs: Any):
        headers = self._headers(htmx, csrf, kwargs.pop("headers", None))
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
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    response = client.post("/auth/login", data={
        "email": email, "password": password, "csrf_token": csrf_from(page)})
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    return EditorClient(client)
