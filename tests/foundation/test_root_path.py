"""Serving under a path prefix (``hypercorn --root-path /shop``): every URL the app builds or
follows keeps the prefix exactly once, and requests under it reach the right views."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup

from app.runtime.asgi import build_environ, split_path

PREFIX = "/shop"


@pytest.mark.parametrize(
    ("root_path", "path", "expected"),
    [
        ("/shop", "/shop/products", ("/shop", "/products")),
        ("/shop", "/shop", ("/shop", "")),  # the app's root: Werkzeug redirects to /shop/
        ("/shop/", "/shop/products", ("/shop", "/products")),
        ("/shop", "/shopping/products", ("/shop", "/shopping/products")),  # not a segment
        ("/shop", "/products", ("/shop", "/products")),  # a proxy already stripped it
        ("", "/products", ("", "/products")),
    ],
)
def test_root_path_is_removed_from_the_path_once(root_path, path, expected):
    assert split_path({"root_path": root_path, "path": path}) == expected


def test_environ_splits_script_name_and_path_info():
    environ = build_environ({"type": "http", "method": "GET", "root_path": "/shop",
                             "path": "/shop/produits/café", "query_string": b"q=1"}, b"")
    assert environ["SCRIPT_NAME"] == "/shop"
    # PEP 3333: the UTF-8 bytes of the path, each as one latin-1 character
    assert environ["PATH_INFO"] == "/produits/café".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "q=1"


def test_flask_test_client_under_a_prefix(client, sql):
    sql.product("Brass Floor Lamp", category_id=sql.category("Lighting"))
    response = client.get("/products", base_url=f"http://localhost{PREFIX}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'href="{PREFIX}/products/brass-floor-lamp' in html
    assert f'src="{PREFIX}/static/' in html
    assert f"{PREFIX}{PREFIX}" not in html


@pytest.fixture(scope="module")
def shop_server(database_url, tmp_path_factory):
    from tests.support.live import start_server

    server = start_server(database_url, tmp_path_factory.mktemp("shop"),
                          extra_args=["--root-path", PREFIX], ready_path=f"{PREFIX}/healthz")
    yield server
    server.stop()


@pytest.fixture
def shop(shop_server):
    with httpx.Client(base_url=shop_server.url + PREFIX, follow_redirects=False,
                      timeout=10) as http:
        yield http


def _no_double_prefix(text: str) -> None:
    assert f"{PREFIX}{PREFIX}" not in text


def test_pages_and_their_links_carry_the_prefix_once(shop, sql):
    sql.product("Brass Floor Lamp", category_id=sql.category("Lighting"))
    page = shop.get("/products")
    assert page.status_code == 200
    assert "Brass Floor Lamp" in page.text
    assert f'href="{PREFIX}/products/brass-floor-lamp' in page.text
    _no_double_prefix(page.text)
    product = shop.get("/products/brass-floor-lamp")
    assert product.status_code == 200 and "Brass Floor Lamp" in product.text
    _no_double_prefix(product.text)
    # the app's root redirects into the catalog, under the prefix
    home = shop.get("/")
    assert home.status_code == 302
    assert home.headers["location"].startswith(f"{PREFIX}/products")


def test_htmx_partials_push_urls_with_the_prefix(shop, sql):
    sql.product("Brass Floor Lamp", category_id=sql.category("Lighting"))
    sql.product("Oak Side Table", category_id=sql.category("Furniture"))
    partial = shop.get("/products", params={"q": "lamp"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.text  # a fragment, not the page
    assert "Brass Floor" in partial.text and "Oak Side Table" not in partial.text
    assert partial.headers["HX-Push-Url"].startswith(f"{PREFIX}/products")
    _no_double_prefix(partial.text)
    missing = shop.get("/products/nothing-here", headers={"HX-Request": "true"})
    assert missing.status_code == 404 and missing.headers["HX-Retarget"] == "#messages"


def test_static_files_are_served_under_the_prefix(shop, shop_server):
    from tests.support.live import ROOT

    css = shop.get("/static/css/app.css")
    assert css.status_code == 200
    assert css.content == (ROOT / "static/css/app.css").read_bytes()
    page = shop.get("/products")
    for url in re.findall(r'(?:href|src)="(/[^"]*/static/[^"?]+)', page.text):
        assert httpx.get(shop_server.url + url).status_code == 200, url


def test_sign_in_redirects_stay_under_the_prefix(shop, sql):
    sql.user("ed@example.com")
    editor = shop.get("/editor/products")
    assert editor.status_code == 302
    location = editor.headers["location"]
    assert location.startswith(f"{PREFIX}/auth/login?next=")
    assert parse_qs(urlsplit(location).query)["next"] == [f"{PREFIX}/editor/products"]
    login = shop.get(location.removeprefix(PREFIX))
    assert login.status_code == 200
    _no_double_prefix(login.text)
    form = BeautifulSoup(login.text, "html.parser").find("form", method="post")
    assert form is not None and form["action"] == f"{PREFIX}/auth/login"
    fields = {field["name"]: field.get("value", "") for field in form.find_all("input")}
    assert fields["next"] == f"{PREFIX}/editor/products"
    signed_in = shop.post("/auth/login", data={
        "csrf_token": fields["csrf_token"], "email": "ed@example.com",
        "password": "correct horse battery", "next": fields["next"]})
    assert signed_in.status_code in (302, 303)
    assert signed_in.headers["location"] == f"{PREFIX}/editor/products"
    table = shop.get("/editor/products")
    assert table.status_code == 200
    _no_double_prefix(table.text)


def test_api_links_carry_the_prefix(shop, shop_server, sql):
    category = sql.category("Lighting")
    for n in range(3):
        sql.product(f"Lamp {n}", category_id=category)
    listing = shop.get("/api/v1/products", params={"per_page": 2})
    assert listing.status_code == 200
    body = listing.json()
    assert all(item["url"].startswith(f"{PREFIX}/api/v1/products/") for item in body["items"])
    assert body["next"].startswith(f"{PREFIX}/api/v1/products?")
    following = httpx.get(shop_server.url + body["next"])
    assert following.status_code == 200 and len(following.json()["items"]) == 1
    detail = shop.get(body["items"][0]["url"].removeprefix(PREFIX))
    assert detail.status_code == 200
    missing = shop.get("/api/v1/products/999999")
    assert missing.status_code == 404 and missing.json()["status"] == 404
