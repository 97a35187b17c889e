"""Bad input, tried on purpose: generated query strings for every listing, hostile text in
every field that is rendered back, SQL/LIKE/tsquery metacharacters in every search field,
non-UTF-8 bytes. None may produce a 500 or reach a page unescaped."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.clients import command_key, signed_in
from tests.support.html import csrf_token, parse

LISTINGS = ("/products", "/api/v1/products", "/editor/products")
PARAMETERS = ("q", "category", "brand", "colour", "size", "min_price", "max_price", "in_stock",
              "stock", "active", "sort", "page", "per_page", "cursor", "after")
EDITOR_PASSWORD = "correct horse battery"

XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</title><script>alert(1)</script>",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">x</a>',
    "{{7*7}}{% raw %}",
    '<div hx-get="/evil" hx-trigger="load">x</div>',
]
METACHARACTERS = ["%", "_", "\\", "%_%", "'", "''", '"', "';--", "1' OR '1'='1", "a:*", "a & b",
                  "a | b", "!a", "(a", "a)", "a <-> b", "<->", ":*", "&&", "||", "/*", "*/",
                  "\\%", "a\\", "$1", "?", "NULL", "\t\n", "-", "--", "or", "\"unclosed"]

values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(METACHARACTERS + XSS + ["", "0", "-1", "1e9", "NaN", "Infinity", "9" * 30,
                                             "price_asc", "relevance", "true", "in", "out"]),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
query_strings = st.lists(st.tuples(st.sampled_from(PARAMETERS), values), max_size=8)


@pytest.fixture
def hostile_catalog(sql):
    """Products whose every rendered field is an attack, next to a normal one."""
    hostile_category = sql.category(XSS[0], slug="hostile")
    normal = sql.category("Lighting")
    for index, payload in enumerate(XSS):
        sql.product(payload, slug=f"hostile-{index}", category_id=hostile_category,
                    description=f"{payload} lamp", price="10.00",
                    attributes={"brand": payload, "colour": payload, "size": payload,
                                "material": payload})
    sql.product("Brass Lamp", category_id=normal, attributes={"brand": "100% Brass_Co"})
    sql.product("Copper Lamp", category_id=normal, attributes={"brand": "100X Brass-Co"})
    return hostile_category


@pytest.fixture
def editor_client(client, sql):
    """The test client signed in as an editor."""
    sql.user("xss-editor@example.com", EDITOR_PASSWORD, "editor")
    signed_in(client, "xss-editor@example.com", EDITOR_PASSWORD)
    return client


HX_REQUESTS = ("hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete")


def active_content(html: str) -> list[str]:
    """What a browser would run: scripts without src, on* handlers, javascript: URLs, and htmx
    attributes on elements that came from data (any ``hx-`` request to ``/evil``)."""
    found: list[str] = []
    for element in parse(html).iter():
        tag, names = element.tag, {name.lower(): value for name, value in element.attrs.items()}
        if tag == "script" and "src" not in names:
            found.append("inline <script>")
        injected_media = tag in ("svg", "iframe", "object", "embed") or (
            tag == "img" and names.get("src", "").startswith(("x", "javascript")))
        if injected_media:
            found.append(f"<{tag}> from data")
        for name, value in names.items():
            if name.startswith("on"):
                found.append(f"handler {name} on <{tag}>")
            if name in ("href", "src", "action") and value.strip().lower().startswith(
                    "javascript:"):
                found.append(f"javascript: URL in {name}")
            # A request to /evil; a link to our own page that carries the text as a parameter
            # (a sort header or page link keeping the search) is not one.
            if name in HX_REQUESTS and "/evil" in urlsplit(value).path:
                found.append(f"injected {name}")
    return found


def assert_no_raw_payload(html: str, payloads=XSS) -> None:
    for payload in payloads:
        if "<" in payload or '"' in payload:
            assert payload not in html, f"unescaped: {payload!r}"
    assert active_content(html) == []


@given(pairs=query_strings, htmx=st.booleans())
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_no_query_string_makes_a_listing_fail(editor_client, hostile_catalog, pairs, htmx):
    query = urlencode(pairs)
    headers = {"HX-Request": "true"} if htmx else {}
    for listing in LISTINGS:
        response = editor_client.get(f"{listing}?{query}", headers=headers)
        assert response.status_code < 500, (listing, query, response.status_code)
        assert response.status_code in (200, 400, 404, 422), (listing, query)
        if response.mimetype == "text/html":
            assert_no_raw_payload(response.get_data(as_text=True))


@pytest.mark.parametrize("listing", LISTINGS)
@pytest.mark.parametrize("field", ["q", "brand", "category", "colour", "size", "sort"])
def test_metacharacters_in_each_search_field(editor_client, hostile_catalog, listing, field):
    for text in METACHARACTERS:
        response = editor_client.get(f"{listing}?{urlencode({field: text})}")
        assert response.status_code in (200, 400), (listing, field, text, response.status_code)


def test_like_wildcards_match_literally(client, hostile_catalog):
    response = client.get("/api/v1/products?" + urlencode({"brand": "100% Brass_Co"}))
    assert [item["name"] for item in response.json["items"]] == ["Brass Lamp"]
    # As LIKE patterns these would match all ten products; as text they are no word, so nothing.
    for text in ("%", "_", "%%", "\\"):
        response = client.get("/api/v1/products?" + urlencode({"q": text}))
        assert response.status_code == 200
        assert response.json["total"] == 0, text


@pytest.mark.parametrize("path", ["/products", "/products?q=lamp", "/editor/products",
                                  "/editor/products?q=lamp"])
@pytest.mark.parametrize("htmx", [False, True])
def test_hostile_product_fields_render_escaped(editor_client, hostile_catalog, path, htmx):
    response = editor_client.get(path, headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "&lt;script&gt;" in html
    assert_no_raw_payload(html)


@pytest.mark.parametrize("payload", XSS)
@pytest.mark.parametrize("path", ["/products", "/editor/products", "/auth/login"])
def test_search_text_is_echoed_escaped(editor_client, hostile_catalog, payload, path):
    response = editor_client.get(f"{path}?q={quote(payload)}&next={quote(payload)}")
    assert response.status_code in (200, 302, 400)
    assert_no_raw_payload(response.get_data(as_text=True), [payload])


def test_validation_errors_do_not_reflect_markup(editor_client, sql, hostile_catalog):
    """An editor's invalid inline edit shows the typed values back, escaped."""
    product = sql.scalar("SELECT id FROM products WHERE name = 'Brass Lamp'")
    page = editor_client.get(f"/editor/products/{product}/edit", headers={"HX-Request": "true"})
    assert page.status_code == 200
    csrf = csrf_token(editor_client.get("/editor/products").data)
    version = sql.scalar("SELECT version FROM products WHERE id = %s", product)
    form = {"csrf_token": csrf, "command_key": command_key(), "version": version,
            "name": XSS[1], "price": XSS[0],
            "stock": XSS[2], "category_id": XSS[3], "brand": XSS[4], "description": XSS[0]}
    response = editor_client.post(f"/editor/products/{product}", data=form,
                                  headers={"HX-Request": "true", "X-CSRFToken": csrf})
    assert response.status_code == 422, response.status_code
    assert_no_raw_payload(response.get_data(as_text=True))
    assert sql.scalar("SELECT name FROM products WHERE id = %s", product) == "Brass Lamp"


def test_api_errors_are_json_never_markup(client, sql, hostile_catalog):
    from tests.api.conftest import insert_token

    user = sql.user("api-xss@example.com")
    insert_token(sql, user, "vit_" + "a" * 43)
    response = client.post(
        "/api/v1/products", data=json.dumps({"name": XSS[0], "price": XSS[1],
                                             "category_id": hostile_catalog}),
        headers={"Authorization": "Bearer vit_" + "a" * 43,
                 "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.mimetype == "application/json"
    assert "text/html" not in response.headers["Content-Type"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("raw_query", [b"q=%FF%FE", b"q=%C0%AF", b"brand=%ED%A0%80",
                                       b"q=\xff\xfe", b"category=%00", b"q=a%00b",
                                       b"min_price=%FF", b"sort=%FF"])
@pytest.mark.parametrize("listing", LISTINGS)
def test_non_utf8_query_strings(editor_client, hostile_catalog, listing, raw_query):
    response = editor_client.get(listing,
                                 environ_overrides={"QUERY_STRING": raw_query.decode("latin-1")})
    assert response.status_code in (200, 400), (listing, raw_query, response.status_code)


def test_non_utf8_form_body_on_sign_in(client):
    response = client.post("/auth/login", data=b"email=%FF%FE&password=\xff\xfe",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code in (400, 401, 422)


def test_oversized_query_text(editor_client, hostile_catalog):
    for listing in LISTINGS:
        response = editor_client.get(f"{listing}?q={'lamp ' * 2000}")
        assert response.status_code in (200, 400), listing


@pytest.mark.parametrize("field", ["name", "description"])
def test_nul_characters_in_editor_forms_are_a_validation_error(editor_client, sql, field):
    """PostgreSQL text cannot hold NUL: it must be refused or dropped, never fail the write."""
    category = sql.category("Lighting")
    product = sql.product("Lamp", category_id=category)
    csrf = csrf_token(editor_client.get("/editor/products").data)
    form = {"version": "1", "name": "Lamp", "price": "1.00", "stock": "1",
            "category_id": str(category), "description": "", field: "a\x00b",
            "command_key": command_key()}
    response = editor_client.post(f"/editor/products/{product}", data=form,
                                  headers={"HX-Request": "true", "X-CSRFToken": csrf})
    assert response.status_code in (200, 422)  # refused, or saved without the NUL
    stored = sql.one("SELECT name, description FROM products WHERE id = %s", product)
    assert "\x00" not in stored["name"] + stored["description"]


@pytest.mark.parametrize("path", ["/editor/products/99999999999999999999/row",
                                  "/editor/products/99999999999999999999/history"])
def test_ids_beyond_bigint_are_not_found(editor_client, path):
    assert editor_client.get(path).status_code == 404
