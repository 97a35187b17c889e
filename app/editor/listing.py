"""What the editor table shows: the editor's filters, read from the query string into the
catalog's listing query (:class:`~app.catalog.listing_query.ListingQuery`) and run by the
catalog's own query layer (:mod:`app.catalog.page_query`), so that the editor table and the
shopper catalog agree on what a search or a category means.

Editors also see inactive products (``status``: all / active / inactive) and can pick
out-of-stock ones. :class:`EditorFilters` is also what bulk actions use for "all matching the
filter", so a bulk action touches exactly the rows the editor was looking at. The editor's
policy for a bad value is the default instead: the filter form never answers with an error, but
the table says which value it ignored (:attr:`EditorFilters.notices`).

Counts are the catalog's: exact up to :data:`~app.catalog.page_query.EXACT_COUNT_LIMIT` matches,
else the planner's estimate, shown rounded as "about N" exactly as the shopper side shows it.
Pages are numbered (the catalog's :class:`~app.catalog.listing.Pagination` window); a page past
the end is the last page, with a notice; an estimate that promised more pages than there are is
counted exactly once the editor reaches the end.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, ValidationError
from sqlalchemy import ColumnElement, RowMapping, and_, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from ..catalog.filters import ProductFilter, filter_conditions
from ..catalog.listing import Pagination
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
#: Sortable column headers: column -> (sort when first clicked, sort when clicked again).
SORT_COLUMNS = {"name": (Sort.NAME, Sort.NAME), "price": (Sort.PRICE_ASC, Sort.PRICE_DESC)}
#: ``aria-sort`` of a column header under each sort.
SORT_DIRECTIONS = {Sort.NAME: ("name", "ascending"), Sort.PRICE_ASC: ("price", "ascending"),
                   Sort.PRICE_DESC: ("price", "descending")}
#: What the table says about a query-string value it ignored.
IGNORED = {"sort": "That sort order is not known, so the newest products come first.",
           "status": "That status is not known, so active and inactive products are shown.",
           "stock": "That stock choice is not known, so any stock is shown.",
           "min_price": "The lowest price is not a price, so it is not applied.",
           "max_price": "The highest price is not a price, so it is not applied."}
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
    #: Names of the values :meth:`from_args` ignored (see :data:`IGNORED`).
    _ignored: frozenset[str] = PrivateAttr(default=frozenset())

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
        ignored: set[str] = set()
        while True:
            try:
                filters = cls.model_validate(raw)
            except ValidationError as error:
                refused = {str(e["loc"][0]) for e in error.errors() if e["loc"]}
                if not refused & raw.keys():  # pragma: no cover - every field has a default
                    return cls()
                for name in refused:
                    if raw.pop(name, None) not in ("", [""]):
                        ignored.add(name)  # typed or linked, not merely left empty
                continue
            filters._ignored = frozenset(ignored)
            return filters

    @property
    def notices(self) -> list[str]:
        """What the table says about the values it ignored."""
        return [IGNORED[name] for name in IGNORED if name in self._ignored]

    @property
    def sort_column(self) -> tuple[str, str] | None:
        """(column, ``aria-sort`` value) of the sorted column header, if one is."""
        return SORT_DIRECTIONS.get(Sort(self.sort)) if self.sort else None

    def sort_args(self, column: str) -> dict[str, Any]:
        """Query-string arguments for a click on ``column``'s header: its first order, or the
        other one when it is sorted already; back to the first page."""
        first, second = SORT_COLUMNS[column]
        sort = second if self.sort == first and first != second else first
        return self.args(sort=sort, page=1)

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
    pagination: Pagination
    #: What the table says about the page asked for (past the end, ...).
    notices: tuple[str, ...] = ()

    @property
    def total(self) -> Total:
        return self.pagination.total

    @property
    def page(self) -> int:
        return self.pagination.page

    @property
    def pages(self) -> int:
        return self.pagination.last_page

    @property
    def per_page(self) -> int:
        return self.pagination.per_page


def _paginate(page: int, total: Total) -> Pagination:
    last = max(1, min(MAX_PAGE, math.ceil(total.value / PER_PAGE)))
    return Pagination(min(max(page, 1), last), PER_PAGE, total, last)


def _past_the_end(pages: int) -> str:
    return (f"There {'is' if pages == 1 else 'are'} only {pages:,} page"
            f"{'' if pages == 1 else 's'}, so this is the last one.")


async def list_products(session: AsyncSession, filters: EditorFilters,
                        tree: CategoryTree | None = None) -> ProductPage:
    tree = tree or await load_category_tree(session)
    filt = filters.filter()
    pagination = _paginate(filters.page, await count_products(session, filt, tree=tree))
    notices = []
    items = await find_products(session, filt, sort=filters.sort, limit=PER_PAGE,
                                offset=pagination.offset, tree=tree)
    if not items and pagination.page > 1 and not pagination.total.exact:
        # The estimate promised more pages than there are: count (the page links need it).
        total = await count_products(session, filt, tree=tree,
                                     exact_limit=MAX_PAGE * PER_PAGE)
        pagination = _paginate(pagination.page, total)
        items = await find_products(session, filt, sort=filters.sort, limit=PER_PAGE,
                                    offset=pagination.offset, tree=tree)
    if pagination.page != filters.page:
        notices.append(_past_the_end(pagination.last_page))
    return ProductPage(items=items, pagination=pagination, notices=tuple(notices))


def _where(filters: EditorFilters, tree: CategoryTree) -> ColumnElement[bool]:
    conditions = filter_conditions(filters.filter(), tree)
    return and_(*conditions) if conditions else true()


async def matching_ids(session: AsyncSession, filters: EditorFilters, limit: int) -> list[int]:
    """Ids of the products matching ``filters`` (at most ``limit``, in id order)."""
    tree = await load_category_tree(session)
    return list((await session.scalars(
        select(Product.id).where(_where(filters, tree)).order_by(Product.id).limit(limit)
    )).all())


async def stream_matching(session: AsyncSession, filters: EditorFilters,
                          batch: int = 1000) -> AsyncIterator[RowMapping]:
    """Every product matching ``filters`` (id order) with the columns the CSV export writes,
    read through a server-side cursor ``batch`` rows at a time: never all rows in memory."""
    tree = await load_category_tree(session)
    statement = (select(Product.id, Product.slug, Product.name, Product.description,
                        Product.price, Product.stock, Product.category_id, Product.is_active,
                        Product.attributes, Product.version)
                 .where(_where(filters, tree)).order_by(Product.id)
                 .execution_options(yield_per=batch))
    result = await session.stream(statement)
    try:
        async for row in result.mappings():
            yield row
    finally:
        await result.close()


async def count_matching(session: AsyncSession, filters: EditorFilters, cap: int) -> int:
    """Exactly how many products match, counting at most ``cap + 1``."""
    tree = await load_category_tree(session)
    capped = select(Product.id).where(_where(filters, tree)).limit(cap + 1).subquery()
    return await session.scalar(select(func.count()).select_from(capped)) or 0
