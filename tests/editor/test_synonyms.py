"""Search synonyms in the editor (issue 13): editors and admins list, add and delete groups;
a change is what the next search uses; bad input is refused under the form, nothing stored."""

from __future__ import annotations

import pytest

from tests.catalog.conftest import names
from tests.support.html import parse


def groups(sql) -> list[str]:
    return [r["words"] for r in sql.all("SELECT words FROM search_synonyms ORDER BY id")]


def test_the_synonyms_page_and_partial(editor, sql):
    page = editor.get("/editor/synonyms")
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    html = page.get_data(as_text=True)
    assert "<!doctype html>" in html.lower() and 'id="synonyms"' in html
    rows = [r.text for r in parse(html).select("#synonyms tbody td:first-child")]
    assert rows == groups(sql) and "sofa, couch, settee" in rows  # the seeded groups
    assert parse(html).find("a", href="/editor/synonyms") is not None  # in the editor nav
    partial = editor.get("/editor/synonyms", htmx=True)
    assert partial.status_code == 200 and "HX-Request" in partial.headers["Vary"]
    text = partial.get_data(as_text=True)
    assert "<!doctype html>" not in text.lower() and "sofa, couch, settee" in text


def test_add_a_group_and_the_next_search_uses_it(editor, sql, client):
    category = sql.category("Audio")
    sql.product("Studio Headphones", category_id=category)
    assert names(client.get("/products?q=cans").data) == []
    response = editor.post("/editor/synonyms", {"words": " Headphones ,  CANS, cans "})
    assert response.status_code == 200
    assert "Added the synonyms “headphones, cans”." in response.get_data(as_text=True)
    assert groups(sql)[-1] == "headphones, cans"
    assert names(client.get("/products?q=cans").data) == ["Studio Headphones"]


def test_a_plain_form_post_redirects_back_to_the_list(editor, sql):
    response = editor.post("/editor/synonyms", {"words": "basin, sink"}, htmx=False)
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/editor/synonyms")
    assert "basin, sink" in groups(sql)


def test_delete_a_group(editor, sql, client):
    group = sql.scalar("SELECT id FROM search_synonyms WHERE words LIKE 'sofa,%%'")
    response = editor.post(f"/editor/synonyms/{group}/delete")
    assert response.status_code == 200
    assert "Deleted the synonyms “sofa, couch, settee”." in response.get_data(as_text=True)
    assert not any(g.startswith("sofa") for g in groups(sql))
    assert editor.post(f"/editor/synonyms/{group}/delete").status_code == 404


@pytest.mark.parametrize(("words", "message"), [
    ("", "Enter at least two different words"),
    ("sofa", "Enter at least two different words"),
    ("sofa, Sofa, SOFA", "Enter at least two different words"),
    ("!!, ??", "Enter at least two different words"),
    ("x" * 301, "at most 300 characters"),
    (", ".join(f"w{n}" for n in range(11)), "at most 10 words"),
    ("sofa, " + "x" * 41, "Each word can be at most 40 characters."),
    ("couch, sofa", "Those words are already synonyms."),
])
def test_bad_groups_are_refused_under_the_form(editor, sql, words, message):
    before = groups(sql)
    response = editor.post("/editor/synonyms", {"words": words})
    assert response.status_code == 422
    form = parse(response.data).by_id("synonym-new")
    assert message in form.by_id("synonym-new-error").text
    assert form.find("input", name="words").get("aria-invalid") == "true"
    assert groups(sql) == before


def test_output_is_escaped(editor, sql):
    response = editor.post("/editor/synonyms", {"words": "<script>, <b>bold</b>"})
    assert response.status_code == 200  # stored as its letters: "script, b bold b"
    html = response.get_data(as_text=True)
    assert "<script>" not in html and "script, b bold b" in html


def test_changes_need_csrf(editor, sql):
    before = groups(sql)
    assert editor.post("/editor/synonyms", {"words": "basin, sink"}, csrf=False).status_code == 400
    group = sql.scalar("SELECT min(id) FROM search_synonyms")
    assert editor.post(f"/editor/synonyms/{group}/delete", csrf=False).status_code == 400
    assert groups(sql) == before


def test_only_signed_in_editors_and_admins(client, admin, sql):
    assert client.get("/editor/synonyms").status_code == 302  # to the sign-in page
    assert client.get("/editor/synonyms", headers={"HX-Request": "true"}).status_code == 401
    assert client.post("/editor/synonyms", data={"words": "basin, sink"}).status_code in (400, 401)
    assert admin.get("/editor/synonyms").status_code == 200
    assert admin.post("/editor/synonyms", {"words": "basin, sink"}).status_code == 200
