"""The change feed: every committed change is announced once, with who, source and fields;
a rolled-back one never."""

from __future__ import annotations

import psycopg

from app.data.urls import libpq_dsn
from tests.support.editing import save_name


def products(event) -> bool:
    return event.kind == "product"


def test_an_inline_save_is_announced_with_who_the_source_and_the_fields(watch, editor, sql,
                                                                         lamp, editor_user):
    feed = watch(products)
    save_name(editor, sql, lamp, "Copper Lamp")
    event = feed.next()
    assert event is not None
    assert event.ids == (lamp,)
    assert event.payload["op"] == "update"
    assert event.payload["fields"] == ["name", "slug"] or event.payload["fields"] == ["name"]
    assert event.payload["versions"] == [sql.scalar("SELECT version FROM products WHERE id = %s",
                                                    lamp)]
    assert event.payload["actor"] == {"id": editor_user, "email": "ana@example.com"}
    assert event.payload["source"] == "inline"
    assert feed.events(0.5) == []  # announced once


def test_a_rolled_back_transaction_announces_nothing(watch, database_url, lamp):
    feed = watch()
    with psycopg.connect(libpq_dsn(database_url)) as connection:
        connection.execute("UPDATE products SET price = 99 WHERE id = %s", (lamp,))
        connection.rollback()
        connection.execute("UPDATE products SET stock = 7 WHERE id = %s", (lamp,))
        connection.commit()
    event = feed.next()
    assert event is not None and event.payload["fields"] == ["stock"]
    assert event.payload["source"] == "sql" and event.payload["actor"] is None
    assert feed.events(0.5) == []


def test_a_commit_after_a_later_one_is_still_delivered(watch, database_url, lamp, sql,
                                                       category):
    """Ids are taken when the change is made, visible when it commits: the earlier id that
    commits last is delivered too (the listener remembers the ids it skipped)."""
    other = sql.product("Other", category_id=category)
    feed = watch(products)
    with psycopg.connect(libpq_dsn(database_url)) as first, \
            psycopg.connect(libpq_dsn(database_url)) as second:
        first.execute("UPDATE products SET stock = 1 WHERE id = %s", (lamp,))
        second.execute("UPDATE products SET stock = 2 WHERE id = %s", (other,))
        second.commit()
        assert feed.next().ids == (other,)
        first.commit()
        late = feed.next()
    assert late is not None and late.ids == (lamp,)


def test_an_apps_own_kind_is_published_with_its_transaction(watch, run_db, lamp):
    from app.live.outbox import publish

    feed = watch(lambda event: event.kind == "presence")
    run_db(lambda session: publish(session, "presence", [lamp], {"state": "editing"}))
    assert feed.next(1) is None  # rolled back: never announced
    run_db(lambda session: publish(session, "presence", [lamp], {"state": "editing"}),
           commit=True)
    event = feed.next()
    assert event is not None and event.ids == (lamp,) and event.payload == {"state": "editing"}


def test_every_way_a_users_sessions_end_is_a_session_event(watch, sql, editor_user):
    feed = watch(lambda event: event.kind == "session")
    for change in ("session_generation = session_generation + 1", "role = 'admin'",
                   "is_active = false", "password_hash = 'x'"):
        sql.execute(f"UPDATE users SET {change} WHERE id = %s", editor_user)  # noqa: S608 - constants
        event = feed.next()
        assert event is not None and event.ids == (editor_user,), change
    sql.execute("UPDATE users SET last_login_at = now() WHERE id = %s", editor_user)
    assert feed.next(0.5) is None  # a sign-in time is not the end of anything
