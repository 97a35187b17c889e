"""What the editor table shows: the editor's filters, read from the query string, turned into
the catalog's own query (:mod:`app.catalog.query`), so that the editor table and the shopper
catalog agree on what a search or a category means.

Editors also see inactive products (``status``: all / active / inactive) and can pick
out-of-stock ones. :class:`EditorFilters` is also what bulk actions use for "all matching the
filter", so a bulk action touches exactly the rows the editor was looking at.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from ..catalog.query import (
    CategoryTree,
    ProductFilter,
    Sort,
    Total,
    count_products,
    filter_conditions,
    find_products,
    load_category_tree,
)
from ..data.models import Product

PER_PAGE = 50
MAX_QUERY = 200
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


MAX_PRICE = Decimal("99999999.99")


def _price(value: str) -> Decimal | None:
    """A price bound from the query string, or None if it is not a sensible one."""
    if not value or len(value) > 14:
        return None
    try:
        price = Decimal(value)
    except InvalidOperation:
        return None
    return price if price.is_finite() and 0 <= price <= MAX_PRICE else None


@dataclass(frozen=True)
class EditorFilters:
    q: str = ""
    category: str = ""
    brand: str = ""
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    status: str = "all"
    stock: str = "all"
    sort: str = "newest"
    page: int = 1

    FIELDS = ("q", "category", "brand", "min_price", "max_price", "status", "stock", "sort",
              "page")

    @classmethod
    def from_args(cls, args: Mapping[str, Any], prefix: str = "") -> EditorFilters:
        """Read (and bound) the filters; unknown values fall back to the defaults."""

        def arg(name: str) -> str:
            value = args.get(prefix + name)
            return value.replace("\x00", "").strip() if isinstance(value, str) else ""

        page = arg("page")
        category = arg("category")
        return cls(
            q=" ".join(arg("q").split())[:MAX_QUERY],
            category=category if len(category) <= 140 else "",
            brand=" ".join(arg("brand").split())[:100],
            min_price=_price(arg("min_price")),
            max_price=_price(arg("max_price")),
            status=arg("status") if arg("status") in STATUSES else "all",
            stock=arg("stock") if arg("stock") in STOCKS else "all",
            sort=arg("sort") if arg("sort") in SORTS else "newest",
            page=max(1, min(int(page), MAX_PAGE)) if page.isdigit() and len(page) < 7 else 1,
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments (defaults left out), for links and hidden inputs."""
        current = replace(self, **changes)
        defaults = EditorFilters()
        return {name: getattr(current, name) for name in self.FIELDS
                if getattr(current, name) != getattr(defaults, name)}

    def product_filter(self) -> ProductFilter:
        """The catalog query's filter: editors include inactive products."""
        return ProductFilter(
            q=self.q,
            categories=(self.category,) if self.category else (),
            brands=(self.brand,) if self.brand else (),
            min_price=self.min_price,
            max_price=self.max_price,
            stock=None if self.stock == "all" else self.stock,  # type: ignore[arg-type]
            include_inactive=True,
            active={"all": None, "active": True, "inactive": False}[self.status],
        )


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
    filt = filters.product_filter()
    total = await count_products(session, filt, tree=tree)
    pages = max(1, math.ceil(total.value / PER_PAGE))
    page = min(filters.page, pages, MAX_PAGE)
    items = await find_products(session, filt, sort=Sort(filters.sort), limit=PER_PAGE,
                                offset=(page - 1) * PER_PAGE, tree=tree)
    if not items and page > 1 and not total.exact:  # the estimate overshot: show the last page
        items = await find_products(session, filt, sort=Sort(filters.sort), limit=PER_PAGE,
                                    offset=0, tree=tree)
        page = 1
    return ProductPage(items=items, total=total, page=page, per_page=PER_PAGE)


def _where(filters: EditorFilters, tree: CategoryTree):
    conditions = filter_conditions(filters.product_filter(), tree)
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
