"""Sort orders: what each means in ORDER BY, and the keyset that continues a page after a
product (with its opaque cursor form, for the API's ``next`` links).

:class:`Sort` - ``relevance`` (needs text; falls back to ``newest`` without it), ``newest``,
``price_asc``, ``price_desc``, ``name``, ``updated``. Every order ends with ``id`` so pages are
stable and the page query can use keyset pagination (``after=``) for all but relevance.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, bindparam, tuple_

from ..data.models import Product
from .filters import ProductFilter, TextShape, rank

__all__ = [
    "SORT_KEYS", "Sort", "after_condition", "decode_cursor", "effective_sort", "encode_cursor",
    "keyset", "order_by",
]

_c = Product.__table__.c


class Sort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NAME = "name"
    UPDATED = "updated"


#: Sort -> ((column, descending), ...); ``id`` always last, in the same direction.
SORT_KEYS: dict[Sort, tuple[tuple[str, bool], ...]] = {
    Sort.NEWEST: (("created_at", True), ("id", True)),
    Sort.PRICE_ASC: (("price", False), ("id", False)),
    Sort.PRICE_DESC: (("price", True), ("id", True)),
    Sort.NAME: (("name", False), ("id", False)),
    Sort.UPDATED: (("updated_at", True), ("id", True)),
}


def effective_sort(filt: ProductFilter, sort: Sort | str | None) -> Sort:
    """``sort`` made valid for ``filt``: relevance needs text; None means the default."""
    if sort is None or sort == "":
        return Sort.RELEVANCE if filt.has_text else Sort.NEWEST
    sort = Sort(sort)
    if sort is Sort.RELEVANCE and not filt.has_text:
        return Sort.NEWEST
    return sort


def order_by(text: TextShape, sort: Sort) -> list[ColumnElement[Any]]:
    if sort is Sort.RELEVANCE:
        return [rank(text).desc(), _c.id.asc()]
    return [_c[name].desc() if descending else _c[name].asc()
            for name, descending in SORT_KEYS[sort]]


def keyset(product: Product, sort: Sort) -> tuple[Any, ...]:
    """The values :func:`.page_query.find_products` needs as ``after=`` to continue after
    ``product``."""
    if sort is Sort.RELEVANCE:
        raise ValueError("relevance order has no keyset; use offset")
    return tuple(getattr(product, name) for name, _ in SORT_KEYS[sort])


def after_condition(sort: Sort) -> ColumnElement[bool]:
    """Rows after the keyset ``after_0, after_1`` (parameters) in ``sort`` order."""
    keys = SORT_KEYS[sort]
    columns = tuple_(*(_c[name] for name, _ in keys))
    values = tuple_(*(bindparam(f"after_{i}", type_=_c[name].type)
                      for i, (name, _) in enumerate(keys)))
    return columns < values if keys[0][1] else columns > values


_CURSOR_TYPES = {"created_at": "datetime", "updated_at": "datetime", "price": "decimal",
                 "name": "str", "id": "int"}


def encode_cursor(product: Product, sort: Sort) -> str:
    """An opaque URL-safe string for "the page after ``product``" in ``sort`` order."""
    values = []
    for value in keyset(product, sort):
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        values.append(value)
    raw = json.dumps([sort.value, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[Any, ...]:
    """The ``after=`` tuple from :func:`encode_cursor`; ValueError if it is not one for ``sort``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_name, values = json.loads(raw)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValueError("invalid cursor") from None
    if sort_name != sort.value or sort is Sort.RELEVANCE or not isinstance(values, list):
        raise ValueError("cursor belongs to another sort order")
    keys = SORT_KEYS[sort]
    if len(values) != len(keys):
        raise ValueError("invalid cursor")
    decoded: list[Any] = []
    for (name, _), value in zip(keys, values, strict=True):
        kind = _CURSOR_TYPES[name]
        try:
            if kind == "datetime" and isinstance(value, str):
                decoded.append(datetime.fromisoformat(value))
            elif kind == "decimal" and isinstance(value, str):
                number = Decimal(value)
                if not number.is_finite():
                    raise ValueError
                decoded.append(number)
            elif (kind == "int" and isinstance(value, int) and not isinstance(value, bool)) or (
                    kind == "str" and isinstance(value, str)):
                decoded.append(value)
            else:
                raise ValueError
        except (ValueError, InvalidOperation):
            raise ValueError("invalid cursor") from None
    return tuple(decoded)

