"""A product's history page and restoring earlier versions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.html import parse


@pytest.fixture
def lamp(sql, category) -> int:
    return sql.product("Brass Lamp", category_id=category, price="10.00", stock=5)


def save(editor, product, category, version, **changes):
    data = {"version": str(version), "name": "Brass Lamp", "price": "10.00", "stock": "5",
            "category_id": str(category), "is_active": "y", **changes}
    response = editor.put(f"/editor/products/{product}", data)
    assert response.status_code == 200, response.get_data(as_text=True)


def test_history_lists_who_when_source_and_before_after(editor, sql, lamp, category):
    save(editor, lamp, category, 1, price="12.00")
    editor.post("/editor/products/bulk", {"action": "deactivate", "ids": [str(lamp)]})
    response = editor.get(f"/editor/products/{lamp}/history")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<!doctype html>" in html
    assert "History of “Brass Lamp”" in html and "Now at version 3" in html
    assert html.index("Version 3") < html.index("Version 2")  # newest first
    assert "Bulk action" in html and "Table edit" in html
    assert html.count("by ed@example.com") == 2
    assert '<td class="before">10.00</td><td class="after">12.00</td>' in html
    assert '<td class="before">Active</td><td class="after">Inactive</td>' in html
    assert "<time datetime=" in html


def test_history_partial_for_htmx(editor, lamp, category):
    save(editor, lamp, category, 1, stock="7")
    html = editor.get(f"/editor/products/{lamp}/history", htmx=True).get_data(as_text=True)
    assert "<!doctype html>" not in html and "Version 2" in html
    assert '<td class="before">5</td><td class="after">7</td>' in html


def test_api_changes_show_as_api(editor, sql, lamp):
    sql.execute("UPDATE products SET version = 2, price = 11 WHERE id = %s", lamp)
    sql.execute("INSERT INTO product_revisions (product_id, user_id, source, version, changes)"
                " VALUES (%s, NULL, 'api', 2, %s)", lamp,
                '{"price": {"before": "10.00", "after": "11.00"}}')
    html = editor.get(f"/editor/products/{lamp}/history").get_data(as_text=True)
    assert '<span class="source source-api">API</span>' in html


def test_restore_an_earlier_version(editor, sql, lamp, category):
    save(editor, lamp, category, 1, price="12.00")
    save(editor, lamp, category, 2, price="14.00", name="Big Brass Lamp")
    html = editor.get(f"/editor/products/{lamp}/history").get_data(as_text=True)
    assert "Restore version 2" in html and "Restore version 1" in html
    assert "Restore version 3" not in html  # the current one
    response = editor.post(f"/editor/products/{lamp}/restore",
                           {"to_version": "2", "version": "3"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Restored version 2 as version 4." in html
    row = sql.one("SELECT name, price, version FROM products")
    assert row == {"name": "Brass Lamp", "price": Decimal("12.00"), "version": 4}
    last = sql.one("SELECT source, changes FROM product_revisions WHERE version = 4")
    assert last["source"] == "restore"
    assert last["changes"]["price"] == {"before": "14.00", "after": "12.00"}


def test_restore_is_version_checked(editor, sql, lamp, category):
    save(editor, lamp, category, 1, price="12.00")
    save(editor, lamp, category, 2, price="13.00")  # someone else saved after the page opened
    response = editor.post(f"/editor/products/{lamp}/restore",
                           {"to_version": "1", "version": "2"})
    assert response.status_code == 409
    assert "nothing was restored" in response.get_data(as_text=True)
    assert sql.scalar("SELECT price FROM products") == Decimal("13.00")


def test_restore_without_htmx_redirects_to_the_history(editor, sql, lamp, category):
    save(editor, lamp, category, 1, price="12.00")
    response = editor.post(f"/editor/products/{lamp}/restore",
                           {"to_version": "1", "version": "2"}, htmx=False)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/editor/products/{lamp}/history"
    assert sql.scalar("SELECT price FROM products") == Decimal("10.00")


def test_a_version_history_cannot_rebuild_is_refused_clearly(editor, sql, lamp):
    sql.execute("UPDATE products SET version = 3 WHERE id = %s", lamp)
    response = editor.post(f"/editor/products/{lamp}/restore",
                           {"to_version": "1", "version": "3"})
    assert response.status_code == 422
    assert "Could not restore" in response.get_data(as_text=True)


def test_restore_needs_versions(editor, lamp):
    assert editor.post(f"/editor/products/{lamp}/restore", {"to_version": "x"}).status_code \
        == 400


def test_history_of_a_missing_product_is_404(editor):
    assert editor.get("/editor/products/77/history").status_code == 404


def test_restore_from_a_stale_page_merges_with_fields_it_does_not_touch(editor, sql, lamp,
                                                                        category):
    save(editor, lamp, category, 1, price="12.00")           # version 2: the page is opened
    save(editor, lamp, category, 2, price="12.00", stock="9")  # version 3: a later stock edit
    response = editor.post(f"/editor/products/{lamp}/restore",
                           {"to_version": "1", "version": "2"})
    assert response.status_code == 200
    assert "Restored version 1 as version 4." in response.text
    assert "Merged with ed@example.com’s change to Stock." in response.text
    row = sql.one("SELECT price, stock FROM products")
    assert row == {"price": Decimal("10.00"), "stock": 9}  # the later stock edit is kept
    last = sql.one("SELECT changes FROM product_revisions WHERE version = 4")
    assert last["changes"] == {"price": {"before": "12.00", "after": "10.00"}}


def test_a_stale_restore_shows_the_fields_changed_since_and_lets_the_editor_choose(
        editor, sql, lamp, category):
    save(editor, lamp, category, 1, price="12.00", name="Big Lamp")  # v2: page opened
    save(editor, lamp, category, 2, price="13.00", name="Big Lamp", stock="9")  # v3: later
    response = editor.post(f"/editor/products/{lamp}/restore",
                           {"to_version": "1", "version": "2"})
    assert response.status_code == 409
    box = parse(response.text).find("div", class_="restore-conflict")
    assert box is not None
    fields = [row.get("data-field") for row in box.select("tr.differs")]
    assert fields == ["price"]  # only what changed on both sides, never the stock
    assert "10.00" in box.text and "13.00" in box.text and "ed@example.com" in box.text
    resend = {i.get("name"): i.get("value") for i in box.find_all("input", type="hidden")
              if i.get("name") != "fields"}
    hidden_fields = [i.get("value") for i in box.find_all("input", type="hidden")
                     if i.get("name") == "fields"]
    assert resend["version"] == "3" and hidden_fields == ["name"]
    assert sql.scalar("SELECT version FROM products") == 3  # nothing written
    # The editor ticks nothing: the name is restored, the later price and stock are kept.
    done = editor.post(f"/editor/products/{lamp}/restore",
                       {**resend, "fields": hidden_fields})
    assert done.status_code == 200
    row = sql.one("SELECT name, price, stock FROM products")
    assert row == {"name": "Brass Lamp", "price": Decimal("13.00"), "stock": 9}


def test_a_stale_restore_where_the_editor_ticks_the_field_restores_it(editor, sql, lamp,
                                                                     category):
    save(editor, lamp, category, 1, price="12.00")
    save(editor, lamp, category, 2, price="13.00")
    response = editor.post(f"/editor/products/{lamp}/restore",
                           {"to_version": "1", "version": "2"}, htmx=False)
    assert response.status_code == 409 and "<!doctype html>" in response.text
    done = editor.post(f"/editor/products/{lamp}/restore",
                       {"to_version": "1", "version": "3", "choose": "1",
                        "fields": ["price"]})
    assert done.status_code == 200
    assert sql.scalar("SELECT price FROM products") == Decimal("10.00")


def test_restore_refuses_unknown_field_names(editor, sql, lamp, category):
    save(editor, lamp, category, 1, price="12.00")
    response = editor.post(f"/editor/products/{lamp}/restore",
                           {"to_version": "1", "version": "2", "choose": "1",
                            "fields": ["password_hash"]})
    assert response.status_code == 400


def test_entries_are_headed_by_their_version_and_restore_sits_under_it(editor, sql, lamp,
                                                                      category):
    save(editor, lamp, category, 1, price="12.00")
    save(editor, lamp, category, 2, price="14.00")
    doc = parse(editor.get(f"/editor/products/{lamp}/history").get_data(as_text=True))
    assert doc.find("ol") is None  # no list numbers to confuse with version numbers
    entries = doc.select("li.revision")
    assert [entry.find("h2").text for entry in entries] == ["Version 3", "Version 2",
                                                             "Version 1"]
    restores = [[button.text for button in entry.find_all("button")] for entry in entries]
    assert restores == [[], ["Restore version 2"], ["Restore version 1"]]


def test_a_restore_swaps_the_whole_region_heading_included(editor, sql, lamp, category):
    save(editor, lamp, category, 1, name="Big Brass Lamp")
    response = editor.post(f"/editor/products/{lamp}/restore", {"to_version": "1",
                                                                "version": "2"})
    doc = parse(response.get_data(as_text=True))
    assert doc.find("h1").text == "History of “Brass Lamp”"
    assert "Now at version 3" in doc.find("p", class_="summary").text
    notice = doc.find("p", role="status")
    assert notice.text == "Restored version 1 as version 3." and notice.has("data-focus-me")
    full = editor.get(f"/editor/products/{lamp}/history").get_data(as_text=True)
    assert parse(full).find("div", id="history").find("h1") is not None
