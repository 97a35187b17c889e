"""The listing query: which products (search text, categories, brands, colours, sizes, price
range, stock), in which order, which page - one typed model for the three surfaces that list
products: the shopper catalog (:mod:`.params`), the editor table (:mod:`app.editor.listing`)
and the JSON API (:mod:`app.api.listing`).

:class:`ListingQuery` says what each value means and how far it may go - one set of bounds,
taken from the schema's columns and :mod:`app.data.bounds` - and turns into the query layer's
:class:`~.filters.ProductFilter`. Each surface subclasses it with its own policy: which URL
names and sorts it offers, and what a bad value does (the catalog answers 400 with a message or
normalises with a notice, the API answers a JSON 400, the editor falls back to the default).
The validators below raise these error types, which the surfaces word for their readers:

``control_characters``  text with a control character (never typed; NUL breaks PostgreSQL)
``price_format``        a price that is not plain digits with at most two decimals
``price_negative``      a price below zero
``too_many_values``     more than :data:`MAX_VALUES` distinct values for one facet

plus pydantic's own (``string_too_long``, ``less_than_equal``, ``int_parsing``...). The JSON
schema (``model_json_schema()``, by alias: the URL names) describes the query parameters; the
API's OpenAPI document is generated from :class:`app.api.listing.ApiListingQuery`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError
from werkzeug.datastructures import MultiDict

from ..data.bounds import MAX_PRICE
from ..data.models import Category
from ..data.products.validation import MAX_ATTRIBUTE
from .filters import ProductFilter
from .ordering import Sort, effective_sort

__all__ = [
    "DEFAULT_PER_PAGE", "MAX_ATTRIBUTE_VALUE", "MAX_PER_PAGE", "MAX_Q", "MAX_SLUG", "MAX_VALUES",
    "InStockFlag", "ListingQuery", "clean_text",
]

#: Search text, in characters (after whitespace is collapsed).
MAX_Q = 200
#: Distinct values of one facet (brands, colours...) a query may select.
MAX_VALUES = 30


def _length(column: Any) -> int:
    length = getattr(column.type, "length", None)
    assert isinstance(length, int), column
    return length


#: A category slug: as long as ``categories.slug`` (``varchar(140)``).
MAX_SLUG = _length(Category.__table__.c.slug)
#: A brand, colour or size: as long as the product service lets an attribute value be.
MAX_ATTRIBUTE_VALUE = MAX_ATTRIBUTE
#: Most products on one page, on any surface.
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 24

_PRICE = re.compile(r"(?:\d{1,15}(?:\.\d{0,2})?|\.\d{1,2})", re.ASCII)
#: The price format for schemas: at most 8 integer digits is what MAX_PRICE allows.
PRICE_PATTERN = r"^(?:[0-9]{1,8}(?:\.[0-9]{0,2})?|\.[0-9]{1,2})$"
#: Text without control characters (tab, CR and LF are whitespace and allowed).
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


def clean_text(value: Any) -> Any:
    """Whitespace collapsed; a control character is refused (``control_characters``)."""
    if not isinstance(value, str):
        return value
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
        raise PydanticCustomError("control_characters",
                                  "The text contains characters that are not allowed.")
    return " ".join(value.split())


def _price(value: Any) -> Any:
    """A price as typed: plain ASCII digits, at most two decimals; blank is no price."""
    if not isinstance(value, str):
        return value
    raw = value.strip()
    if not raw:
        return None
    if raw.startswith("-") and _PRICE.fullmatch(raw[1:]):
        raise PydanticCustomError("price_negative", "A price can't be negative.")
    if not _PRICE.fullmatch(raw):
        raise PydanticCustomError("price_format", "A price is a number like 25 or 19.99.")
    return Decimal(raw)


def _distinct(values: tuple[str, ...]) -> tuple[str, ...]:
    """Empty values dropped, duplicates dropped (first kept), then at most MAX_VALUES."""
    kept = tuple(dict.fromkeys(v for v in values if v))
    if len(kept) > MAX_VALUES:
        raise PydanticCustomError("too_many_values", "At most {limit} values.",
                                  {"limit": MAX_VALUES})
    return kept


def _text_schema(max_length: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "pattern": TEXT_PATTERN}


SearchText = Annotated[str, BeforeValidator(clean_text), Field(max_length=MAX_Q),
                       WithJsonSchema(_text_schema(MAX_Q))]
Slug = Annotated[str, BeforeValidator(clean_text), Field(max_length=MAX_SLUG)]
AttributeValue = Annotated[str, BeforeValidator(clean_text), Field(max_length=MAX_ATTRIBUTE_VALUE)]
Slugs = Annotated[tuple[Slug, ...], AfterValidator(_distinct), WithJsonSchema(
    {"type": "array", "maxItems": MAX_VALUES, "items": _text_schema(MAX_SLUG)})]
AttributeValues = Annotated[tuple[AttributeValue, ...], AfterValidator(_distinct), WithJsonSchema(
    {"type": "array", "maxItems": MAX_VALUES, "items": _text_schema(MAX_ATTRIBUTE_VALUE)})]
Price = Annotated[Decimal, Field(ge=0, le=MAX_PRICE, decimal_places=2, allow_inf_nan=False)]
OptionalPrice = Annotated[Price | None, BeforeValidator(_price), WithJsonSchema(
    {"type": "string", "pattern": PRICE_PATTERN})]
Stock = Literal["in", "out"] | None

_ON = {"1", "true", "on", "yes"}
_OFF = {"", "0", "false", "off", "no"}


def _in_stock(value: Any) -> Any:
    """An "in stock only" flag as typed (1/true/on/yes, 0/false/off/no, blank) -> ``stock``."""
    if not isinstance(value, str):
        return value
    flag = value.strip().lower()
    if flag in _ON:
        return "in"
    if flag in _OFF:
        return None
    raise PydanticCustomError("flag", "Must be on or off.")


#: ``stock`` read from an ``in_stock`` flag (the shopper catalog's and the API's parameter).
InStockFlag = Annotated[Stock, BeforeValidator(_in_stock), WithJsonSchema(
    {"type": "string", "enum": ["1", "true", "0", "false"]})]


class ListingQuery(BaseModel):
    """One listing of products. Field names are the query layer's; aliases the URL's."""

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True,
                              extra="ignore")

    q: SearchText = Field("", description="Full-text search over name, brand, category, "
                                          "attributes and description (in that order of "
                                          "weight), each word with its synonyms; the last "
                                          "word also matches as a prefix while typed.")
    categories: Slugs = Field((), alias="category",
                              description="Category slug, repeat for several (OR); a parent "
                                          "category includes its sub-categories.")
    brands: AttributeValues = Field((), alias="brand",
                                    description="Brand, repeat for several (OR).")
    colours: AttributeValues = Field((), alias="colour",
                                     description="Colour, repeat for several (OR).")
    sizes: AttributeValues = Field((), alias="size", description="Size, repeat for several (OR).")
    min_price: OptionalPrice = Field(None, description="Lowest price (inclusive).")
    max_price: OptionalPrice = Field(None, description="Highest price (inclusive); not below "
                                                       "min_price.")
    stock: Stock = Field(None, description="Only products in stock (in) or out of stock (out).")
    sort: Sort | None = Field(None, description="Order; relevance (the default with q) needs "
                                                "q, newest is the default without.")
    page: int = Field(1, ge=1, description="Page number, from 1.")
    per_page: int = Field(DEFAULT_PER_PAGE, ge=1, le=MAX_PER_PAGE,
                          description=f"Page size (default {DEFAULT_PER_PAGE}).")

    #: Fields given as repeated URL parameters (``brand=a&brand=b``).
    MANY: ClassVar[tuple[str, ...]] = ("categories", "brands", "colours", "sizes")

    @classmethod
    def raw_values(cls, args: Mapping[str, Any] | MultiDict[str, str],
                   prefix: str = "") -> dict[str, Any]:
        """The values of ``args`` for this model, by URL name (``prefix`` + alias): every
        value of a repeated parameter, the first of the others; absent ones left out."""
        if not isinstance(args, MultiDict):
            args = MultiDict(args)
        raw: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            key = prefix + (info.alias or name)
            if key in args:
                raw[info.alias or name] = args.getlist(key) if name in cls.MANY else args[key]
        return raw

    def product_filter(self, *, include_inactive: bool = False,
                       active: bool | None = None) -> ProductFilter:
        """The query layer's filter of these values (``include_inactive``/``active``: see
        :class:`~.filters.ProductFilter`)."""
        return ProductFilter(
            q=self.q, categories=self.categories, brands=self.brands, colours=self.colours,
            sizes=self.sizes, min_price=self.min_price, max_price=self.max_price,
            stock=self.stock, include_inactive=include_inactive, active=active,
        )

    def filter(self) -> ProductFilter:
        """The filter this listing means: here the shopper's, active products only (the
        editor's includes inactive ones)."""
        return self.product_filter()

    @property
    def has_text(self) -> bool:
        return self.filter().has_text

    @property
    def effective_sort(self) -> Sort:
        """The order the listing is in: ``sort``, or the default (relevance with text, else
        newest); relevance without text is newest."""
        return effective_sort(self.filter(), self.sort)
