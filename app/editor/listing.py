"""What the editor table shows: the editor's filters, read from the query string into the
catalog's listing query (:class:`~app.catalog.listing_query.ListingQuery`) and run by the
catalog's own query layer (:mod:`app.catalog.page_query`), so that the editor table and the
shopper catalog agree on what a search or a category means.

Editors also see inactive products (``status``: all / active / inactive) and can pick
out-of-stock ones. :class:`EditorFilters` is also what bulk actions use for "all matching the
filter", so a bulk action touches exactly the rows the editor was looking at. The editor's
policy for a bad value is the default instead: the filter form never answers with an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, ValidationError
from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from ..catalog.filters import ProductFilter, filter_conditions
from ..catalog.listing_query import MAX_ATTRIBUTE_VALUE, MAX_Q, ListingQuery, Stock
from ..catalog.ordering import Sort
from ..catalog.page_query import Total, count_products, find_products
from ..catalog.tree import CategoryTree, load_category_tree
from ..data.models import Product
from ..web import parsing

PER_PAGE = 50
MAX_PAGE = 10_000
SORTS = {
    "newest": "Newest first",
    "updated": "Recently changed",
    "name": "Name A-Z",
    "price_asc": "Price, low to high",
    "price_desc": "Price, high to low",
    "relevance": "Best match (with a search)",
}
STATUSES = {"all": "Active and inactive", "active": "Active only", "inactive": "Inactive only"}
STOCKS = {"all": "Any stock", "out": "Out of stock", "in": "In stock"}
_ACTIVE = {"all": None, "active": True, "inactive": False}


def _stock_choice(value: Any) -> Any:
    """The stock menu's value: "all" (or blank) is no stock filter."""
    return None if value in ("", "all") else value


class EditorFilters(ListingQuery):
    """The editor table's listing query: one category and one brand (the form's fields),
    ``status`` for active/inactive, ``stock`` from a menu, fifty products a page."""

    stock: Annotated[Stock, BeforeValidator(_stock_choice)] = None
    status: Literal["all", "active", "inactive"] = "all"
    sort: Sort | None = Sort.NEWEST
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = PER_PAGE

    #: Query-string names of the editor's filters, in the order links carry them.
    FIELDS: ClassVar[tuple[str, ...]] = (
        "q", "category", "brand", "min_price", "max_price", "status", "stock", "sort", "page")

    @classmethod
    def from_args(cls, args: Mapping[str, Any], prefix: str = "") -> EditorFilters:
        """Read (and bound) the filters; a value the listing query refuses is the default."""

        def arg(name: str) -> str:
            value = args.get(prefix + name)
            return value.replace("\x00", "").strip() if isinstance(value, str) else ""

        page = arg("page")
        raw: dict[str, Any] = {
            "q": " ".join(arg("q").split())[:MAX_Q],
            "category": [arg("category")],
            "brand": [" ".join(arg("brand").split())[:MAX_ATTRIBUTE_VALUE]],
            "min_price": arg("min_price"),
            "max_price": arg("max_price"),
            "status": arg("status"),
            "stock": arg("stock"),
            "sort": arg("sort"),
            "page": parsing.page(page, maximum=MAX_PAGE),
        }
        while True:
            try:
                return cls.model_validate(raw)
            except ValidationError as error:
                refused = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
                if not refused & raw.keys():  # pragma: no cover - every field has a default
                    return cls()
                for name in refused:
                    raw.pop(name, None)

    @property
    def category(self) -> str:
        return self.categories[0] if self.categories else ""

    @property
    def brand(self) -> str:
        return self.brands[0] if self.brands else ""

    @property
    def stock_choice(self) -> str:
        """The stock menu's value (``STOCKS``)."""
        return self.stock or "all"

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments (defaults left out), for links and hidden inputs."""
        current = self.model_copy(update=changes)
        defaults = EditorFilters()
        return {name: getattr(current, name) for name in self.FIELDS
                if getattr(current, name) != getattr(defaults, name)}

    def filter(self) -> ProductFilter:
        """The catalog query's filter: editors include inactive products (``status``)."""
        return self.product_filter(include_inactive=True, active=_ACTIVE[self.status])


@dataclass(frozen=True)
class ProductPage:
    items: list[Product]
    total: Total
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, min(MAX_PAGE, math.ceil(self.total.value / self.per_page)))


async def list_products(session: AsyncSession, filters: EditorFilters,
                        tree: CategoryTree | None = None) -> ProductPage:
    tree = tree or await load_category_tree(session)
    filt = filters.filter()
    total = await count_products(session, filt, tree=tree)
    pages = max(1, math.ceil(total.value / PER_PAGE))
    page = min(filters.page, pages, MAX_PAGE)
    items = await find_products(session, filt, sort=filters.sort, limit=PER_PAGE,
                                offset=(page - 1) * PER_PAGE, tree=tree)
    if not items and page > 1 and not total.exact:  # the estimate overshot: show the last page
        items = await find_products(session, filt, sort=filters.sort, limit=PER_PAGE,
                                    offset=0, tree=tree)
        page = 1
    return ProductPage(items=items, total=total, page=page, per_page=PER_PAGE)


def _where(filters: EditorFilters, tree: CategoryTree) -> ColumnElement[bool]:
    conditions = filter_conditions(filters.filter(), tree)
    return and_(*conditions) if conditions else true()


async def matching_ids(session: AsyncSession, filters: EditorFilters, limit: int) -> list[int]:
    """Ids of the products matching ``filters`` (at most ``limit``, in id order)."""
    tree = await load_category_tree(session)
    return list((await session.scalars(
        select(Product.id).where(_where(filters, tree)).order_by(Product.id).limit(limit)
    )).all())


async def count_matching(session: AsyncSession, filters: EditorFilters, cap: int) -> int:
    """Exactly how many products match, counting at most ``cap + 1``."""
    tree = await load_category_tree(session)
    capped = select(Product.id).where(_where(filters, tree)).limit(cap + 1).subquery()
    return await session.scalar(select(func.count()).select_from(capped)) or 0
