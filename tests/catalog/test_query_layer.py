"""The query layer the editor table and the API reuse: inactive products, out-of-stock filters,
counts, keyset pages and cursors."""

from decimal import Decimal

import pytest

from app.catalog.filters import ProductFilter, bind_filter, split_prefix
from app.catalog.ordering import Sort, decode_cursor, encode_cursor, keyset
from app.catalog.page_query import count_products, find_products
from app.catalog.tree import load_category_tree


def found(run_db, filt, **kwargs):
    async def go(session):
        return [p.name for p in await find_products(session, filt, **kwargs)]

    return run_db(go)


def test_shoppers_never_see_inactive_products_editors_can(run_db, shop):
    assert "Hidden Chair" not in found(run_db, ProductFilter(), limit=50)
    assert "Hidden Chair" in found(run_db, ProductFilter(include_inactive=True), limit=50)
    assert found(run_db, ProductFilter(include_inactive=True, active=False)) == ["Hidden Chair"]
    assert "Hidden Chair" not in found(run_db, ProductFilter(include_inactive=True, active=True),
                                       limit=50)


def test_inactive_only_needs_include_inactive():
    with pytest.raises(ValueError):
        ProductFilter(active=False)
    with pytest.raises(ValueError):
        ProductFilter(stock="some")


def test_stock_filter_in_and_out(run_db, shop):
    assert set(found(run_db, ProductFilter(stock="out"))) == {"Linen Floor Lamp",
                                                             "Oak Dining Chair"}
    assert len(found(run_db, ProductFilter(stock="in"), limit=50)) == 5


def test_count_is_exact_for_small_sets_and_an_estimate_beyond_the_limit(run_db, shop):
    async def count(session, filt, **kwargs):
        return await count_products(session, filt, **kwargs)

    assert run_db(lambda s: count(s, ProductFilter())).value == 7
    assert run_db(lambda s: count(s, ProductFilter(include_inactive=True))).value == 8
    exact = run_db(lambda s: count(s, ProductFilter(brands=("Nordhavn",))))
    assert (exact.value, exact.exact) == (3, True)
    capped = run_db(lambda s: count(s, ProductFilter(q="lamp"), exact_limit=2))
    assert not capped.exact and capped.value >= 3


@pytest.mark.parametrize("sort", [Sort.NEWEST, Sort.PRICE_ASC, Sort.PRICE_DESC, Sort.NAME,
                                  Sort.UPDATED])
def test_keyset_pages_continue_exactly_where_offset_pages_would(run_db, shop, sort):
    filt = ProductFilter(include_inactive=True)

    async def go(session):
        everything = [p.id for p in await find_products(session, filt, sort=sort, limit=50)]
        walked, after = [], None
        while True:
            page = await find_products(session, filt, sort=sort, limit=3, after=after)
            if not page:
                break
            walked += [p.id for p in page]
            after = decode_cursor(encode_cursor(page[-1], sort), sort)
            assert after == keyset(page[-1], sort)
        return everything, walked

    everything, walked = run_db(go)
    assert walked == everything and len(everything) == 8


@pytest.mark.parametrize("cursor", ["", "garbage", "eyJhIjoxfQ", "WyJuYW1lIixbMSwyXV0"])
def test_bad_cursors_are_refused(cursor):
    with pytest.raises(ValueError):
        decode_cursor(cursor, Sort.NAME)


def test_relevance_needs_text_and_has_no_keyset(run_db, shop):
    assert found(run_db, ProductFilter(), sort=Sort.RELEVANCE, limit=1) == ["Oak Dining Chair"]
    with pytest.raises(ValueError):
        keyset(object(), Sort.RELEVANCE)


def test_price_order_across_several_categories_is_one_merged_order(run_db, shop):
    # (merged from one index range per category)
    filt = ProductFilter(categories=("lighting-floor-lamps", "furniture-chairs"))
    assert found(run_db, filt, sort=Sort.PRICE_ASC) == [
        "Linen Floor Lamp", "Oak Reading Lamp", "Brass Floor Lamp", "Oak Dining Chair",
        "Leather Lounge Chair"]
    assert found(run_db, filt, sort=Sort.PRICE_DESC, limit=2, offset=1) == [
        "Oak Dining Chair", "Brass Floor Lamp"]
    assert found(run_db, ProductFilter(categories=("lighting",), min_price=Decimal("50")),
                 sort=Sort.PRICE_ASC) == ["Linen Floor Lamp", "Oak Reading Lamp",
                                          "Brass Floor Lamp"]


@pytest.mark.parametrize(("q", "expected"), [
    ("brass la", ("brass", "la")),
    ("lamp", ("", "lamp")),
    ("lamp ", ("lamp", None)),
    ("oak -tab", ("oak -tab", None)),
    ('"floor la', ('"floor la', None)),
    ("lamp or cha", ("lamp or cha", None)),
    ("o'bri", ("o'", "bri")),
    ("lamp:*&!|", ("", "lamp")),
    ("a", ("a", None)),
    ("!!! ???", ("", None)),
    ("", ("", None)),
])
def test_prefix_split_keeps_tsquery_syntax_out(q, expected):
    assert split_prefix(q) == expected


@pytest.mark.parametrize(("first", "second", "first_names", "second_names"), [
    (ProductFilter(q="brass"), ProductFilter(q="oak"),
     ["Brass Floor Lamp", "Brass Table Lamp"], ["Oak Dining Chair", "Oak Reading Lamp"]),
    (ProductFilter(q="brass la"), ProductFilter(q="oak re"),
     ["Brass Floor Lamp", "Brass Table Lamp"], ["Oak Reading Lamp"]),
    (ProductFilter(brands=("Halden",)), ProductFilter(brands=("Mossgrove",)),
     ["Linen Floor Lamp", "Oak Reading Lamp"], ["Ceramic Table Lamp"]),
    (ProductFilter(colours=("black", "gold")), ProductFilter(colours=("white", "natural")),
     ["Brass Floor Lamp", "Brass Table Lamp", "Leather Lounge Chair"],
     ["Ceramic Table Lamp", "Linen Floor Lamp", "Oak Dining Chair", "Oak Reading Lamp"]),
    (ProductFilter(categories=("furniture-chairs",), max_price=Decimal("200")),
     ProductFilter(categories=("lighting-table-lamps",), max_price=Decimal("40")),
     ["Oak Dining Chair"], ["Ceramic Table Lamp"]),
    # a minimum, a maximum or both: one shape (the unset bound is NULL)
    (ProductFilter(categories=("lighting",), min_price=Decimal("50")),
     ProductFilter(categories=("lighting",), max_price=Decimal("45")),
     ["Brass Floor Lamp", "Linen Floor Lamp", "Oak Reading Lamp"],
     ["Brass Table Lamp", "Ceramic Table Lamp"]),
    (ProductFilter(q="lamp", min_price=Decimal("40"), max_price=Decimal("90")),
     ProductFilter(q="lamp", max_price=Decimal("40")),
     ["Brass Table Lamp", "Linen Floor Lamp"], ["Ceramic Table Lamp"]),
])
def test_filters_of_one_shape_share_sql_but_never_values(run_db, shop, first, second,
                                                          first_names, second_names):
    """The SQL is built once per shape of filter and reused with each filter's own values:
    alternating two filters of one shape, each still finds exactly its own products."""
    async def go(session):
        tree = await load_category_tree(session)
        assert bind_filter(first, tree).shape == bind_filter(second, tree).shape
        return [sorted(p.name for p in await find_products(session, filt, tree=tree, limit=50))
                for filt in (first, second, first)]

    assert run_db(go) == [first_names, second_names, first_names]


def test_a_rolled_back_category_change_is_never_served_from_the_kept_tree(run_db, shop, sql):
    """A transaction sees its own category changes; once rolled back, nobody sees them."""
    from app.data.models import Category

    async def create_and_look(session):
        session.add(Category(name="Doomed", slug="doomed", parent_id=None))
        await session.flush()
        return "doomed" in (await load_category_tree(session)).by_slug

    async def look(session):
        return "doomed" in (await load_category_tree(session)).by_slug

    assert run_db(look) is False
    assert run_db(create_and_look) is True  # rolled back by run_db
    assert run_db(look) is False
    sql.category("Kept", "kept")  # committed elsewhere: the next read sees it
    assert "kept" in run_db(lambda session: load_category_tree(session)).by_slug


def test_bound_conditions_of_two_filters_combine_in_one_statement(run_db, shop):
    """``where()`` hands out conditions with their values inside (for a bulk action's own
    statement): two filters' conditions side by side keep their own values."""
    from sqlalchemy import or_, select

    from app.catalog.filters import where
    from app.data.models import Product

    async def go(session):
        tree = await load_category_tree(session)
        either = or_(where(ProductFilter(q="oak", brands=("Halden",)), tree),
                     where(ProductFilter(q="brass", brands=("Nordhavn",)), tree))
        return sorted((await session.scalars(select(Product.name).where(either))).all())

    assert run_db(go) == ["Brass Floor Lamp", "Brass Table Lamp", "Oak Reading Lamp"]


def test_bound_conditions_of_one_price_bound_leave_the_other_open(run_db, shop):
    """A bulk action over "lighting from £50" or "lighting up to £45": the unset bound is
    written in as NULL (one filter shape for any bounds) and limits nothing."""
    from sqlalchemy import select

    from app.catalog.filters import where
    from app.data.models import Product

    async def go(session):
        tree = await load_category_tree(session)
        found = []
        for filt in (ProductFilter(categories=("lighting",), min_price=Decimal("50")),
                     ProductFilter(categories=("lighting",), max_price=Decimal("45"))):
            statement = select(Product.name).where(where(filt, tree))
            found.append(sorted((await session.scalars(statement)).all()))
        return found

    assert run_db(go) == [["Brass Floor Lamp", "Linen Floor Lamp", "Oak Reading Lamp"],
                          ["Brass Table Lamp", "Ceramic Table Lamp"]]
