"""The merge rules (app.data.merge), pure: what merges, what conflicts, what is kept."""

from __future__ import annotations

from app.data.merge import changed, three_way, without_base

BASE = {"name": "Brass Lamp", "price": "10.00", "stock": 5, "is_active": True,
        "category_id": 1, "attributes.brand": "Halden", "attributes.colour": "black"}


def state(**changes):
    return {**BASE, **{key.replace("__", "."): value for key, value in changes.items()}}


def test_disjoint_changes_merge_and_keep_both():
    merge = three_way(BASE, state(name="Big Lamp"), state(attributes__brand="Nordlys"))
    assert merge.clean and merge.conflicts == {}
    assert merge.mine == {"name": "Big Lamp"}
    assert merge.theirs == {"attributes.brand": "Nordlys"}
    assert merge.theirs_kept == ["attributes.brand"]
    assert merge.result() == state(name="Big Lamp", attributes__brand="Nordlys")


def test_the_same_field_changed_to_the_same_value_is_agreed_not_a_conflict():
    merge = three_way(BASE, state(price="12.00", stock=7), state(price="12.00"))
    assert merge.clean
    assert merge.result() == state(price="12.00", stock=7)
    assert merge.theirs_kept == []  # it is my change too


def test_the_same_field_changed_to_different_values_is_the_only_conflict():
    merge = three_way(BASE, state(name="Big Lamp", price="12.00"),
                      state(price="15.00", attributes__brand="Nordlys"))
    assert list(merge.conflicts) == ["price"]
    conflict = merge.conflicts["price"]
    assert (conflict.base, conflict.mine, conflict.theirs) == ("10.00", "12.00", "15.00")
    # Undecided, the conflict keeps their value; my other change and their other one stay.
    assert merge.result() == state(name="Big Lamp", price="15.00", attributes__brand="Nordlys")
    # "Keep mine" overrides only the conflicting field I changed: never their brand.
    assert merge.result(keep_mine={"price"}) == state(name="Big Lamp", price="12.00",
                                                      attributes__brand="Nordlys")


def test_keep_mine_for_a_field_i_did_not_change_does_nothing():
    merge = three_way(BASE, state(price="12.00"), state(price="15.00", stock=0))
    assert merge.result(keep_mine={"price", "stock"})["stock"] == 0


def test_restore_after_later_edits_conflicts_only_where_the_later_edit_touched():
    # The history page was opened at version 3 (BASE); the editor restores version 1, whose
    # name and price differ. Meanwhile a colleague changed the price and the stock.
    version_1 = state(name="Lamp", price="8.00")
    merge = three_way(BASE, version_1, state(price="15.00", stock=2))
    assert list(merge.conflicts) == ["price"]
    assert merge.conflicts["price"].mine == "8.00"
    assert merge.result() == state(name="Lamp", price="15.00", stock=2)
    assert merge.result(keep_mine={"price"}) == state(name="Lamp", price="8.00", stock=2)


def test_a_restore_opened_at_the_current_version_is_the_whole_restore():
    version_1 = state(name="Lamp", price="8.00")
    merge = three_way(BASE, version_1, BASE)
    assert merge.clean and merge.result() == version_1


def test_a_bulk_change_racing_a_row_edit_merges_like_any_change():
    # A bulk +10 % changed the price after the row was opened; the row save changed the name.
    after_bulk = state(price="11.00")
    row_save = state(name="Big Lamp")  # the form resends the price it was opened with
    merge = three_way(BASE, row_save, after_bulk)
    assert merge.clean and merge.result() == state(name="Big Lamp", price="11.00")
    # The row editor also changed the price: that is the one field to decide.
    merge = three_way(BASE, state(name="Big Lamp", price="9.50"), after_bulk)
    assert list(merge.conflicts) == ["price"]


def test_a_bulk_change_to_the_same_value_as_the_row_is_no_conflict():
    merge = three_way(BASE, state(is_active=False), state(is_active=False))
    assert merge.clean and merge.mine == {"is_active": False}


def test_an_attribute_removed_on_one_side_merges_with_a_change_on_the_other():
    merge = three_way(BASE, state(attributes__colour=None), state(attributes__brand="Nordlys"))
    assert merge.result() == state(attributes__colour=None, attributes__brand="Nordlys")


def test_without_a_base_every_sent_field_that_differs_is_a_conflict():
    merge = without_base({"price": "12.00", "stock": 5}, BASE)
    assert list(merge.conflicts) == ["price"]
    assert merge.result() == BASE
    assert merge.result(keep_mine={"price"}) == state(price="12.00")


def test_changed_treats_a_missing_field_as_none():
    assert changed({"a": 1}, {"a": 1, "b": None}) == {}
    assert changed({"a": 1}, {"b": 2}) == {"a": None, "b": 2}
