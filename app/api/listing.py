"""``GET /api/v1/products``: the shopper catalog's search and filters as JSON.

The query string is the catalog's listing query (:class:`ApiListingQuery`, a
:class:`~app.catalog.listing_query.ListingQuery`); filtering, ranking and counting are the
catalog's query layer (:mod:`app.catalog.page_query`), the same code the shopper page runs, so
the API and the page cannot disagree about what a filter means. This module only adapts it:
the query string in, one page of serialized products out, with ``next``/``prev`` links that
keep every filter.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Self
from urllib.parse import urlencode

from flask import request
from flask.typing import ResponseReturnValue
from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from werkzeug.datastructures import MultiDict

from ..catalog.listing_query import (
    MAX_ATTRIBUTE_VALUE,
    MAX_PER_PAGE,
    MAX_SLUG,
    MAX_VALUES,
    InStockFlag,
    ListingQuery,
)
from ..catalog.ordering import Sort, decode_cursor, encode_cursor
from ..catalog.page_query import count_products, find_products
from ..catalog.tree import load_category_tree
from ..data.bounds import MAX_BIGINT, MAX_PRICE, MIN_BIGINT
from ..data.database import get_session
from .auth import optional_bearer
from .blueprint import bp
from .http import ApiError, conditional, json_response
from .responses import ProductPage
from .serializers import serialize_product

SORTS = ("relevance", "price_asc", "price_desc", "newest", "name")
#: Deep OFFSET scans every skipped row; past this, follow ``next`` (a keyset cursor) instead.
MAX_OFFSET = 10_000
MAX_CURSOR = 1000
KNOWN = {"q", "category", "brand", "colour", "size", "min_price", "max_price", "in_stock",
         "sort", "page", "per_page", "cursor"}
_BAD_CURSOR = "cursor is not valid; follow the next link as given."
#: What :func:`app.catalog.ordering.encode_cursor` writes: unpadded URL-safe base64.
CURSOR_PATTERN = "^[A-Za-z0-9_-]+$"
#: Parameters whose document schema has no empty value: ``page=`` is a 400, not page 1.
NO_BLANK = ("page", "per_page", "cursor")


def _shopper_sort(sort: Sort | None) -> Sort | None:
    if sort is not None and sort.value not in SORTS:
        raise PydanticCustomError("sort", "Not a sort the API offers.")
    return sort


class ApiListingQuery(ListingQuery):
    """The query string of ``GET /api/v1/products``: the listing query, strictly - a bad value
    is a JSON 400 that names it (see :meth:`parse`) - with ``in_stock`` for ``stock``, the
    shopper's sorts, pages no deeper than :data:`MAX_OFFSET` and a keyset ``cursor``. Its JSON
    schema is the operation's query parameters in the OpenAPI document."""

    stock: InStockFlag = Field(None, alias="in_stock", description="Only products in stock.")
    sort: Annotated[Sort | None, AfterValidator(_shopper_sort),
                    WithJsonSchema({"type": "string", "enum": list(SORTS)})] = Field(
        None, description="Order; relevance (the default with q) needs q, newest is the "
                          "default without.")
    page: int = Field(1, ge=1, json_schema_extra={"maximum": MAX_OFFSET // MAX_PER_PAGE},
                      description="Page number for the first pages; follow `next` to go "
                                  "further.")
    cursor: Annotated[str | None, WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": MAX_CURSOR,
         "pattern": CURSOR_PATTERN})] = Field(
        None, max_length=MAX_CURSOR, pattern=CURSOR_PATTERN,
        description="Opaque position from a `next` link (keyset pagination), used as given: "
                    "a value the server did not issue for this sort is a 400.")
    _after: tuple[Any, ...] | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.min_price is not None and self.max_price is not None
                and self.min_price > self.max_price):
            raise PydanticCustomError("price_range", "min_price cannot be more than max_price.",
                                      {"parameter": "min_price"})
        if self.page > self.max_page:
            raise PydanticCustomError("page_depth", _int_message("page", self.max_page),
                                      {"parameter": "page"})
        if self.cursor is not None:
            try:
                after = decode_cursor(self.cursor, self.effective_sort)
            except ValueError:
                raise PydanticCustomError("cursor_sort", "cursor is not valid for this sort; "
                                          "follow the next link as given.",
                                          {"parameter": "cursor"}) from None
            if not _cursor_in_range(after):
                raise PydanticCustomError("cursor", _BAD_CURSOR, {"parameter": "cursor"})
            self._after = after
        return self

    @property
    def max_page(self) -> int:
        return MAX_OFFSET // self.per_page + 1

    @property
    def after(self) -> tuple[Any, ...] | None:
        """The keyset the ``cursor`` continues after (None without a cursor)."""
        return self._after

    @classmethod
    def parse(cls, args: MultiDict[str, str]) -> ApiListingQuery:
        """The request's query, or :class:`ApiError` 400: ``error`` says what is wrong with the
        first bad parameter, ``fields`` with each (a blank value is an absent one, except
        for :data:`NO_BLANK`, whose schemas admit no blank)."""
        raw = {name: value for name, value in cls.raw_values(args).items()
               if name in NO_BLANK or not (isinstance(value, str) and not value.strip())}
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            fields: dict[str, str] = {}
            for detail in error.errors():
                fields.setdefault(_parameter(detail), _message(detail, raw))
            raise ApiError(400, next(iter(fields.values())), fields=fields) from None

    def link(self, args: MultiDict[str, str], **changes: Any) -> str:
        """This listing's URL with ``changes`` (None removes a parameter)."""
        params = [(k, v) for k, v in args.items(multi=True) if k in KNOWN and k not in changes]
        params += [(k, v) for k, v in changes.items() if v is not None]
        return f"{request.script_root}{request.path}?{urlencode(params)}"


def _parameter(error: ErrorDetails) -> str:
    """The query parameter an error is about (the model's own checks name it in ``ctx``)."""
    if error["loc"]:
        return str(error["loc"][0])
    return str(error.get("ctx", {}).get("parameter", ""))


def _message(error: ErrorDetails, raw: dict[str, Any]) -> str:
    """The API's wording of an error (parameter names as in the query string)."""
    name = _parameter(error)
    kind = error["type"]
    if not error["loc"]:  # the model's own checks (price range, page depth, cursor) word theirs
        return error["msg"]
    if kind == "control_characters":
        return f"{name} cannot contain NUL or other control characters."
    if name == "q":
        return f"{name} can be at most {error.get('ctx', {}).get('max_length')} characters."
    if name in ("category", "brand", "colour", "size"):
        limit = MAX_SLUG if name == "category" else MAX_ATTRIBUTE_VALUE
        return f"{name}: at most {MAX_VALUES} values of at most {limit} characters."
    if name in ("min_price", "max_price"):
        return f"{name} must be a price between 0 and {MAX_PRICE}."
    if name == "in_stock":
        return f"{name} must be true or false."
    if name == "sort":
        return f"sort must be one of {', '.join(SORTS)}."
    if name == "per_page":
        return _int_message(name, MAX_PER_PAGE)
    if name == "page":
        return _int_message(name, MAX_OFFSET // _per_page(raw) + 1)
    if name == "cursor":
        return _BAD_CURSOR
    return f"{name}: {error['msg']}"  # pragma: no cover - every parameter is worded above


def _per_page(raw: dict[str, Any]) -> int:
    try:
        return max(1, min(MAX_PER_PAGE, int(raw.get("per_page", ""))))
    except ValueError:
        return ListingQuery.model_fields["per_page"].default


def _int_message(name: str, high: int) -> str:
    return (f"{name} must be a whole number from 1 to {high}"
            + (" (follow next links to go further)." if name == "page" else "."))


def _cursor_in_range(values: tuple[Any, ...]) -> bool:
    """A cursor decoded from the client must still fit the columns it is compared with."""
    for value in values:
        if isinstance(value, int) and not MIN_BIGINT <= value <= MAX_BIGINT:
            return False
        if isinstance(value, Decimal) and not abs(value) <= MAX_PRICE:
            return False
        if isinstance(value, str) and (len(value) > MAX_CURSOR or "\x00" in value):
            return False
        if hasattr(value, "tzinfo") and value.tzinfo is None:
            return False
    return True


@bp.get("/products")
async def list_products() -> ResponseReturnValue:
    await optional_bearer()
    listing = ApiListingQuery.parse(request.args)
    filt = listing.filter()
    sort = listing.effective_sort
    session = await get_session()
    tree = await load_category_tree(session, read_only=True)
    offset = 0 if listing.after is not None else (listing.page - 1) * listing.per_page
    rows = await find_products(session, filt, sort=sort, limit=listing.per_page + 1,
                               offset=offset, after=listing.after, tree=tree)
    more, rows = len(rows) > listing.per_page, rows[:listing.per_page]
    total = await count_products(session, filt, tree=tree)
    next_link = prev_link = None
    if more and rows:
        if sort is Sort.RELEVANCE:
            if listing.page * listing.per_page < MAX_OFFSET:
                next_link = listing.link(request.args, page=str(listing.page + 1), cursor=None)
        else:
            next_link = listing.link(request.args, cursor=encode_cursor(rows[-1], sort),
                                     page=None)
    if listing.after is None and listing.page > 1:
        prev_link = listing.link(request.args, page=str(listing.page - 1), cursor=None)
    page = ProductPage(
        items=[serialize_product(product) for product in rows],
        page=None if listing.after is not None else listing.page,
        per_page=listing.per_page,
        total=total.value,
        total_exact=total.exact,
        next=next_link,
        prev=prev_link,
    )
    return conditional(json_response(page))
