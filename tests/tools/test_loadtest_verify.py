"""The load test's "nothing lost" check: an honest ledger of real saves passes, and every way a
ledger and the database can disagree (a save nobody was told about, a save that never happened,
a conflict that was not one, a lost update, a wrong value, an unexpected status) is reported."""

from __future__ import annotations

import copy
from datetime import datetime

import psycopg
import pytest

from app.data.products import Saved, update_product
from app.data.urls import libpq_dsn
from loadtest.verify import verify


@pytest.fixture
def history(sql, run_db, database_url):
    """Real saves through the write service: an editor changes the price (version 1 -> 2), an
    API client the stock (2 -> 3), and a second editor's save based on version 2 is refused as
    a conflict. Returns (the honest ledger, user ids, the time before the saves)."""
    with psycopg.connect(libpq_dsn(database_url)) as connection:
        since: datetime = connection.execute("SELECT now()").fetchone()[0]
    users = {"ed": sql.user("ed@example.com"), "bot": sql.user("bot@example.com"),
             "kim": sql.user("kim@example.com")}
    product = sql.product("Brass Lamp", category_id=sql.category("Lighting"), price="10.00",
                          stock=3)

    def save(user, data, version, source):
        async def go(session):
            return await update_product(session, product, data, expected_version=version,
                                        user_id=users[user], source=source)
        return run_db(go, commit=True)

    assert isinstance(save("ed", {"price": "12.50"}, 1, "inline"), Saved)
    assert isinstance(save("bot", {"stock": 7}, 2, "api"), Saved)
    assert not isinstance(save("kim", {"price": "11.00"}, 2, "inline"), Saved)
    ledger = [
        {"via": "editor", "user": "ed", "product_id": product, "sent_version": 1,
         "status": 200, "version": 2, "values": {"price": "12.50"}},
        {"via": "api", "user": "bot", "product_id": product, "sent_version": 2,
         "status": 200, "version": 3, "values": {"stock": 7}},
        {"via": "editor", "user": "kim", "product_id": product, "sent_version": 2,
         "status": 409, "version": None, "values": {"price": "11.00"}},
    ]
    return ledger, users, since


def check(ledger, users, since, database_url):
    return verify(ledger, database_url, users, since)


def test_an_honest_ledger_is_all_accounted_for(history, database_url):
    ledger, users, since = history
    verdict = check(ledger, users, since, database_url)
    assert verdict.ok, verdict.problems
    assert (verdict.saved, verdict.conflicts, verdict.unchanged) == (2, 1, 0)


def doctored(ledger, index, **changes):
    entries = copy.deepcopy(ledger)
    if changes.get("drop"):
        del entries[index]
    else:
        entries[index].update(changes)
    return entries


@pytest.mark.parametrize(("index", "changes", "expected"), [
    (1, {"drop": True}, "never told it was saved"),
    (1, {"version": 4}, "no such revision"),
    (2, {"sent_version": 3}, "nobody had saved a newer version"),
    (1, {"sent_version": 1}, "not on top of 1"),
    (0, {"values": {"price": "99.00"}}, "does not record price=99.00"),
    (0, {"status": 500}, "answered 500, expected 200 or 409"),
    (1, {"user": "ed"}, "is not by ed"),
    (1, {"via": "editor"}, "has source api"),
])
def test_every_disagreement_is_reported(history, database_url, index, changes, expected):
    ledger, users, since = history
    verdict = check(doctored(ledger, index, **changes), users, since, database_url)
    assert not verdict.ok
    assert any(expected in problem for problem in verdict.problems), verdict.problems
