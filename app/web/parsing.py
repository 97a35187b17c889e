"""One parser per kind of value that arrives as text at the boundary (URL parts, query strings,
form fields, headers): ids, versions, page numbers, money, and text PostgreSQL can store.

Why one module: ``str.isdigit()`` is true for ``"²"`` and ``"٣"``, which ``int()`` then refuses
(or accepts as a different number), and PostgreSQL refuses text holding NUL or a lone surrogate
with an error that would reach the catch-all 500. Each view used to patch this on its own; here
every parser accepts ASCII digits only and raises :class:`BadInput` with a message a user can
act on, so the caller only chooses the status (400, 404 or 422) and the rendering.

Pure functions, no Flask: the API, the editor and the catalog all use them.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ..data.bounds import MAX_PRICE, MAX_PRODUCT_ID

#: Longest version / page number accepted (PostgreSQL ``integer`` holds 10 digits).
MAX_VERSION_DIGITS = 9
_NOT_STORABLE = re.compile(r"[\x00\ud800-\udfff]")


class BadInput(ValueError):
    """A value that cannot be what the user meant; ``message`` can be shown to them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def ascii_digits(raw: str | None, max_digits: int) -> int | None:
    """``raw`` as a non-negative int if it is 1..``max_digits`` ASCII digits, else None."""
    if raw is None or not 0 < len(raw) <= max_digits or not raw.isascii() or not raw.isdigit():
        return None
    return int(raw)


def whole_number(raw: str | None, *, max_digits: int, message: str, minimum: int = 0,
                 maximum: int | None = None) -> int:
    """ASCII digits within [minimum, maximum], else :class:`BadInput` with ``message``."""
    value = ascii_digits(raw, max_digits)
    if value is None or value < minimum or (maximum is not None and value > maximum):
        raise BadInput(message)
    return value


def product_id(raw: str | None, message: str = "That is not a product id.") -> int:
    """A product id (1..MAX_PRODUCT_ID)."""
    return whole_number(raw, max_digits=len(str(MAX_PRODUCT_ID)), message=message, minimum=1,
                        maximum=MAX_PRODUCT_ID)


def product_ids(raws: list[str], message: str) -> list[int]:
    """Distinct product ids, sorted; one bad value refuses all."""
    return sorted({product_id(raw, message) for raw in raws})


def version(raw: str | None, message: str) -> int:
    """A row version as a form or header carries it (1..999,999,999)."""
    return whole_number(raw, max_digits=MAX_VERSION_DIGITS, message=message, minimum=1)


def page(raw: str | None, *, maximum: int, default: int = 1) -> int:
    """A page number for a lenient listing: missing, empty or not a number is ``default``;
    beyond ``maximum`` is ``maximum``; below 1 is 1."""
    value = ascii_digits((raw or "").strip(), 12)
    if value is None:
        return default
    return max(1, min(value, maximum))


def money(raw: str | None, message: str) -> Decimal:
    """A non-negative amount with at most two decimals, up to MAX_PRICE."""
    text = (raw or "").strip()
    if not re.fullmatch(r"[0-9]{1,12}(\.[0-9]{1,2})?", text):
        raise BadInput(message)
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise BadInput(message) from None
    if value > MAX_PRICE:
        raise BadInput(message)
    return value


def storable(raw: str) -> bool:
    """Whether PostgreSQL can store ``raw`` as text (no NUL, no lone surrogate)."""
    return _NOT_STORABLE.search(raw) is None


def text(raw: str | None, message: str, *, max_length: int | None = None) -> str:
    """``raw`` if PostgreSQL can store it (and it fits ``max_length``), else :class:`BadInput`."""
    value = raw or ""
    if not storable(value) or (max_length is not None and len(value) > max_length):
        raise BadInput(message)
    return value
