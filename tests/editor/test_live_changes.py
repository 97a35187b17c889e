"""What a row open for edit is told when colleagues change the product meanwhile (issue 15):
"ana@example.com set the price to 12.00 — your save will merge", worded by the merge rules: a
field the editor changed too is said to overlap, and the save then does what the notice said."""

from __future__ import annotations

import pytest

from tests.support.clients import sign_in_client
from tests.support.html import parse


@pytest.fixture
def lamp(sql, category) -> int:
    return sql.product("Brass Lamp", category_id=category, price="10.00", stock=5,
                       attributes={"brand": "Halden"})


@pytest.fixture
def ana(app, sql):
    sql.user("ana@example.com", role="editor")
    return sign_in_client(app, "ana@example.com")


def row_form(category: int, **changes) -> dict:
    return {"version": "1", "name": "Brass Lamp", "price": "10.00", "stock": "5",
            "category_id": str(category), "is_active": "y", "brand": "Halden", **changes}


def notice(client, lamp: int, query: str) -> str:
    response = client.get(f"/editor/products/{lamp}/changes?{query}", htmx=True)
    assert response.status_code == 200
    return parse(response.get_data(as_text=True)).text


def test_a_colleagues_price_change_is_described_and_the_save_merges_as_it_says(
        editor, ana, lamp, category, sql):
    opened = editor.get(f"/editor/products/{lamp}/edit", htmx=True).get_data(as_text=True)
    region = parse(opened).find(id=f"live-notice-{lamp}")
    assert region is not None and region.get("role") == "status"
    assert region.get("data-since") == "1"
    assert ana.put(f"/editor/products/{lamp}", row_form(category, price="12.00")).status_code == 200

    assert notice(editor, lamp, "since=1&typed=name") == (
        "ana@example.com set the price to 12.00 — your save will merge.")
    saved = editor.put(f"/editor/products/{lamp}", row_form(category, name="Brass Desk Lamp"))
    assert saved.status_code == 200
    row = sql.one("SELECT name, price FROM products WHERE id = %s", lamp)
    assert (row["name"], str(row["price"])) == ("Brass Desk Lamp", "12.00")


def test_a_field_both_changed_is_said_to_overlap(editor, ana, lamp, category):
    assert ana.put(f"/editor/products/{lamp}",
                   row_form(category, price="12.00", brand="Nordlys")).status_code == 200
    text = notice(editor, lamp, "since=1&typed=price")
    assert text.startswith("ana@example.com set the price to 12.00 and set the brand to Nordlys.")
    assert "You changed Price too: if your value differs, saving will show you both" in text
    conflict = editor.put(f"/editor/products/{lamp}", row_form(category, price="9.00"))
    assert conflict.status_code == 409  # as announced: only the overlapping field is asked
    fields = [row.get("data-field") for row in
              parse(conflict.get_data(as_text=True)).select("tr.differs")]
    assert fields == ["price"]


def test_hiding_and_clearing_are_worded_as_actions(editor, ana, lamp):
    assert ana.patch(f"/editor/products/{lamp}/active",
                     {"version": "1", "is_active": "0"}).status_code == 200
    assert notice(editor, lamp, "since=1") == (
        "ana@example.com hid it from shoppers — your save will merge.")


def test_nothing_changed_since_is_an_empty_notice(editor, lamp):
    response = editor.get(f"/editor/products/{lamp}/changes?since=1", htmx=True)
    assert response.status_code == 200 and parse(response.get_data(as_text=True)).text == ""


def test_unknown_typed_names_are_ignored(editor, ana, lamp, category):
    assert ana.put(f"/editor/products/{lamp}", row_form(category, stock="7")).status_code == 200
    assert notice(editor, lamp, "since=1&typed=password&typed=%00") == (
        "ana@example.com set the stock to 7 — your save will merge.")


@pytest.mark.parametrize("since", ["", "abc", "0", "-1", "99999999999"])
def test_a_bad_version_is_refused_clearly(editor, lamp, since):
    response = editor.get(f"/editor/products/{lamp}/changes?since={since}", htmx=True)
    assert response.status_code == 400
    assert "version it was opened at" in response.get_data(as_text=True)


def test_it_is_a_page_without_htmx_and_editors_only(editor, ana, client, lamp, category):
    assert ana.put(f"/editor/products/{lamp}", row_form(category, price="12.00")).status_code == 200
    page = editor.get(f"/editor/products/{lamp}/changes?since=1")
    assert page.status_code == 200 and "HX-Request" in page.headers.get("Vary", "")
    main = parse(page.get_data(as_text=True)).find("main")
    assert main is not None and "ana@example.com set the price to 12.00" in main.text
    assert client.get(f"/editor/products/{lamp}/changes?since=1").status_code == 302
