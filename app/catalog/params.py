"""The catalog's URL parameters: parsed, bounded and normalised, and written back as the one
canonical query string for a view (the URL is the state: reload, bookmark, back and forward all
go through here).

``/products?q=lamp&category=lighting-floor-lamps&brand=Nordhavn&min_price=10&sort=price_asc
&page=2&per_page=24``

Policy - a request is never a 500:

* **400** (:class:`ParamError`, message names the field) for what cannot be meant: numbers that
  are not numbers (``page=abc``, ``min_price=1e9x``), negative or absurd prices, search text over
  :data:`MAX_Q` characters, more than :data:`MAX_VALUES` values or over-long values in a facet,
  control characters, an ``in_stock`` that is not on/off.
* **normalised**, with a notice shown above the results when the shopper would otherwise be
  surprised: page below 1 -> 1, past the end -> the last page (done by the listing, which knows
  the total), ``per_page`` -> the nearest allowed size, unknown ``sort`` -> the default,
  ``relevance`` without search text -> the default, min > max -> swapped, duplicates and empty
  values dropped, whitespace collapsed. Unknown parameters are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus

from pydantic import Field, ValidationError
from pydantic_core import ErrorDetails
from werkzeug.datastructures import MultiDict

from ..data.bounds import MAX_PRICE
from .filters import ProductFilter
from .listing_query import MAX_Q, MAX_VALUES, InStockFlag, ListingQuery
from .ordering import Sort

PER_PAGE_CHOICES = (12, 24, 48, 96)
DEFAULT_PER_PAGE = 24
#: Sorts a shopper can ask for (``updated`` is the editors').
SORTS = (Sort.RELEVANCE, Sort.NEWEST, Sort.PRICE_ASC, Sort.PRICE_DESC, Sort.NAME)
SORT_LABELS = {
    Sort.RELEVANCE: "Relevance",
    Sort.NEWEST: "Newest",
    Sort.PRICE_ASC: "Price: low to high",
    Sort.PRICE_DESC: "Price: high to low",
    Sort.NAME: "Name",
}

#: URL name -> (ListingQuery field, label for messages), for the multi-select facets.
MULTI = {
    "category": ("categories", "category", "categories"),
    "brand": ("brands", "brand", "brands"),
    "colour": ("colours", "colour", "colours"),
    "size": ("sizes", "size", "sizes"),
}
_PRICE_LABELS = {"min_price": "Minimum price", "max_price": "Maximum price"}
#: The notice of a minimum above the maximum (swapped); see :attr:`CatalogParams.prices_swapped`.
PRICES_SWAPPED = "The minimum price was above the maximum, so we swapped them."

_INTEGER = re.compile(r"[+-]?\d{1,30}", re.ASCII)


class ParamError(ValueError):
    """A parameter that cannot be used; ``message`` is meant for the shopper."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


class CatalogParams(ListingQuery):
    """One catalog view: the listing query as the shopper's URL gives it (``in_stock`` for
    ``stock``). ``sort`` None means the default order (relevance with text, else newest);
    ``notices`` says what was normalised."""

    stock: InStockFlag = Field(None, alias="in_stock", description="Only products in stock.")
    notices: tuple[str, ...] = Field((), exclude=True)

    @property
    def in_stock(self) -> bool:
        return self.stock == "in"

    @property
    def has_text(self) -> bool:
        """Search text with words in it (as the filter's), worked out once per text: every
        link a page writes asks it (the default sort is left out of the URL)."""
        return _has_text(self.q)

    @property
    def has_filters(self) -> bool:
        """Anything narrowing the catalog besides the search text."""
        return bool(self.categories or self.brands or self.colours or self.sizes
                    or self.min_price is not None or self.max_price is not None or self.in_stock)

    @property
    def prices_swapped(self) -> bool:
        """The request's minimum was above its maximum and they were swapped: the price inputs
        must be shown again, with the values applied."""
        return PRICES_SWAPPED in self.notices

    def values(self, name: str) -> tuple[str, ...]:
        values: tuple[str, ...] = getattr(self, MULTI[name][0])
        return values

    # -- writing URLs ---------------------------------------------------------------------------

    def items(self) -> list[tuple[str, str]]:
        """The canonical parameters, in a fixed order, defaults left out."""
        items: list[tuple[str, str]] = []
        if self.q:
            items.append(("q", self.q))
        for name in MULTI:
            items.extend((name, value) for value in self.values(name))
        if self.min_price is not None:
            items.append(("min_price", _price_text(self.min_price)))
        if self.max_price is not None:
            items.append(("max_price", _price_text(self.max_price)))
        if self.in_stock:
            items.append(("in_stock", "1"))
        if self.sort is not None:
            items.append(("sort", self.sort.value))
        if self.page != 1:
            items.append(("page", str(self.page)))
        if self.per_page != DEFAULT_PER_PAGE:
            items.append(("per_page", str(self.per_page)))
        return items

    def query_string(self) -> str:
        """``urlencode(self.items())``, each value quoted once per worker: a page writes the
        same facet values, prices and search text into dozens of links."""
        return "&".join([f"{name}={_quoted(value)}" for name, value in self.items()])

    def with_changes(self, **changes: Any) -> CatalogParams:
        """A copy with ``changes`` (field names); any change other than ``page`` starts again at
        page 1."""
        if "page" not in changes:
            changes["page"] = 1
        return self.model_copy(update={**changes, "notices": ()})._canonical_sort()

    def _canonical_sort(self) -> CatalogParams:
        """The default order written as no order (so the canonical URL leaves it out)."""
        default = self.effective_sort_default()
        if (self.sort is Sort.RELEVANCE and default is not Sort.RELEVANCE) or self.sort == default:
            return self.model_copy(update={"sort": None})
        return self

    def effective_sort_default(self) -> Sort:
        return Sort.RELEVANCE if self.has_text else Sort.NEWEST

    def without(self, name: str, value: str | None = None) -> CatalogParams:
        """A copy without one facet value (or a whole parameter when ``value`` is None)."""
        if name in MULTI:
            field_name = MULTI[name][0]
            kept = tuple(v for v in self.values(name) if value is not None and v != value)
            return self.with_changes(**{field_name: kept})
        defaults = {"q": ("q", ""), "min_price": ("min_price", None),
                    "max_price": ("max_price", None), "in_stock": ("stock", None)}
        field_name, default = defaults[name]
        return self.with_changes(**{field_name: default})

    def cleared(self) -> CatalogParams:
        """Same search text, no filters (sort and page size kept)."""
        return CatalogParams(q=self.q, sort=self.sort, per_page=self.per_page).with_changes()


@lru_cache(maxsize=1024)
def _has_text(q: str) -> bool:
    return ProductFilter(q=q).has_text


@lru_cache(maxsize=4096)
def _quoted(value: str) -> str:
    """A query-string value as :func:`urlencode` writes it (parameter names need no quoting:
    they are ours, plain ``[a-z_]``)."""
    return quote_plus(value)


def _price_text(value: Any) -> str:
    text = f"{value:.2f}"
    return text[:-3] if text.endswith(".00") else text


# -- parsing ------------------------------------------------------------------------------------

def parse_params(args: Mapping[str, Any] | MultiDict[str, str]) -> CatalogParams:
    """Read a request's query parameters; raises :class:`ParamError` for a 400."""
    if not isinstance(args, MultiDict):
        args = MultiDict(args)
    notices: list[str] = []
    raw = CatalogParams.raw_values(args)
    # The catalog's own policy first: what it normalises (with a notice) rather than refuses.
    raw["sort"] = _sort(args.get("sort", ""), notices)
    deferred: ParamError | None = None  # reported after the fields before it, as they come
    try:
        page = _integer(args.get("page", ""), "page", "Page")
        if page is None or page < 1:
            if page is not None:
                notices.append("Pages start at 1, so we show the first page.")
            page = 1
        raw["page"] = page
        raw["per_page"] = _per_page(args.get("per_page", ""), notices)
    except ParamError as error:
        deferred = error
        raw.pop("page", None)
        raw.pop("per_page", None)
    try:
        params = CatalogParams.model_validate(raw)
    except ValidationError as error:
        raise _param_error(error.errors()[0]) from None
    if deferred is not None:
        raise deferred
    if params.min_price is not None and params.max_price is not None \
            and params.min_price > params.max_price:
        params = params.model_copy(update={"min_price": params.max_price,
                                           "max_price": params.min_price})
        notices.insert(0, PRICES_SWAPPED)
    return params._canonical_sort().model_copy(update={"notices": tuple(notices)})


def _param_error(error: ErrorDetails) -> ParamError:
    """The shopper's wording of the listing query's first error."""
    name = str(error["loc"][0])
    kind = error["type"]
    if kind == "control_characters":
        return ParamError(name, "The text contains characters that are not allowed.")
    if name == "q":
        return ParamError(name, f"Search text can be at most {MAX_Q} characters.")
    if name in MULTI:
        _, singular, plural = MULTI[name]
        if kind == "too_many_values":
            return ParamError(name, f"Choose at most {MAX_VALUES} {plural}.")
        limit = error.get("ctx", {}).get("max_length")
        return ParamError(name, f"A {singular} can be at most {limit} characters.")
    if name in _PRICE_LABELS:
        label = _PRICE_LABELS[name]
        if kind in ("price_negative", "greater_than_equal"):
            return ParamError(name, f"{label} can't be negative.")
        if kind == "less_than_equal":
            return ParamError(name, f"{label} can be at most {MAX_PRICE:,}.")
        return ParamError(name, f"{label} must be a number like 25 or 19.99.")
    if name == "in_stock":
        return ParamError(name, "In stock only must be on or off.")
    return ParamError(name, f"{name}: {error['msg']}")  # pragma: no cover - every field above


def _integer(raw: str, name: str, label: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not _INTEGER.fullmatch(raw):
        raise ParamError(name, f"{label} must be a whole number.")
    return int(raw)


def _sort(raw: str, notices: list[str]) -> Sort | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        sort = Sort(raw)
    except ValueError:
        sort = None
    if sort is None or sort not in SORTS:
        notices.append("We don't know that sort order, so results are in the usual order.")
        return None
    return sort


def _per_page(raw: str, notices: list[str]) -> int:
    value = _integer(raw, "per_page", "Results per page")
    if value is None:
        return DEFAULT_PER_PAGE
    if value in PER_PAGE_CHOICES:
        return value
    nearest = min(PER_PAGE_CHOICES, key=lambda choice: (abs(choice - value), choice))
    notices.append(f"We show {', '.join(map(str, PER_PAGE_CHOICES[:-1]))} or "
                   f"{PER_PAGE_CHOICES[-1]} products per page, so this page shows {nearest}.")
    return nearest


def sort_choices(params: CatalogParams) -> list[tuple[str, str]]:
    """(value, label) for the sort menu: the default first with value '' (so a form that keeps
    the default keeps following it when search text comes and goes)."""
    default = params.effective_sort_default()
    choices = [("", SORT_LABELS[default])]
    for sort in SORTS:
        if sort is default or (sort is Sort.RELEVANCE and not params.filter().has_text):
            continue
        choices.append((sort.value, SORT_LABELS[sort]))
    return choices


__all__ = [
    "DEFAULT_PER_PAGE", "MAX_Q", "MAX_VALUES", "MULTI", "PER_PAGE_CHOICES", "SORTS",
    "SORT_LABELS", "CatalogParams", "ParamError", "parse_params", "sort_choices",
]
