"""Presence over HTTP (issue 15): opening a row for edit shows "ed@example.com is editing" on
that row in a colleague's table and on the product's history page; Cancel, Save, leaving and a
stopped heartbeat end it; nothing is locked. Only signed-in editors with the CSRF token can
start or end one, and shoppers never see it."""

from __future__ import annotations

import pytest

from app.editor.presence_sweep import sweep_once
from tests.support.clients import sign_in_client
from tests.support.html import parse

from .conftest import row_html


@pytest.fixture
def lamp(sql, category) -> int:
    return sql.product("Brass Lamp", category_id=category, price="10.00", stock=5,
                       attributes={"brand": "Halden"})


@pytest.fixture
def ana(app, sql):
    sql.user("ana@example.com", role="editor")
    return sign_in_client(app, "ana@example.com")


def open_row(client, product_id: int) -> dict[str, str]:
    """Open the row form as htmx does and send the heartbeat it asks for (what the browser
    does when the form appears): the form's presence urls and token."""
    response = client.get(f"/editor/products/{product_id}/edit", htmx=True)
    assert response.status_code == 200
    beat = parse(response.get_data(as_text=True)).find("span", class_="presence-beat")
    assert beat is not None, "the row form has no heartbeat"
    token = beat.get("data-presence-token") or ""
    touch_url, end_url = beat.get("hx-post") or "", beat.get("data-presence-end") or ""
    assert client.post(touch_url, {"token": token}, key=False).status_code == 204
    return {"token": token, "touch": touch_url, "end": end_url}


def badge_in_table(client, product_id: int) -> str | None:
    """The presence badge's text on the product's row in the table, None when it is hidden."""
    html = client.get("/editor/products").get_data(as_text=True)
    badge = parse(row_html(html, product_id)).find(class_="presence")
    assert badge is not None, "the row has no place for presence"
    return None if badge.has("hidden") else badge.text


def badge_on_history(client, product_id: int) -> str | None:
    html = client.get(f"/editor/products/{product_id}/history").get_data(as_text=True)
    badge = parse(html).find(id=f"presence-{product_id}")
    assert badge is not None
    return None if badge.has("hidden") else badge.text


@pytest.fixture
def presence_events(sql):
    """The ``presence`` events the feed got about a product during this test, as their
    states: "editing" / "left"."""
    since = sql.scalar("SELECT coalesce(max(id), 0) FROM live_events")

    def states(product_id: int) -> list[str]:
        return [row["state"] for row in sql.all(
            "SELECT payload->>'state' AS state FROM live_events WHERE kind = 'presence'"
            " AND id > %s AND %s = ANY(entity_ids) ORDER BY id", since, product_id)]

    return states


def test_an_open_row_shows_on_a_colleagues_row_and_history_page_but_not_to_its_editor(
        editor, ana, lamp):
    assert badge_in_table(ana, lamp) is None
    open_row(editor, lamp)
    assert badge_in_table(ana, lamp) == "ed@example.com is editing"
    assert badge_on_history(ana, lamp) == "ed@example.com is editing this product now"
    assert badge_in_table(editor, lamp) is None  # never yourself
    # No lock: the colleague can open and save the same row meanwhile.
    assert ana.get(f"/editor/products/{lamp}/edit", htmx=True).status_code == 200


def test_two_editors_on_one_row_each_see_the_other(editor, ana, lamp, app, sql):
    sql.user("bo@example.com")
    bo = sign_in_client(app, "bo@example.com")
    open_row(editor, lamp)
    open_row(ana, lamp)
    assert badge_in_table(bo, lamp) == "ed@example.com and ana@example.com are editing"
    assert badge_in_table(ana, lamp) == "ed@example.com is editing"


def test_cancel_ends_it_and_a_heartbeat_that_arrives_later_does_not_bring_it_back(
        editor, ana, lamp, sql, presence_events):
    form = open_row(editor, lamp)
    assert editor.post(form["end"], {"token": form["token"]}, key=False).status_code == 204
    assert badge_in_table(ana, lamp) is None
    # The heartbeat that was on its way when Cancel was pressed: refused quietly.
    assert editor.post(form["touch"], {"token": form["token"]}, key=False).status_code == 204
    assert badge_in_table(ana, lamp) is None
    assert presence_events(lamp) == ["editing", "left"]


def test_heartbeats_keep_it_without_announcing_it_again(editor, ana, lamp, sql, presence_events):
    form = open_row(editor, lamp)
    for _ in range(3):
        assert editor.post(form["touch"], {"token": form["token"]}, key=False).status_code == 204
    assert badge_in_table(ana, lamp) == "ed@example.com is editing"
    assert presence_events(lamp) == ["editing"]


def test_saving_the_row_ends_it(editor, ana, lamp, category, sql, presence_events):
    open_row(editor, lamp)
    saved = editor.put(f"/editor/products/{lamp}", {
        "version": "1", "name": "Brass Lamp", "price": "12.00", "stock": "5",
        "category_id": str(category), "is_active": "y", "brand": "Halden"})
    assert saved.status_code == 200
    assert badge_in_table(ana, lamp) is None
    assert badge_on_history(ana, lamp) is None
    assert presence_events(lamp) == ["editing", "left"]


def test_a_stopped_heartbeat_ends_it_and_the_next_heartbeat_brings_it_back(
        app, editor, ana, lamp, sql, presence_events):
    form = open_row(editor, lamp)
    sql.execute("UPDATE presence SET expires_at = now() - interval '1 second'")
    assert badge_in_table(ana, lamp) is None  # expired: not shown, even before the sweep
    assert app.run_blocking(sweep_once(app)) == [(lamp, editor_id(sql))]
    assert presence_events(lamp) == ["editing", "left"]
    assert app.run_blocking(sweep_once(app)) == []  # ended once, announced once
    # The laptop wakes up: the same form's next heartbeat is a new start.
    assert editor.post(form["touch"], {"token": form["token"]}, key=False).status_code == 204
    assert badge_in_table(ana, lamp) == "ed@example.com is editing"
    assert presence_events(lamp) == ["editing", "left", "editing"]


def editor_id(sql) -> int:
    return sql.scalar("SELECT id FROM users WHERE email = 'ed@example.com'")


def test_someone_elses_token_changes_nothing(editor, ana, lamp):
    form = open_row(editor, lamp)
    assert ana.post(form["end"], {"token": form["token"]}, key=False).status_code == 204
    assert ana.post(form["touch"], {"token": form["token"]}, key=False).status_code == 204
    assert badge_in_table(ana, lamp) == "ed@example.com is editing"


# -- who may -------------------------------------------------------------------------------------

def test_starting_or_ending_needs_the_csrf_token(editor, ana, lamp):
    token = "t" * 24
    for path in (f"/editor/products/{lamp}/presence", f"/editor/products/{lamp}/presence/end"):
        assert editor.post(path, {"token": token}, key=False, csrf=False).status_code == 400
    assert badge_in_table(ana, lamp) is None


def test_nobody_signed_in_may_start_one_or_read_it(client, lamp, editor, ana):
    csrf = editor.refresh_csrf()
    anonymous = client
    response = anonymous.post(f"/editor/products/{lamp}/presence", data={"token": "t" * 24},
                              headers={"HX-Request": "true", "X-CSRFToken": csrf})
    assert response.status_code in (400, 401)
    assert badge_in_table(ana, lamp) is None
    assert anonymous.get(f"/editor/products/{lamp}/presence").status_code == 302  # to sign in


@pytest.mark.parametrize("token", ["", "short", "x" * 65, "bad token with spaces....",
                                   "é" * 20])
def test_a_malformed_token_is_refused_clearly(editor, lamp, token):
    response = editor.post(f"/editor/products/{lamp}/presence", {"token": token}, key=False)
    assert response.status_code == 400
    assert "presence key is not valid" in response.get_data(as_text=True)


def test_a_product_that_is_gone_is_a_404(editor):
    response = editor.post("/editor/products/999/presence", {"token": "t" * 24}, key=False)
    assert response.status_code == 404


def test_shoppers_never_see_who_is_editing(client, editor, lamp, sql):
    open_row(editor, lamp)
    slug = sql.scalar("SELECT slug FROM products WHERE id = %s", lamp)
    for url in ("/products", f"/products/{slug}", "/products?q=brass"):
        html = client.get(url).get_data(as_text=True)
        assert "ed@example.com" not in html and "is editing" not in html, url
    assert "ed@example.com" not in client.get("/api/v1/products").get_data(as_text=True)


# -- the badge's own URL: both ways --------------------------------------------------------------

def test_the_badge_is_a_fragment_for_htmx_and_a_page_otherwise(editor, ana, lamp):
    open_row(editor, lamp)
    fragment = ana.get(f"/editor/products/{lamp}/presence", htmx=True)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers.get("Vary", "")
    html = fragment.get_data(as_text=True)
    assert "<html" not in html and "ed@example.com is editing" in html
    page = ana.get(f"/editor/products/{lamp}/presence")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert "ed@example.com is editing" in parse(page.get_data(as_text=True)).find("main").text
    nobody = editor.get(f"/editor/products/{lamp}/presence").get_data(as_text=True)
    assert "Nobody else is editing this product now." in nobody


def test_names_are_escaped(app, sql, lamp, ana):
    sql.user("<b>x</b>@example.com")
    hostile = sign_in_client(app, "<b>x</b>@example.com")
    open_row(hostile, lamp)
    html = ana.get(f"/editor/products/{lamp}/presence", htmx=True).get_data(as_text=True)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;@example.com is editing" in html


def test_leaving_the_page_ends_it_until_the_browser_brings_the_page_back(
        editor, ana, lamp, presence_events):
    form = open_row(editor, lamp)
    left = editor.post(form["end"], {"token": form["token"], "lapsed": "1"}, key=False)
    assert left.status_code == 204
    assert badge_in_table(ana, lamp) is None
    # Back from the back/forward cache with the form still open: its heartbeat counts again.
    assert editor.post(form["touch"], {"token": form["token"]}, key=False).status_code == 204
    assert badge_in_table(ana, lamp) == "ed@example.com is editing"
    assert presence_events(lamp) == ["editing", "left", "editing"]
