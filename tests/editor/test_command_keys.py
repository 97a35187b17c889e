"""Every editor command is applied at most once (app.web.commands): a form's one-time key sent
twice - a double-click, a retry - gets the first response back and changes nothing again; a
missing, garbled or foreign key is refused clearly and changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.data import commands
from tests.support.clients import command_key, sign_in_client
from tests.support.html import parse


@pytest.fixture
def lamp(sql, category) -> int:
    return sql.product("Brass Lamp", category_id=category, price="10.00", stock=5,
                       attributes={"brand": "Halden"})


def form(category: int, **changes) -> dict:
    return {"version": "1", "name": "Brass Lamp", "price": "10.00", "stock": "5",
            "category_id": str(category), "is_active": "y", "brand": "Halden", **changes}


def revision_count(sql, product_id=None) -> int:
    if product_id is None:
        return sql.scalar("SELECT count(*) FROM product_revisions")
    return sql.scalar("SELECT count(*) FROM product_revisions WHERE product_id = %s", product_id)


def twice(client, method: str, url: str, data: dict, **kwargs):
    data = {"command_key": command_key(), **data}
    first = client.send(method, url, data, **kwargs)
    second = client.send(method, url, data, **kwargs)
    return first, second


def assert_replayed(first, second) -> None:
    assert second.status_code == first.status_code
    assert second.get_data() == first.get_data()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert "Idempotent-Replayed" not in first.headers


# -- the same key twice: applied once, answered the same -----------------------------------------

def test_a_row_save_sent_twice_is_saved_once_and_answered_twice(editor, sql, lamp, category):
    first, second = twice(editor, "PUT", f"/editor/products/{lamp}",
                          form(category, price="12.00"))
    assert first.status_code == 200 and "12.00" in first.text
    assert_replayed(first, second)
    assert "HX-Request" in second.headers["Vary"]
    assert revision_count(sql, lamp) == 1
    assert sql.scalar("SELECT version FROM products WHERE id = %s", lamp) == 2


def test_a_plain_form_save_sent_twice_redirects_twice_and_saves_once(editor, sql, lamp,
                                                                      category):
    first, second = twice(editor, "POST", f"/editor/products/{lamp}",
                          form(category, price="12.00"), htmx=False)
    assert first.status_code == 303 and first.headers["Location"] == "/editor/products"
    assert_replayed(first, second)
    assert revision_count(sql, lamp) == 1


def test_a_create_sent_twice_creates_one_product(editor, sql, category):
    data = {"name": "Linen Shade", "price": "20.00", "stock": "1",
            "category_id": str(category), "is_active": "y"}
    first, second = twice(editor, "POST", "/editor/products", data)
    assert first.status_code == 201
    assert_replayed(first, second)
    assert sql.scalar("SELECT count(*) FROM products WHERE name = 'Linen Shade'") == 1


def test_a_duplicate_sent_twice_makes_one_copy(editor, sql, lamp):
    first, second = twice(editor, "POST", f"/editor/products/{lamp}/duplicate", {})
    assert first.status_code == 201
    assert_replayed(first, second)
    assert sql.scalar("SELECT count(*) FROM products") == 2


@pytest.mark.parametrize(("method", "path", "data"), [
    ("PATCH", "stock", {"stock": "9", "version": "1"}),
    ("PATCH", "active", {"is_active": "0", "version": "1"}),
    ("DELETE", "", {"version": "1"}),
])
def test_in_place_edits_and_delete_sent_twice_apply_once(editor, sql, lamp, method, path,
                                                         data):
    url = f"/editor/products/{lamp}" + (f"/{path}" if path else "")
    first, second = twice(editor, method, url, data)
    assert first.status_code == 200
    assert_replayed(first, second)
    assert revision_count(sql, lamp) == 1


def test_undo_sent_twice_applies_once(editor, sql, lamp):
    editor.delete(f"/editor/products/{lamp}", {"version": "1"})
    first, second = twice(editor, "POST", f"/editor/products/{lamp}/reactivate",
                          {"version": "2"})
    assert first.status_code == 200 and second.status_code == 200
    assert revision_count(sql, lamp) == 2


def test_a_bulk_price_change_sent_twice_applies_once(editor, sql, category):
    ids = [sql.product(f"Lamp {n}", category_id=category, price=price)
           for n, price in enumerate(["91.91", "52.97"])]
    data = {"action": "price_percent", "value": "10", "scope": "selected",
            "ids": [str(i) for i in ids]}
    first, second = twice(editor, "POST", "/editor/products/bulk", data)
    assert first.status_code == 200
    assert_replayed(first, second)
    prices = [r["price"] for r in sql.all("SELECT price FROM products ORDER BY id")]
    assert prices == [Decimal("101.10"), Decimal("58.27")]  # x1.1, not x1.21


def test_a_confirmed_bulk_change_sent_twice_applies_once(app, editor, sql, category,
                                                         monkeypatch):
    monkeypatch.setitem(app.config, "BULK_CONFIRM_LIMIT", 1)
    ids = [sql.product(f"Lamp {n}", category_id=category, price="10.00") for n in range(3)]
    data = {"command_key": command_key(), "action": "price_amount", "value": "1",
            "scope": "selected", "ids": [str(i) for i in ids]}
    ask = editor.post("/editor/products/bulk", data)
    assert ask.status_code == 428
    # The confirmation carries the same key: the question changed nothing, so it is free.
    assert f'name="command_key" value="{data["command_key"]}"' in ask.text
    token = parse(ask.text).find("input", name="confirm_token").get("value")
    confirm = {"command_key": data["command_key"], "confirm_token": token}
    first = editor.post("/editor/products/bulk", confirm)
    second = editor.post("/editor/products/bulk", confirm)
    assert first.status_code == 200
    assert_replayed(first, second)
    assert sql.scalar("SELECT sum(price) FROM products") == Decimal("33.00")


def test_a_restore_sent_twice_restores_once(editor, sql, lamp, category):
    editor.put(f"/editor/products/{lamp}", form(category, price="12.00"))
    first, second = twice(editor, "POST", f"/editor/products/{lamp}/restore",
                          {"to_version": "1", "version": "2"})
    assert first.status_code == 200
    assert_replayed(first, second)
    assert revision_count(sql, lamp) == 2


def test_admin_forms_sent_twice_apply_once(admin, sql):
    data = {"email": "new@example.com", "password": "long enough pw", "role": "editor"}
    first, second = twice(admin, "POST", "/editor/users", data)
    assert first.status_code == 200 and "Created the editor new@example.com" in first.text
    assert_replayed(first, second)  # not "already exists"
    first, second = twice(admin, "POST", "/editor/categories", {"name": "Garden"})
    assert first.status_code == 200
    assert_replayed(first, second)
    assert sql.scalar("SELECT count(*) FROM categories WHERE name = 'Garden'") == 1


def test_the_replay_survives_a_restart_of_the_app(app, editor, sql, lamp, category):
    """The outcome is in the database, not in a worker: a new app instance replays it."""
    from app import create_app

    data = {"command_key": command_key(), **form(category, stock="3")}
    first = editor.put(f"/editor/products/{lamp}", data)
    other = create_app("testing")
    from tests.support.clients import EditorClient, signed_in

    again = EditorClient(signed_in(other.test_client(), "ed@example.com"))
    # Another user's session would be refused (below); the same editor gets the replay.
    second = again.put(f"/editor/products/{lamp}", data)
    assert_replayed(first, second)
    assert revision_count(sql, lamp) == 1


# -- refusals free the key; bad keys are refused ------------------------------------------------

def test_a_refused_save_does_not_use_up_its_key(editor, sql, lamp, category):
    key = command_key()
    bad = editor.put(f"/editor/products/{lamp}", {"command_key": key,
                                                  **form(category, price="lots")})
    assert bad.status_code == 422
    good = editor.put(f"/editor/products/{lamp}", {"command_key": key,
                                                   **form(category, price="12.00")})
    assert good.status_code == 200 and "Idempotent-Replayed" not in good.headers
    assert revision_count(sql, lamp) == 1


def test_a_conflict_is_not_stored_and_its_form_has_a_new_key(editor, sql, lamp, category):
    sql.execute("UPDATE products SET version = 2, price = 15 WHERE id = %s", lamp)
    key = command_key()
    conflict = editor.put(f"/editor/products/{lamp}", {"command_key": key,
                                                       **form(category, price="12.00")})
    assert conflict.status_code == 409
    assert sql.scalar("SELECT count(*) FROM command_keys") == 0
    keys = [i.get("value") for i in parse(conflict.text).find_all("input", type="hidden")
            if i.get("name") == "command_key"]
    assert len(keys) == 1 and keys[0] != key


@pytest.mark.parametrize("htmx", [True, False])
def test_a_missing_key_is_refused_and_changes_nothing(editor, sql, lamp, category, htmx):
    response = editor.put(f"/editor/products/{lamp}", form(category, price="12.00"),
                          key=False, htmx=htmx)
    assert response.status_code == 400
    assert "missing its one-time key" in response.text
    if htmx:
        assert response.headers["HX-Retarget"] == "#messages"
        assert "<!doctype html>" not in response.text
    else:
        assert "<!doctype html>" in response.text
    assert revision_count(sql) == 0


@pytest.mark.parametrize("key", ["short", "x" * 65, "has spaces in it, sixteen+", "é" * 20])
def test_a_garbled_key_is_refused(editor, sql, lamp, category, key):
    response = editor.put(f"/editor/products/{lamp}", {"command_key": key,
                                                       **form(category, price="12.00")})
    assert response.status_code == 400 and "not valid" in response.text
    assert revision_count(sql) == 0


def test_the_same_key_for_another_change_is_refused(editor, sql, lamp, category):
    key = command_key()
    editor.put(f"/editor/products/{lamp}", {"command_key": key, **form(category, stock="3")})
    response = editor.put(f"/editor/products/{lamp}",
                          {"command_key": key, **form(category, stock="4", version="2")})
    assert response.status_code == 422
    assert "already used for a different change" in response.text
    assert sql.scalar("SELECT stock FROM products WHERE id = %s", lamp) == 3


def test_another_editors_key_is_refused_even_with_the_same_body(app, editor, sql, lamp,
                                                                category):
    sql.user("second@example.com")
    second = sign_in_client(app, "second@example.com")
    data = {"command_key": command_key(), **form(category, stock="3")}
    assert editor.put(f"/editor/products/{lamp}", data).status_code == 200
    response = second.put(f"/editor/products/{lamp}", data)
    assert response.status_code == 422 and "Idempotent-Replayed" not in response.headers
    assert revision_count(sql, lamp) == 1


def test_expired_keys_are_purged_lazily(editor, sql, lamp, category, monkeypatch):
    editor.put(f"/editor/products/{lamp}", form(category, stock="3"))
    sql.execute("UPDATE command_keys SET created_at = now() - interval '2 days'")
    monkeypatch.setattr(commands, "_last_purge", 0.0)
    editor.put(f"/editor/products/{lamp}", form(category, stock="4", version="2"))
    assert sql.scalar("SELECT count(*) FROM command_keys") == 1  # only the new one


# -- the forms render a key --------------------------------------------------------------------

def test_every_write_form_and_button_renders_a_fresh_key(editor, admin, lamp):
    table = editor.get("/editor/products").text
    row = editor.get(f"/editor/products/{lamp}/row", htmx=True).text
    edit = editor.get(f"/editor/products/{lamp}/edit", htmx=True).text
    history = editor.get(f"/editor/products/{lamp}/history").text
    # stock (hx-vals), then active, duplicate and delete (each a form of its own)
    assert row.count('"command_key": "') + row.count('name="command_key"') == 4
    assert 'name="command_key"' in edit and 'hx-sync="this:drop"' in edit
    assert 'name="command_key"' in table  # the bulk form
    assert 'name="command_key"' in history or "Restore" not in history
    for page in ("/editor/users", "/editor/categories"):
        assert 'name="command_key"' in admin.get(page).text
    keys = [i.get("value") for i in parse(table).find_all("input") if
            i.get("name") == "command_key"]
    assert len(keys) == len(set(keys))


def test_the_bulk_form_gets_a_fresh_key_after_each_change(editor, sql, category):
    """The bulk form stays on the page: its next Apply must be a new command."""
    ids = [str(sql.product(f"Lamp {n}", category_id=category, price="10.00")) for n in range(2)]
    key = command_key()
    response = editor.post("/editor/products/bulk", {"command_key": key, "action": "price_amount",
                                                     "value": "1", "scope": "selected",
                                                     "ids": ids})
    fresh = parse(response.text).find("hx-partial", hx_target="#bulk-key")
    assert fresh is not None
    new_key = fresh.find("input").get("value")
    assert new_key and new_key != key
    again = editor.post("/editor/products/bulk", {"command_key": new_key,
                                                  "action": "price_amount", "value": "1",
                                                  "scope": "selected", "ids": ids})
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    assert sql.scalar("SELECT sum(price) FROM products") == Decimal("24.00")


@pytest.mark.parametrize(("method", "path", "data", "location"), [
    ("POST", "/stock", {"stock": "9", "version": "1"}, "/editor/products"),
    ("POST", "/active", {"is_active": "0", "version": "1"}, "/editor/products"),
    ("POST", "/duplicate", {}, "/editor/products"),
    ("POST", "/restore", None, "/editor/products/{id}/history"),
])
def test_plain_form_posts_redirect_and_a_repeat_redirects_the_same(editor, sql, lamp,
                                                                   category, method, path,
                                                                   data, location):
    if data is None:  # a restore needs a version to go back to
        editor.put(f"/editor/products/{lamp}", form(category, price="12.00"))
        data = {"to_version": "1", "version": "2"}
    before = revision_count(sql)
    first, second = twice(editor, method, f"/editor/products/{lamp}{path}", data, htmx=False)
    assert first.status_code == 303
    assert first.headers["Location"] == location.format(id=lamp)
    assert_replayed(first, second)
    assert revision_count(sql) == before + 1


def test_a_merged_save_without_javascript_says_so_after_the_redirect(editor, sql, lamp,
                                                                     category):
    sql.execute("UPDATE products SET version = 2, stock = 1 WHERE id = %s", lamp)
    sql.execute("INSERT INTO product_revisions (product_id, user_id, source, version, changes)"
                " VALUES (%s, NULL, 'api', 2, %s)", lamp,
                '{"stock": {"before": 5, "after": 1}}')
    response = editor.post(f"/editor/products/{lamp}", form(category, price="12.00"),
                           htmx=False)
    assert response.status_code == 303
    page = editor.get("/editor/products").text
    assert "Saved “Brass Lamp”. Merged with an automated task’s change to Stock." in page
    row = sql.one("SELECT price, stock FROM products WHERE id = %s", lamp)
    assert (row["price"], row["stock"]) == (Decimal("12.00"), 1)
