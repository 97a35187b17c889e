"""The product write service (app/data/products/) that the editor and the JSON API share."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from app.data import products as svc
from app.data.slugs import slugify


@pytest.fixture
def lamp(sql, category) -> int:
    return sql.product("Brass Lamp", category_id=category, price="10.00", stock=5,
                       attributes={"brand": "Halden", "colour": "black"})


def revisions(sql, product_id):
    return sql.all("SELECT version, source, user_id, changes FROM product_revisions"
                   " WHERE product_id = %s ORDER BY version", product_id)


def test_create_makes_a_unique_slug_and_records_every_field(run_db, sql, category):
    user = sql.user("ed@example.com")
    data = {"name": "Café Lamp", "price": "12.5", "category_id": category,
            "attributes": {"brand": "Halden"}}
    first = run_db(lambda s: svc.create_product(s, data, user_id=user))
    second = run_db(lambda s: svc.create_product(s, data, user_id=user, source="api"))
    assert (first.slug, second.slug) == ("cafe-lamp", "cafe-lamp-2")
    assert first.price == Decimal("12.50") and first.version == 1 and first.is_active
    history = revisions(sql, first.id)
    assert len(history) == 1 and history[0]["source"] == "create"
    assert history[0]["user_id"] == user
    assert history[0]["changes"]["price"] == {"before": None, "after": "12.50"}
    assert history[0]["changes"]["attributes.brand"] == {"before": None, "after": "Halden"}
    assert revisions(sql, second.id)[0]["source"] == "api"


def test_create_refuses_a_taken_explicit_slug_and_an_unknown_category(run_db, sql, category):
    sql.product("Old", category_id=category, slug="taken")
    with pytest.raises(svc.ProductValidationError) as error:
        run_db(lambda s: svc.create_product(
            s, {"name": "New", "price": "1", "category_id": category}, slug="taken",
            user_id=None))
    assert error.value.errors == {"slug": "That slug is already taken."}
    with pytest.raises(svc.ProductValidationError) as error:
        run_db(lambda s: svc.create_product(
            s, {"name": "New", "price": "1", "category_id": 9999}, user_id=None))
    assert error.value.errors == {"category_id": "That category does not exist."}
    assert sql.scalar("SELECT count(*) FROM products") == 1


def test_update_with_the_current_version_saves_and_records_before_and_after(run_db, sql, lamp):
    user = sql.user("ed@example.com")
    result = run_db(lambda s: svc.update_product(
        s, lamp, {"price": "12.00", "attributes": {"colour": "white", "brand": ""}},
        expected_version=1, user_id=user, source="inline"))
    assert isinstance(result, svc.Saved)
    assert result.product.version == 2 and result.product.category.name == "Lighting"
    assert result.changes == {
        "price": {"before": "10.00", "after": "12.00"},
        "attributes.colour": {"before": "black", "after": "white"},
        "attributes.brand": {"before": "Halden", "after": None},
    }
    row = sql.one("SELECT price, version, attributes FROM products WHERE id = %s", lamp)
    assert row == {"price": Decimal("12.00"), "version": 2, "attributes": {"colour": "white"}}
    [revision] = revisions(sql, lamp)
    assert revision["version"] == 2 and revision["source"] == "inline"
    assert revision["changes"] == result.changes


def test_update_with_a_stale_version_is_a_conflict_and_writes_nothing(run_db, sql, lamp):
    run_db(lambda s: svc.update_product(s, lamp, {"price": "11.00"}, expected_version=1,
                                        user_id=None, source="api"))
    result = run_db(lambda s: svc.update_product(s, lamp, {"price": "99.00"},
                                                 expected_version=1, user_id=None,
                                                 source="inline"))
    assert isinstance(result, svc.Conflict)
    assert result.current.price == Decimal("11.00") and result.current.version == 2
    assert sql.scalar("SELECT price FROM products WHERE id = %s", lamp) == Decimal("11.00")
    assert len(revisions(sql, lamp)) == 1


def test_an_update_that_changes_nothing_keeps_the_version_and_records_nothing(run_db, sql, lamp):
    result = run_db(lambda s: svc.update_product(s, lamp, {"price": "10", "name": " Brass  Lamp"},
                                                 expected_version=1, user_id=None,
                                                 source="inline"))
    assert isinstance(result, svc.Saved) and not result.changed
    assert result.product.version == 1 and revisions(sql, lamp) == []


def test_update_of_a_missing_product_raises_not_found(run_db):
    with pytest.raises(svc.ProductNotFound):
        run_db(lambda s: svc.update_product(s, 404, {"stock": 1}, expected_version=1,
                                            user_id=None, source="api"))


@pytest.mark.parametrize(("data", "errors"), [
    ({"name": "  "}, {"name": "Enter a name."}),
    ({"name": "x" * 201}, {"name": "Name can be at most 200 characters."}),
    ({"price": ""}, {"price": "Enter a price."}),
    ({"price": "ten"}, {"price": "Enter a price as a number, like 12.50."}),
    ({"price": "NaN"}, {"price": "Enter a price as a number, like 12.50."}),
    ({"price": "-0.01"}, {"price": "Price cannot be negative."}),
    ({"price": "100000000"}, {"price": "Price cannot be more than 99,999,999.99."}),
    ({"price": "1.005"}, {"price": "Price can have at most two decimal places."}),
    ({"stock": "1.5"}, {"stock": "Stock must be a whole number."}),
    ({"stock": -1}, {"stock": "Stock cannot be negative."}),
    ({"stock": 2_147_483_648}, {"stock": "Stock cannot be more than 2,147,483,647."}),
    ({"is_active": "yes"}, {"is_active": "Must be true or false."}),
    ({"category_id": "abc"}, {"category_id": "Choose a category."}),
    ({"attributes": {"brand": "b" * 101}},
     {"attributes.brand": "Brand can be at most 100 characters."}),
    ({"attributes": {"weight": "2kg"}},
     {"attributes.weight": "Unknown attribute; use brand, colour, material, size."}),
    ({"colour": "red"}, {"colour": "Unknown field."}),
    ({"name": "a\x00b"}, {"name": "Name cannot contain control characters."}),
    ({"description": "a\x00b"}, {"description": "Description cannot contain control characters."}),
    ({"attributes": {"size": "M\x07"}},
     {"attributes.size": "Size cannot contain control characters."}),
    ({"category_id": 2**31}, {"category_id": "Choose a category."}),
])
def test_invalid_input_is_refused_with_a_message_per_field(run_db, sql, lamp, data, errors):
    with pytest.raises(svc.ProductValidationError) as error:
        run_db(lambda s: svc.update_product(s, lamp, data, expected_version=1, user_id=None,
                                            source="api"))
    assert error.value.errors == errors
    assert sql.scalar("SELECT version FROM products WHERE id = %s", lamp) == 1


def test_deactivate_and_reactivate_are_versioned_changes(run_db, sql, lamp):
    result = run_db(lambda s: svc.deactivate_product(s, lamp, expected_version=1, user_id=None,
                                                     source="inline"))
    assert result.product.is_active is False and result.product.version == 2
    stale = run_db(lambda s: svc.reactivate_product(s, lamp, expected_version=1, user_id=None,
                                                    source="inline"))
    assert isinstance(stale, svc.Conflict)
    undone = run_db(lambda s: svc.reactivate_product(s, lamp, expected_version=2, user_id=None,
                                                     source="inline"))
    assert undone.product.is_active is True and undone.product.version == 3


def test_duplicate_copies_as_an_inactive_product_with_its_own_slug(run_db, sql, lamp):
    copy = run_db(lambda s: svc.duplicate_product(s, lamp, user_id=None))
    assert copy.id != lamp and copy.name == "Brass Lamp (copy)"
    assert copy.slug == "brass-lamp-copy" and copy.is_active is False
    assert copy.attributes == {"brand": "Halden", "colour": "black"}
    assert copy.price == Decimal("10.00") and copy.stock == 5
    assert revisions(sql, copy.id)[0]["source"] == "duplicate"


def test_restore_brings_back_an_earlier_version_as_a_new_version(run_db, sql, lamp):
    for version, data in enumerate([{"price": "11.00"}, {"name": "Lamp", "stock": 9},
                                    {"attributes": {"colour": None}}], start=1):
        run_db(lambda s, v=version, d=data: svc.update_product(
            s, lamp, d, expected_version=v, user_id=None, source="inline"))
    result = run_db(lambda s: svc.restore_version(s, lamp, to_version=2, expected_version=4,
                                                  user_id=None))
    assert isinstance(result, svc.Saved) and result.product.version == 5
    product = result.product
    assert (product.name, product.price, product.stock) == ("Brass Lamp", Decimal("11.00"), 5)
    assert product.attributes == {"brand": "Halden", "colour": "black"}
    assert revisions(sql, lamp)[-1]["source"] == "restore"
    original = run_db(lambda s: svc.restore_version(s, lamp, to_version=1, expected_version=5,
                                                    user_id=None))
    assert original.product.price == Decimal("10.00")


def test_restore_is_version_checked_and_refuses_what_history_cannot_rebuild(run_db, sql, lamp):
    run_db(lambda s: svc.update_product(s, lamp, {"price": "11.00"}, expected_version=1,
                                        user_id=None, source="inline"))
    stale = run_db(lambda s: svc.restore_version(s, lamp, to_version=1, expected_version=1,
                                                 user_id=None))
    assert isinstance(stale, svc.Conflict)
    sql.execute("UPDATE products SET version = 3, price = 20 WHERE id = %s", lamp)
    with pytest.raises(svc.RestoreError):
        run_db(lambda s: svc.restore_version(s, lamp, to_version=1, expected_version=3,
                                             user_id=None))


def _bulk(run_db, ids, action, user=None):
    return run_db(lambda s: svc.bulk_update(s, ids, action, user_id=user))


def test_bulk_price_changes_round_to_cents_never_go_below_zero_and_record_history(
        run_db, sql, category):
    user = sql.user("ed@example.com")
    ids = [sql.product(f"P{i}", category_id=category, price=price)
           for i, price in enumerate(["10.00", "0.99", "3.33"])]
    result = _bulk(run_db, ids, svc.BulkAction("adjust_price", percent=Decimal("-15")), user)
    assert (result.matched, result.changed) == (3, 3)
    prices = [sql.scalar("SELECT price FROM products WHERE id = %s", i) for i in ids]
    assert prices == [Decimal("8.50"), Decimal("0.84"), Decimal("2.83")]
    result = _bulk(run_db, ids, svc.BulkAction("adjust_price", amount=Decimal("-1.00")), user)
    prices = [sql.scalar("SELECT price FROM products WHERE id = %s", i) for i in ids]
    assert prices == [Decimal("7.50"), Decimal("0.00"), Decimal("1.83")]
    history = revisions(sql, ids[1])
    assert [h["source"] for h in history] == ["bulk", "bulk"]
    assert history[1]["changes"] == {"price": {"before": "0.84", "after": "0.00"}}
    assert history[1]["user_id"] == user and history[1]["version"] == 3


def test_bulk_skips_rows_already_in_the_asked_state(run_db, sql, category):
    on = sql.product("On", category_id=category)
    off = sql.product("Off", category_id=category, is_active=False)
    result = _bulk(run_db, [on, off, 999], svc.BulkAction("activate"))
    assert (result.matched, result.changed, result.changed_ids) == (2, 1, [off])
    assert sql.scalar("SELECT version FROM products WHERE id = %s", on) == 1
    assert revisions(sql, off)[0]["changes"] == {"is_active": {"before": False, "after": True}}


def test_bulk_category_change_checks_the_category(run_db, sql, category):
    other = sql.category("Garden")
    ids = [sql.product(f"P{i}", category_id=category) for i in range(2)]
    assert _bulk(run_db, ids, svc.BulkAction("set_category", category_id=other)).changed == 2
    assert {r["category_id"] for r in sql.all("SELECT category_id FROM products")} == {other}
    with pytest.raises(svc.BulkError, match="category does not exist"):
        _bulk(run_db, ids, svc.BulkAction("set_category", category_id=9999))


def test_a_bulk_action_that_fails_on_one_row_changes_no_row(run_db, sql, category):
    ids = [sql.product(f"P{i}", category_id=category, price="10.00") for i in range(4)]
    ids.append(sql.product("Dear", category_id=category, price="99999999.00"))
    with pytest.raises(svc.BulkError, match="more than 99,999,999.99. Nothing was changed"):
        _bulk(run_db, ids, svc.BulkAction("adjust_price", percent=Decimal("10")))
    assert {r["price"] for r in sql.all("SELECT price FROM products WHERE name LIKE 'P%%'")} \
        == {Decimal("10.00")}
    assert sql.scalar("SELECT max(version) FROM products") == 1
    assert sql.scalar("SELECT count(*) FROM product_revisions") == 0


@pytest.mark.parametrize(("action", "message"), [
    (svc.BulkAction("adjust_price"), "either a percentage or an amount"),
    (svc.BulkAction("adjust_price", percent=Decimal("-101")), "between -100 and 1000"),
    (svc.BulkAction("adjust_price", percent=Decimal(1), amount=Decimal(1)), "either"),
    (svc.BulkAction("adjust_price", amount=Decimal("100000000")), "The amount must be"),
    (svc.BulkAction("set_category"), "Choose a category."),
])
def test_bulk_action_arguments_are_bounded(run_db, sql, category, action, message):
    product = sql.product("Lamp", category_id=category)
    with pytest.raises(svc.BulkError, match=message):
        _bulk(run_db, [product], action)
    assert sql.scalar("SELECT version FROM products") == 1


def test_revisions_are_json_with_the_documented_shapes(run_db, sql, lamp):
    run_db(lambda s: svc.update_product(s, lamp, {"is_active": False, "stock": 0},
                                        expected_version=1, user_id=None, source="api"))
    changes = sql.scalar("SELECT changes::text FROM product_revisions")
    assert json.loads(changes) == {"is_active": {"before": True, "after": False},
                                   "stock": {"before": 5, "after": 0}}


def test_slugs_count_past_the_highest_numbered_sibling(run_db, sql, category):
    for slug in ("lamp", "lamp-2", "lamp-12", "lamp-shade", "lamp-3x"):
        sql.product(slug, category_id=category, slug=slug)
    made = run_db(lambda s: svc.create_product(
        s, {"name": "LAMP!", "price": "1", "category_id": category}, user_id=None))
    assert made.slug == "lamp-13"
    assert slugify("Crème brûlée — 2 × 3") == "creme-brulee-2-3"
    assert slugify("¿?") == "product"
