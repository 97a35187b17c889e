"""``GET /api/v1/products``: the shopper catalog's search and filters as JSON.

Parsing, filtering, ranking and counting are the catalog's query layer
(:mod:`app.catalog.query`), the same code the shopper page runs, so the API and the page cannot
disagree about what a filter means. This module only adapts it: the query string in, one page
of serialized products out, with ``next``/``prev`` links that keep every filter.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from flask import request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from ..catalog import query as catalog
from ..data.database import get_session
from . import bp
from .auth import optional_bearer
from .http import ApiError, conditional, json_response
from .serializers import serialize_product

SORTS = ("relevance", "price_asc", "price_desc", "newest", "name")
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 24
#: Deep OFFSET scans every skipped row; past this, follow ``next`` (a keyset cursor) instead.
MAX_OFFSET = 10_000
MAX_TEXT = 200
MAX_VALUES = 20
MAX_VALUE_LENGTH = 140
PRICE_LIMIT = Decimal("99999999.99")
KNOWN = {"q", "category", "brand", "colour", "size", "min_price", "max_price", "in_stock",
         "sort", "page", "per_page", "cursor"}


class ListingRequest:
    """The query string, checked and bounded: a bad value is a 400 that names it."""

    def __init__(self, args: MultiDict) -> None:
        self.args = args
        self.q = self._text("q")
        self.categories = self._many("category")
        self.brands = self._many("brand")
        self.colours = self._many("colour")
        self.sizes = self._many("size")
        self.min_price = self._price("min_price")
        self.max_price = self._price("max_price")
        if (self.min_price is not None and self.max_price is not None
                and self.min_price > self.max_price):
            raise ApiError(400, "min_price cannot be more than max_price.")
        self.in_stock = self._flag("in_stock")
        sort = args.get("sort") or None
        if sort is not None and sort not in SORTS:
            raise ApiError(400, f"sort must be one of {', '.join(SORTS)}.")
        self.per_page = self._int("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
        self.page = self._int("page", 1, 1, MAX_OFFSET // self.per_page + 1)
        self.filter = catalog.ProductFilter(
            q=self.q, categories=self.categories, brands=self.brands, colours=self.colours,
            sizes=self.sizes, min_price=self.min_price, max_price=self.max_price,
            stock="in" if self.in_stock else None)
        self.sort = catalog.effective_sort(self.filter, sort)
        self.cursor = args.get("cursor") or None
        self.after = None
        if self.cursor is not None:
            if len(self.cursor) > 1000:
                raise ApiError(400, "cursor is not valid; follow the next link as given.")
            try:
                self.after = catalog.decode_cursor(self.cursor, self.sort)
            except ValueError:
                raise ApiError(400, "cursor is not valid for this sort; follow the next link "
                                    "as given.") from None
            if not _cursor_in_range(self.after):
                raise ApiError(400, "cursor is not valid; follow the next link as given.")

    def _values(self, name: str) -> list[str]:
        values = self.args.getlist(name)
        for value in values:
            if "\x00" in value:
                raise ApiError(400, f"{name} cannot contain NUL characters.")
        return values

    def _text(self, name: str) -> str:
        values = self._values(name)
        value = (values[0] if values else "").strip()
        if len(value) > MAX_TEXT:
            raise ApiError(400, f"{name} can be at most {MAX_TEXT} characters.")
        return value

    def _many(self, name: str) -> tuple[str, ...]:
        values = [v.strip() for v in self._values(name) if v.strip()]
        if len(values) > MAX_VALUES or any(len(v) > MAX_VALUE_LENGTH for v in values):
            raise ApiError(400, f"{name}: at most {MAX_VALUES} values of at most "
                                f"{MAX_VALUE_LENGTH} characters.")
        return tuple(dict.fromkeys(values))

    def _price(self, name: str) -> Decimal | None:
        raw = (self.args.get(name) or "").strip()
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite() or not 0 <= value <= PRICE_LIMIT:
            raise ApiError(400, f"{name} must be a price between 0 and {PRICE_LIMIT}.")
        return value

    def _flag(self, name: str) -> bool:
        raw = (self.args.get(name) or "").strip().lower()
        if raw in ("", "0", "false"):
            return False
        if raw in ("1", "true"):
            return True
        raise ApiError(400, f"{name} must be true or false.")

    def _int(self, name: str, default: int, low: int, high: int) -> int:
        raw = (self.args.get(name) or "").strip()
        if not raw:
            return default
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
            raise ApiError(400, f"{name} must be a whole number from {low} to {high}"
                                + (" (follow next links to go further)." if name == "page"
                                   else "."))
        return int(raw)

    def link(self, **changes: Any) -> str:
        """This listing's URL with ``changes`` (None removes a parameter)."""
        params = [(k, v) for k, v in self.args.items(multi=True) if k in KNOWN
                  and k not in changes]
        params += [(k, v) for k, v in changes.items() if v is not None]
        return f"{request.path}?{urlencode(params)}"


def _cursor_in_range(values: tuple[Any, ...]) -> bool:
    """A cursor decoded from the client must still fit the columns it is compared with."""
    for value in values:
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            return False
        if isinstance(value, Decimal) and not abs(value) <= PRICE_LIMIT:
            return False
        if isinstance(value, str) and (len(value) > 1000 or "\x00" in value):
            return False
        if hasattr(value, "tzinfo") and value.tzinfo is None:
            return False
    return True


def openapi_parameters() -> list[dict[str, Any]]:
    def query(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict:
        return {"name": name, "in": "query", "required": False, "schema": schema,
                "description": description, **extra}

    text = {"type": "string", "maxLength": MAX_TEXT, "pattern": "^[^\\x00]*$"}
    many = {"type": "array", "maxItems": MAX_VALUES,
            "items": {"type": "string", "maxLength": MAX_VALUE_LENGTH, "pattern": "^[^\\x00]*$"}}
    price = {"type": "string", "pattern": r"^[0-9]{1,8}(\.[0-9]{1,2})?$"}
    return [
        query("q", text, "Full-text search over name and description (as on the catalog page)."),
        query("category", many, "Category slug, repeat for several (OR); a parent category "
                                "includes its sub-categories.", explode=True),
        query("brand", many, "Brand, repeat for several (OR).", explode=True),
        query("colour", many, "Colour, repeat for several (OR).", explode=True),
        query("size", many, "Size, repeat for several (OR).", explode=True),
        query("min_price", price, "Lowest price (inclusive)."),
        query("max_price", price, "Highest price (inclusive); not below min_price."),
        query("in_stock", {"type": "string", "enum": ["1", "true", "0", "false"]},
              "Only products in stock."),
        query("sort", {"type": "string", "enum": list(SORTS)},
              "Order; relevance (the default with q) needs q, newest is the default without."),
        query("page", {"type": "integer", "minimum": 1, "maximum": MAX_OFFSET // MAX_PER_PAGE},
              "Page number for the first pages; follow `next` to go further."),
        query("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
              f"Page size (default {DEFAULT_PER_PAGE})."),
        query("cursor", {"type": "string", "maxLength": 1000},
              "Opaque position from a `next` link (keyset pagination)."),
    ]


def page_schema() -> dict[str, Any]:
    link = {"type": ["string", "null"]}
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total", "total_exact", "next", "prev"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Product"}},
            "page": {"type": ["integer", "null"], "minimum": 1,
                     "description": "null when the page was reached through a cursor."},
            "per_page": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0},
            "total_exact": {"type": "boolean",
                            "description": "false: `total` is an estimate (large result sets)."},
            "next": link,
            "prev": link,
        },
    }


@bp.get("/products")
async def list_products() -> ResponseReturnValue:
    await optional_bearer()
    listing = ListingRequest(request.args)
    session = await get_session()
    tree = await catalog.load_category_tree(session)
    offset = 0 if listing.after is not None else (listing.page - 1) * listing.per_page
    rows = await catalog.find_products(session, listing.filter, sort=listing.sort,
                                       limit=listing.per_page + 1, offset=offset,
                                       after=listing.after, tree=tree)
    more, rows = len(rows) > listing.per_page, rows[:listing.per_page]
    total = await catalog.count_products(session, listing.filter, tree=tree)
    next_link = prev_link = None
    if more and rows:
        if listing.sort is catalog.Sort.RELEVANCE:
            if listing.page * listing.per_page < MAX_OFFSET:
                next_link = listing.link(page=str(listing.page + 1), cursor=None)
        else:
            next_link = listing.link(cursor=catalog.encode_cursor(rows[-1], listing.sort),
                                     page=None)
    if listing.after is None and listing.page > 1:
        prev_link = listing.link(page=str(listing.page - 1), cursor=None)
    payload = {
        "items": [serialize_product(product) for product in rows],
        "page": None if listing.after is not None else listing.page,
        "per_page": listing.per_page,
        "total": total.value,
        "total_exact": total.exact,
        "next": next_link,
        "prev": prev_link,
    }
    return conditional(json_response(payload))
