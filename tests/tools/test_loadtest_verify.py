"""The load test's "nothing lost, nothing twice" check: an honest ledger of real saves passes
(strict API saves, editor saves merged field by field, a genuine conflict, a double-submitted
save replayed, a bulk action), and every way a ledger and the database can disagree (a save
nobody was told about, a save that never happened, a conflict that was not one, a lost update
of a field, a command applied twice, a wrong value, an unexpected status, a bulk change not
accounted for, a final value that is not the last change) is reported."""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal

import psycopg
import pytest

from app.data.products import BulkAction, Conflict, Saved, bulk_update, update_product
from app.data.urls import libpq_dsn
from loadtest.verify import verify

KEY = "k" * 24


@pytest.fixture
def history(sql, run_db, database_url):
    """Real changes through the write service, as the load makes them:

    1. ed (editor) changes the price from version 1 (-> 2);
    2. bot (API, strict) changes the stock from version 2 (-> 3);
    3. kim (editor) changes the brand from version 1: merged with both (-> 4); her
       double-click is answered twice, the second a replay;
    4. lee (editor) changes the price from version 1: a conflict with ed's price (409);
    5. ed's bulk "+1.00" on the product (-> 5).

    Returns (the honest ledger, user ids, the time before the changes, the product id)."""
    with psycopg.connect(libpq_dsn(database_url)) as connection:
        since: datetime = connection.execute("SELECT now()").fetchone()[0]
    users = {name: sql.user(f"{name}@example.com") for name in ("ed", "bot", "kim", "lee")}
    product = sql.product("Brass Lamp", category_id=sql.category("Lighting"), price="10.00",
                          stock=3, attributes={"brand": "Halden"})

    def save(user, data, version, source, merge=False):
        async def go(session):
            return await update_product(session, product, data, expected_version=version,
                                        user_id=users[user], source=source, merge=merge)
        return run_db(go, commit=True)

    assert isinstance(save("ed", {"price": "12.50"}, 1, "inline", merge=True), Saved)
    assert isinstance(save("bot", {"stock": 7}, 2, "api"), Saved)
    merged = save("kim", {"attributes": {"brand": "Nordlys"}}, 1, "inline", merge=True)
    assert isinstance(merged, Saved) and merged.product.version == 4
    assert isinstance(save("lee", {"price": "11.00"}, 1, "inline", merge=True), Conflict)

    async def bulk(session):
        return await bulk_update(session, [product], BulkAction("adjust_price",
                                                                amount=Decimal("1.00")),
                                 user_id=users["ed"])
    assert run_db(bulk, commit=True).changed == 1
    ledger = [
        {"via": "editor", "user": "ed", "product_id": product, "sent_version": 1,
         "status": 200, "version": 2, "values": {"price": "12.50"}, "key": "a" * 24},
        {"via": "api", "user": "bot", "product_id": product, "sent_version": 2,
         "status": 200, "version": 3, "values": {"stock": 7}},
        {"via": "editor", "user": "kim", "product_id": product, "sent_version": 1,
         "status": 200, "version": 4, "values": {"attributes.brand": "Nordlys"}, "key": KEY},
        {"via": "editor", "user": "kim", "product_id": product, "sent_version": 1,
         "status": 200, "version": 4, "values": {"attributes.brand": "Nordlys"}, "key": KEY,
         "replayed": True},
        {"via": "editor", "user": "lee", "product_id": product, "sent_version": 1,
         "status": 409, "version": None, "values": {"price": "11.00"}, "key": "b" * 24},
        {"via": "editor", "kind": "bulk", "user": "ed", "product_ids": [product],
         "status": 200, "changed": 1, "key": "c" * 24},
    ]
    return ledger, users, since, product


def check(ledger, users, since, database_url):
    return verify(ledger, database_url, users, since)


def test_an_honest_ledger_is_all_accounted_for(history, database_url):
    ledger, users, since, _ = history
    verdict = check(ledger, users, since, database_url)
    assert verdict.ok, verdict.problems
    assert (verdict.saved, verdict.merged, verdict.conflicts, verdict.unchanged) == (3, 1, 1, 0)
    assert (verdict.repeats, verdict.bulk) == (1, 1)


def doctored(ledger, index, **changes):
    entries = copy.deepcopy(ledger)
    if changes.get("drop"):
        del entries[index]
    else:
        entries[index].update(changes)
    return entries


@pytest.mark.parametrize(("index", "changes", "expected"), [
    (1, {"drop": True}, "never told it was saved"),
    (1, {"version": 6}, "no such revision"),
    (4, {"sent_version": 5}, "nobody had changed price to another value"),
    # Kim set the same brand: agreeing with a colleague is no conflict.
    (4, {"values": {"attributes.brand": "Nordlys"}},
     "nobody had changed attributes.brand to another value"),
    (1, {"sent_version": 1}, "not on top of 1"),
    (0, {"values": {"price": "99.00"}}, "does not record price=99.00"),
    (0, {"status": 500}, "answered 500, expected 200 or 409"),
    (1, {"user": "ed"}, "is not by ed"),
    (1, {"via": "editor"}, "has source api"),
    (3, {"replayed": False}, "applied 2 times"),
    (3, {"version": 5}, "answered differently"),
    (5, {"changed": 0}, "acknowledged bulk commands changed 0 products"),
])
def test_every_disagreement_is_reported(history, database_url, index, changes, expected):
    ledger, users, since, _ = history
    verdict = check(doctored(ledger, index, **changes), users, since, database_url)
    assert not verdict.ok
    assert any(expected in problem for problem in verdict.problems), verdict.problems


def test_a_save_over_a_colleagues_field_without_a_conflict_is_a_lost_update(
        history, sql, run_db, database_url):
    """A service that let a stale save overwrite the price would be caught."""
    ledger, users, since, product = history

    async def blind(session):
        return await update_product(session, product, {"price": "11.00"},
                                    expected_version=None, user_id=users["lee"],
                                    source="inline")
    assert run_db(blind, commit=True).product.version == 6
    entries = [*ledger, {"via": "editor", "user": "lee", "product_id": product,
                         "sent_version": 1, "status": 200, "version": 6,
                         "values": {"price": "11.00"}, "key": "d" * 24}]
    verdict = check(entries, users, since, database_url)
    assert any("saved price over version 2's change to it without a conflict" in problem
               for problem in verdict.problems), verdict.problems


def test_a_final_value_that_is_not_the_last_change_is_reported(history, sql, database_url):
    ledger, users, since, product = history
    sql.execute("UPDATE products SET stock = 99 WHERE id = %s", product)
    verdict = check(ledger, users, since, database_url)
    assert any(f"product {product}: stock is 99, the last change to it (version 3) set 7"
               in problem for problem in verdict.problems), verdict.problems


def test_a_merged_save_with_nothing_left_to_change_counts_as_unchanged(
        history, sql, run_db, database_url):
    ledger, users, since, product = history

    async def same(session):  # kim, from version 1, sets the brand ed's colleague already set
        return await update_product(session, product, {"attributes": {"brand": "Nordlys"}},
                                    expected_version=1, user_id=users["kim"],
                                    source="inline", merge=True)
    result = run_db(same, commit=True)
    assert isinstance(result, Saved) and not result.changed
    entries = [*ledger, {"via": "editor", "user": "kim", "product_id": product,
                         "sent_version": 1, "status": 200, "version": 5,
                         "values": {"attributes.brand": "Nordlys"}, "key": "e" * 24}]
    verdict = check(entries, users, since, database_url)
    assert verdict.ok, verdict.problems
    assert verdict.unchanged == 1


def test_a_save_of_the_values_a_colleagues_version_already_holds_counts_as_unchanged(
        history, sql, run_db, database_url):
    """Kim opens the product at bot's version 3 and saves the stock it already shows: nothing
    changes, and she is answered with version 3 - bot's revision, not hers. (A load test at
    100 users reported such a save as "revision 11 is not by editor-02".) The same answer
    with another stock is a save that never happened."""
    ledger, users, since, product = history

    async def same(session):
        return await update_product(session, product, {"stock": 7}, expected_version=3,
                                    user_id=users["kim"], source="inline", merge=True)
    result = run_db(same, commit=True)
    assert isinstance(result, Saved) and not result.changed
    entry = {"via": "editor", "user": "kim", "product_id": product, "sent_version": 3,
             "status": 200, "version": 3, "values": {"stock": 7}, "key": "e" * 24}
    verdict = check([*ledger, entry], users, since, database_url)
    assert verdict.ok, verdict.problems
    assert verdict.unchanged == 1
    verdict = check([*ledger, {**entry, "values": {"stock": 8}}], users, since, database_url)
    assert not verdict.ok
    assert any("is not by kim" in problem for problem in verdict.problems), verdict.problems


# -- image uploads --------------------------------------------------------------------------------

@pytest.fixture
def with_image(history, run_db):
    """ed adds an image (-> version 6) through the image service, as the upload view does;
    the ledger gets its 201 (double-clicked: the second a replay)."""
    from app.data.images import add_image, store_blob

    ledger, users, since, product = history

    async def upload(session):
        await store_blob(session, sha256="a" * 64, data=b"x", content_type="image/png",
                         width=1, height=1)
        return await add_image(session, product, original="a" * 64, width=1, height=1,
                               alt="Load test image 1", user_id=users["ed"], limit=12)
    run_db(upload, commit=True)
    entry = {"via": "editor", "kind": "image", "user": "ed", "product_id": product,
             "status": 201, "values": {"images.alt": "Load test image 1"}, "key": "f" * 24}
    return [*ledger, entry, {**entry, "replayed": True}], users, since, product


def test_an_acknowledged_image_upload_is_accounted_for(with_image, database_url):
    ledger, users, since, _ = with_image
    verdict = check(ledger, users, since, database_url)
    assert verdict.ok, verdict.problems
    assert (verdict.images, verdict.repeats) == (1, 2)


@pytest.mark.parametrize(("changes", "expected"), [
    ({"drop": True}, "never told it was saved"),
    ({"values": {"images.alt": "Load test image 2"}}, "0 image rows with its alt text"),
    ({"user": "kim"}, "expected one, by kim"),
    ({"status": 422}, "answered 422, expected 201"),
])
def test_image_upload_disagreements_are_reported(with_image, database_url, changes, expected):
    ledger, users, since, _ = with_image
    entries = copy.deepcopy(ledger)
    del entries[-1]  # the replay
    if changes.get("drop"):
        del entries[-1]
    else:
        entries[-1].update(changes)
    verdict = check(entries, users, since, database_url)
    assert any(expected in problem for problem in verdict.problems), verdict.problems


def test_an_upload_applied_twice_is_reported(with_image, sql, database_url):
    ledger, users, since, product = with_image
    sql.execute("INSERT INTO product_images (product_id, position, alt, original, width, height)"
                " VALUES (%s, 2, 'Load test image 1', %s, 1, 1)", product, "a" * 64)
    verdict = check(ledger, users, since, database_url)
    assert any("2 image rows with its alt text" in problem for problem in verdict.problems)
