"""Every write path is announced once it commits, with who made the change and through what."""

from __future__ import annotations

import hashlib
import json
import time

from tests.support.clients import sign_in_client
from tests.support.job_worker import JobWorker


def products(event) -> bool:
    return event.kind == "product"


def save(editor, product, category, version, **changes):
    data = {"version": str(version), "name": "Brass Lamp", "price": "12.00", "stock": "4",
            "category_id": str(category), "is_active": "y", **changes}
    response = editor.put(f"/editor/products/{product}", data)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def ana(event) -> dict:
    return event.payload["actor"]


def test_a_bulk_action_is_one_event_naming_every_product_and_its_new_version(
        watch, editor, sql, lamp, category, editor_user):
    shelf = sql.product("Shelf", category_id=category, price="40.00")
    feed = watch(products)
    response = editor.post("/editor/products/bulk", {
        "action": "price_amount", "value": "1", "scope": "selected",
        "ids": [str(lamp), str(shelf)]})
    assert response.status_code == 200
    event = feed.next()
    assert event.ids == (lamp, shelf) and event.payload["versions"] == [2, 2]
    assert event.payload["fields"] == ["price"] and event.payload["source"] == "bulk"
    assert ana(event) == {"id": editor_user, "email": "ana@example.com"}
    assert feed.events(0.5) == []


def test_a_restore_and_a_deactivation_say_so(watch, editor, sql, lamp, category):
    save(editor, lamp, category, 1, price="13.00")
    feed = watch(products)
    response = editor.post(f"/editor/products/{lamp}/restore", {"to_version": "1",
                                                               "version": "2"})
    assert response.status_code == 200
    restored = feed.next()
    assert restored.payload["source"] == "restore" and restored.payload["fields"] == ["price"]
    assert restored.payload["versions"] == [3]
    response = editor.delete(f"/editor/products/{lamp}", {"version": "3"})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    hidden = feed.next()
    assert hidden.payload["fields"] == ["is_active"] and hidden.payload["source"] == "inline"


def test_a_duplicate_is_an_insert(watch, editor, sql, lamp):
    feed = watch(products)
    assert editor.post(f"/editor/products/{lamp}/duplicate").status_code == 201
    event = feed.next()
    copy = sql.scalar("SELECT max(id) FROM products")
    assert event.ids == (copy,) and event.payload["op"] == "insert"
    assert event.payload["source"] == "duplicate"


def test_an_api_change_names_the_tokens_user(watch, client, sql, lamp, editor_user):
    raw = "vit_" + "a" * 43
    sql.execute("INSERT INTO api_tokens (user_id, name, token_hash, expires_at)"
                " VALUES (%s, 't', %s, now() + interval '1 day')", editor_user,
                hashlib.sha256(raw.encode()).hexdigest())
    feed = watch(products)
    response = client.open(f"/api/v1/products/{lamp}", method="PATCH",
                           data=json.dumps({"stock": 9}),
                           headers={"Content-Type": "application/json", "If-Match": '"1"',
                                    "Authorization": f"Bearer {raw}"})
    assert response.status_code == 200, response.json
    event = feed.next()
    assert event.payload["source"] == "api" and event.payload["fields"] == ["stock"]
    assert ana(event)["id"] == editor_user


def test_an_admins_category_change_is_a_category_event(watch, app, sql):
    sql.user("root@example.com", role="admin")
    admin = sign_in_client(app, "root@example.com")
    feed = watch(lambda event: event.kind == "category")
    assert admin.post("/editor/categories", {"name": "Rugs"}).status_code == 200
    event = feed.next()
    assert event.payload["op"] == "insert" and event.payload["source"] == "admin"
    assert ana(event)["email"] == "root@example.com"


def test_a_background_jobs_batches_are_announced_as_the_job(watch, app, editor, sql, category,
                                                           database_url, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "BULK_JOB_ROWS", 3)
    lamps = [sql.product(f"Lamp {n}", category_id=category, price="10.00") for n in range(7)]
    feed = watch(products)
    response = editor.post("/editor/products/bulk", {
        "action": "price_amount", "value": "1", "scope": "filter", "filter_q": "lamp"})
    assert response.status_code in (200, 202)
    worker = JobWorker(database_url, tmp_path / "worker.log", batch_rows=5)
    try:
        deadline = time.monotonic() + 30
        announced: set[int] = set()
        while announced != set(lamps) and time.monotonic() < deadline:
            event = feed.next(1)
            if event is not None:
                assert event.payload["source"] == "job" and event.payload["fields"] == ["price"]
                announced.update(event.ids)
    finally:
        worker.stop()
    assert announced == set(lamps)


def test_one_statement_names_only_the_rows_it_changed_and_the_columns_it_changed(
        watch, sql, lamp, category):
    """psql, a migration: one statement changing different columns of different rows, and
    leaving a row as it was, is one event with the changed rows and every column changed."""
    shelf = sql.product("Shelf", category_id=category, price="40.00")
    stool = sql.product("Stool", category_id=category, price="25.00")
    feed = watch(products)
    sql.execute("UPDATE products SET"
                " price = CASE WHEN id = %s THEN price + 1 ELSE price END,"
                " attributes = CASE WHEN id = %s THEN attributes || '{\"colour\": \"Red\"}'"
                " ELSE attributes END WHERE id IN (%s, %s, %s)",
                lamp, shelf, lamp, shelf, stool)
    event = feed.next()
    assert event.ids == (lamp, shelf) and event.payload["versions"] == [1, 1]
    assert event.payload["fields"] == ["attributes", "price"]
    assert event.payload["source"] == "sql" and event.payload["actor"] is None
    assert feed.events(0.5) == []
