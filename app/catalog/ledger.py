"""The precomputed facet ledger: ``catalog_facet_counts``, kept by triggers (migration 0002),
answers broad filters (active products, no text, no price or attribute filter; any categories,
in or out of stock) exactly and without scanning ``products``.

The pair ledger ``catalog_facet_pairs`` (migration 0018) answers "broad + one attribute facet"
the same way (:func:`pair_facet`, :func:`pairs_select`).

Used by the page query (:func:`precomputed_total`, the total of a broad filter) and by the
facet counts (:func:`ledger_select`, their branch for precomputed sets). :func:`count_row` is
the row shape every branch of the facet counts' ``UNION ALL`` shares, the ledger's included.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Numeric,
    Select,
    Text,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from .filters import BoundFilter, FilterShape, ProductFilter, bind_filter
from .tree import CategoryTree

__all__ = ["LEDGER", "count_row", "ledger_counts", "ledger_select", "ledger_total_select",
           "ledger_values", "pair_facet", "pairs_branch", "pairs_select", "precomputed_total"]

#: The ``branch`` of the ledger's rows in the facet counts' UNION ALL.
LEDGER = "_ledger"


async def precomputed_total(session: AsyncSession, filt: ProductFilter, tree: CategoryTree) -> int:
    """Exact number of products matching a broad filter (see :meth:`ProductFilter.is_broad`)."""
    if not filt.is_broad():
        raise ValueError("precomputed_total needs a broad filter")
    bound = bind_filter(filt, tree)
    return int(await session.scalar(_ledger_total(bound.shape),
                                    ledger_values(bound)))



def count_row(branch: str, facet: Any, value: Any, category_id: Any, n: Any,
              lo: Any = None, hi: Any = None) -> list[ColumnElement[Any]]:
    """One output row shape for every branch of the facet counts' UNION ALL."""
    def typed(expression: Any, type_: Any) -> ColumnElement[Any]:
        if expression is None:
            return cast(null(), type_)
        if isinstance(expression, str):
            return literal(expression, type_)
        return cast(expression, type_)

    return [
        literal(branch, Text).label("branch"),
        typed(facet, Text).label("facet"),
        typed(value, Text).label("value"),
        typed(category_id, Integer).label("category_id"),
        typed(n, BigInteger).label("n"),
        typed(lo, Numeric).label("lo"),
        typed(hi, Numeric).label("hi"),
    ]



def _ledger_conditions(shape: FilterShape, *,
                       facet: str | None = None) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if shape.stock is not None:
        out.append(literal_column("in_stock").is_(shape.stock == "in"))
    if facet is not None:
        out.append(literal_column("facet") == facet)
        if shape.category:
            out.append(literal_column("category_id") == _category_list())
    return out


def _category_list() -> ColumnElement[Any]:
    """``ANY(:category_list)``: the selected category ids, as one array parameter."""
    return any_(bindparam("category_list", type_=ARRAY(Integer)))


def ledger_values(bound: BoundFilter) -> dict[str, Any]:
    """The parameters of the ledger's statements (the selected category ids, if any)."""
    return {"category_list": bound.category_ids} if bound.category_ids is not None else {}


def ledger_select(shape: FilterShape) -> Select[Any]:
    """The ledger summed per facet value: categories over all categories (the category facet
    ignores its own selection), other facets over the selected categories only."""
    return _summed(shape, LEDGER, "catalog_facet_counts", *_ledger_conditions(shape) or [true()])


def _summed(shape: FilterShape, branch: str, table: str,
            *where: ColumnElement[bool]) -> Select[Any]:
    """A ledger table's rows matching ``where`` summed per facet value, as ``branch``:
    categories over all categories, other facets over the selected categories only."""
    facet: ColumnElement[Any] = literal_column("facet")
    is_category = facet == "category"
    category_id = case((is_category, literal_column("category_id")), else_=null())
    value = case((is_category, null()), else_=literal_column("value"))
    n: ColumnElement[Any] = func.sum(literal_column("n"))
    if shape.category:
        n = n.filter(or_(is_category, literal_column("category_id") == _category_list()))
    statement = select(*count_row(branch, facet, value, category_id, n))
    statement = statement.select_from(text(table)).where(*where)
    return statement.group_by(facet, value, category_id).having(n != 0)


def pair_facet(filt: ProductFilter, skip: frozenset[str]) -> str | None:
    """The attribute facet that, with a broad filter, makes up ``filt`` minus the ``skip``
    facets' conditions - "the whole catalog, a department or in stock, and one brand" (any
    number of its values) - which the pair ledger answers (:func:`pairs_select`); None when
    that set is broad itself or needs more than one attribute facet, a price or text."""
    left = [f for f in ("brand", "colour", "size") if f not in skip and filt.values(f)]
    if len(left) != 1 or not filt.is_broad(ignoring=skip | {left[0]}):
        return None
    return left[0]


def pairs_branch(by: str) -> str:
    """The ``branch`` of the pair ledger's rows of the values of ``by`` (every set paired on
    ``by`` reads them, see :func:`pairs_select`)."""
    return f"{LEDGER}_pairs_{by}"


def pairs_select(shape: FilterShape, by: str) -> Select[Any]:
    """The pair ledger (``catalog_facet_pairs``, migration 0018) summed per facet value over the
    products carrying one of the selected values of ``by`` (parameter ``<by>_values``): as
    :func:`ledger_select`, categories over all categories, other facets over the selected
    categories only. A product carries one value of each attribute, so the values' rows add
    up to "any of them"."""
    return _summed(
        shape, pairs_branch(by), "catalog_facet_pairs",
        literal_column("by_facet") == literal(by, Text),
        literal_column("by_value") == any_(bindparam(f"{by}_values", type_=ARRAY(Text))),
        *_ledger_conditions(shape))


def ledger_total_select(shape: FilterShape) -> Select[Any]:
    """The number of products a broad filter of ``shape`` matches, as a statement (parameter
    ``category_list`` when categories are selected; see :func:`ledger_values`)."""
    return _ledger_total(shape)


@lru_cache(maxsize=16)
def _ledger_total(shape: FilterShape) -> Select[Any]:
    return select(func.coalesce(func.sum(literal_column("n")), 0)).select_from(
        text("catalog_facet_counts")
    ).where(*_ledger_conditions(shape, facet="category"))



def ledger_counts(ledger: list[Any], facet: str) -> dict[Any, int]:
    """Category id or value -> count, from the rows of :func:`ledger_select`."""
    key = 3 if facet == "category" else 2  # category_id or value column
    return {row[key]: int(row[4]) for row in ledger if row[1] == facet}
