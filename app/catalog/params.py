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
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from .query import ProductFilter, Sort

MAX_Q = 200
MAX_VALUES = 30
MAX_VALUE_LENGTH = 100
MAX_PRICE = Decimal("99999999.99")
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

#: URL name -> (ProductFilter field, label for messages), for the multi-select facets.
MULTI = {
    "category": ("categories", "category", "categories"),
    "brand": ("brands", "brand", "brands"),
    "colour": ("colours", "colour", "colours"),
    "size": ("sizes", "size", "sizes"),
}

_PRICE = re.compile(r"(?:\d{1,15}(?:\.\d{0,2})?|\.\d{1,2})", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d{1,30}", re.ASCII)
_ON = {"1", "true", "on", "yes"}
_OFF = {"", "0", "false", "off", "no"}


class ParamError(ValueError):
    """A parameter that cannot be used; ``message`` is meant for the shopper."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class CatalogParams:
    """One catalog view. ``sort`` None means the default order (relevance with text, else
    newest); ``notices`` says what was normalised."""

    q: str = ""
    categories: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool = False
    sort: Sort | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    notices: tuple[str, ...] = field(default=(), compare=False)

    # -- the filter -----------------------------------------------------------------------------

    def filter(self) -> ProductFilter:
        return ProductFilter(
            q=self.q, categories=self.categories, brands=self.brands, colours=self.colours,
            sizes=self.sizes, min_price=self.min_price, max_price=self.max_price,
            stock="in" if self.in_stock else None,
        )

    @property
    def effective_sort(self) -> Sort:
        if self.sort is None:
            return Sort.RELEVANCE if self.filter().has_text else Sort.NEWEST
        return self.sort

    @property
    def has_filters(self) -> bool:
        """Anything narrowing the catalog besides the search text."""
        return bool(self.categories or self.brands or self.colours or self.sizes
                    or self.min_price is not None or self.max_price is not None or self.in_stock)

    def values(self, name: str) -> tuple[str, ...]:
        return getattr(self, MULTI[name][0])

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
        return urlencode(self.items())

    def with_changes(self, **changes: Any) -> CatalogParams:
        """A copy with ``changes``; any change other than ``page`` starts again at page 1."""
        if "page" not in changes:
            changes["page"] = 1
        params = replace(self, notices=(), **changes)
        if params.sort is Sort.RELEVANCE and not params.filter().has_text:
            params = replace(params, sort=None)
        if params.sort is not None and params.sort == params.effective_sort_default():
            params = replace(params, sort=None)
        return params

    def effective_sort_default(self) -> Sort:
        return Sort.RELEVANCE if self.filter().has_text else Sort.NEWEST

    def without(self, name: str, value: str | None = None) -> CatalogParams:
        """A copy without one facet value (or a whole parameter when ``value`` is None)."""
        if name in MULTI:
            field_name = MULTI[name][0]
            kept = tuple(v for v in self.values(name) if value is not None and v != value)
            return self.with_changes(**{field_name: kept})
        defaults = {"q": "", "min_price": None, "max_price": None, "in_stock": False}
        return self.with_changes(**{name: defaults[name]})

    def cleared(self) -> CatalogParams:
        """Same search text, no filters (sort and page size kept)."""
        return CatalogParams(q=self.q, sort=self.sort, per_page=self.per_page).with_changes()


def _price_text(value: Decimal) -> str:
    text = f"{value:.2f}"
    return text[:-3] if text.endswith(".00") else text


# -- parsing ------------------------------------------------------------------------------------

def parse_params(args: Mapping[str, Any] | MultiDict[str, str]) -> CatalogParams:
    """Read a request's query parameters; raises :class:`ParamError` for a 400."""
    if not isinstance(args, MultiDict):
        args = MultiDict(args)
    notices: list[str] = []

    q = _clean_text(args.get("q", ""), "q")
    if len(q) > MAX_Q:
        raise ParamError("q", f"Search text can be at most {MAX_Q} characters.")

    multi: dict[str, tuple[str, ...]] = {}
    for name, (field_name, singular, plural) in MULTI.items():
        values = [_clean_text(v, name) for v in args.getlist(name)]
        values = list(dict.fromkeys(v for v in values if v))
        if len(values) > MAX_VALUES:
            raise ParamError(name, f"Choose at most {MAX_VALUES} {plural}.")
        if any(len(v) > MAX_VALUE_LENGTH for v in values):
            raise ParamError(name, f"A {singular} can be at most {MAX_VALUE_LENGTH} characters.")
        multi[field_name] = tuple(values)

    min_price = _price(args.get("min_price", ""), "min_price", "Minimum price")
    max_price = _price(args.get("max_price", ""), "max_price", "Maximum price")
    if min_price is not None and max_price is not None and min_price > max_price:
        min_price, max_price = max_price, min_price
        notices.append("The minimum price was above the maximum, so we swapped them.")

    in_stock = _flag(args.get("in_stock", ""), "in_stock", "In stock only")

    sort = _sort(args.get("sort", ""), notices)
    page = _integer(args.get("page", ""), "page", "Page")
    if page is None or page < 1:
        if page is not None:
            notices.append("Pages start at 1, so we show the first page.")
        page = 1
    per_page = _per_page(args.get("per_page", ""), notices)

    params = CatalogParams(q=q, min_price=min_price, max_price=max_price, in_stock=in_stock,
                           sort=sort, page=page, per_page=per_page, **multi)
    if params.sort is Sort.RELEVANCE and not params.filter().has_text:
        params = replace(params, sort=None)
    if params.sort is not None and params.sort == params.effective_sort_default():
        params = replace(params, sort=None)
    return replace(params, notices=tuple(notices))


def _clean_text(value: str, name: str) -> str:
    """Whitespace collapsed; control characters are refused (they are never typed)."""
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
        raise ParamError(name, "The text contains characters that are not allowed.")
    return " ".join(value.split())


def _price(raw: str, name: str, label: str) -> Decimal | None:
    raw = raw.strip()
    if not raw:
        return None
    if raw.startswith("-") and _PRICE.fullmatch(raw[1:]):
        raise ParamError(name, f"{label} can't be negative.")
    if not _PRICE.fullmatch(raw):
        raise ParamError(name, f"{label} must be a number like 25 or 19.99.")
    value = Decimal(raw)
    if value > MAX_PRICE:
        raise ParamError(name, f"{label} can be at most {MAX_PRICE:,}.")
    return value


def _integer(raw: str, name: str, label: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not _INTEGER.fullmatch(raw):
        raise ParamError(name, f"{label} must be a whole number.")
    return int(raw)


def _flag(raw: str, name: str, label: str) -> bool:
    value = raw.strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ParamError(name, f"{label} must be on or off.")


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
