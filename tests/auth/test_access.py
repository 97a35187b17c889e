"""Every editor route checks the role on the server: anonymous, editor and admin.

The routes are read from the app's URL map, so a route added later is checked too.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.clients import EditorClient, sign_in_client
from tests.support.html import csrf_token

ADMIN_ONLY = re.compile(r"^/editor/(categories|users)")
#: Row saves (and signing in again from them) answer a lost session with a sign-in row in place
#: that keeps what was typed (tests/editor/test_session_expiry.py), not the message.
SIGN_IN_IN_PLACE = {("PUT", "/editor/products/1"), ("POST", "/editor/products/1"),
                    ("POST", "/editor/products"), ("POST", "/editor/products/1/resume"),
                    ("POST", "/editor/products/resume")}


def editor_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/editor"):
            continue
        url = re.sub(r"<\w+:\w+>", "1", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, url))
    return routes


def anonymous_with_csrf(app) -> EditorClient:
    """Nobody signed in, but holding a valid CSRF token, so the role check is what answers."""
    client = EditorClient(app.test_client())
    client.csrf = csrf_token(client.client.get("/auth/login").data)
    return client


@pytest.fixture
def users(sql):
    sql.user("ed@example.com", role="editor")
    sql.user("ad@example.com", role="admin")
    category = sql.category("Lighting")
    sql.product("Lamp", category_id=category)


def test_the_route_list_covers_the_workspace(app):
    urls = {url for _, url in editor_routes(app)}
    assert {"/editor/products", "/editor/products/1/edit", "/editor/products/bulk",
            "/editor/products/1/history", "/editor/categories", "/editor/users"} <= urls
    assert len(editor_routes(app)) >= 20


def test_anonymous_pages_redirect_to_sign_in_with_next(app, users):
    client = app.test_client()
    for method, url in editor_routes(app):
        if method != "GET":
            continue
        response = client.get(url)
        assert response.status_code == 302, url
        location = urlsplit(response.headers["Location"])
        assert location.path == "/auth/login", url
        assert parse_qs(location.query)["next"] == [url], url


def test_anonymous_htmx_requests_get_401_in_the_message_area(app, users):
    client = anonymous_with_csrf(app)
    for method, url in editor_routes(app):
        response = client.send(method, url, {"version": "1"}, htmx=True, csrf=True)
        assert response.status_code == 401, (method, url)
        html = response.get_data(as_text=True)
        if (method, url) in SIGN_IN_IN_PLACE:
            assert "HX-Retarget" not in response.headers, (method, url)
            assert "Your session has ended" in html and 'name="password"' in html, (method, url)
            continue
        assert response.headers["HX-Retarget"] == "#messages", (method, url)
        assert "Please sign in again" in html and "<form" not in html, (method, url)


def test_anonymous_form_posts_get_401_not_a_redirect(app, users):
    client = anonymous_with_csrf(app)
    for method, url in editor_routes(app):
        if method == "GET":
            continue
        response = client.send(method, url, {"version": "1"}, htmx=False, csrf=True)
        assert response.status_code == 401, (method, url)


def test_editors_are_refused_admin_routes_with_403(app, users, sql):
    editor = sign_in_client(app, "ed@example.com")
    for method, url in editor_routes(app):
        response = editor.send(method, url, {"version": "1"}, htmx=True)
        if ADMIN_ONLY.match(url):
            assert response.status_code == 403, (method, url)
            assert response.headers["HX-Retarget"] == "#messages"
        else:
            assert response.status_code not in (401, 403), (method, url)
    assert sql.scalar("SELECT count(*) FROM categories") == 1  # nothing was created


def test_admins_may_use_every_route(app, users):
    admin = sign_in_client(app, "ad@example.com")
    for method, url in editor_routes(app):
        response = admin.send(method, url, {"version": "1"}, htmx=True)
        assert response.status_code not in (401, 403), (method, url)


def test_an_editor_page_for_a_full_page_403_is_a_page(app, users):
    editor = sign_in_client(app, "ed@example.com")
    response = editor.get("/editor/users")
    assert response.status_code == 403
    assert "<!doctype html>" in response.get_data(as_text=True)
