"""The 409 an editor sees when someone saved the product first: their values beside the
current ones, field by field, with "save mine" (resending their values against the current
version) and "keep theirs". Nothing was written when this is shown."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask.typing import ResponseReturnValue

from ..data.categories import category_choices
from ..data.database import get_session
from ..data.models import Product
from ..data.products import ATTRIBUTE_KEYS
from .rendering import page_or_fragment

ROW_PAGE = "editor/product.html"
ROW_CONFLICT = "partials/editor/row_conflict.html"

#: The fields compared, in the row's order (attributes by their own key, as the form names them).
CONFLICT_FIELDS = (("name", "Name"), ("price", "Price"), ("stock", "Stock"),
                   ("category_id", "Category"), ("is_active", "Active"),
                   *((key, key.capitalize()) for key in ATTRIBUTE_KEYS))


def _display(field: str, value: Any, categories: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if field == "category_id":
        return categories.get(value, f"#{value} (deleted)") if isinstance(value, int) else "—"
    if field == "is_active":
        return "Active" if value else "Inactive"
    if field == "price":
        try:
            return f"{Decimal(str(value)):.2f}"
        except ArithmeticError:
            return str(value)
    return str(value)


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    flat = {k: v for k, v in data.items() if k != "attributes"}
    for key, value in (data.get("attributes") or {}).items():
        flat[key] = value
    return flat


def _current(product: Product) -> dict[str, Any]:
    attributes = product.attributes or {}
    return {"name": product.name, "price": product.price, "stock": product.stock,
            "category_id": product.category_id, "is_active": product.is_active,
            **{key: attributes.get(key) for key in ATTRIBUTE_KEYS}}


def _resend(mine: dict[str, Any], method: str) -> dict[str, str]:
    """The editor's values as the form fields that send them again."""
    hidden = {}
    for field, value in mine.items():
        if field == "is_active" and method == "patch":
            hidden[field] = "1" if value else "0"  # the single-field endpoint's values
        elif field == "is_active":
            if value:
                hidden[field] = "y"  # a checked checkbox; unchecked is simply absent
        elif value is not None:
            hidden[field] = str(value)
    return hidden


async def conflict_response(current: Product, mine: dict[str, Any], overwrite_url: str,
                            method: str) -> ResponseReturnValue:
    """409: ``mine`` (the cleaned values the editor sent) beside ``current``; "save mine"
    resends them to ``overwrite_url`` with ``method`` (``put`` for the row form, ``patch``
    for a single field) and the current version."""
    categories = dict(await category_choices(await get_session()))
    theirs = _current(current)
    mine_flat = _flatten(mine)
    rows = []
    for field, label in CONFLICT_FIELDS:
        if field not in mine_flat:
            continue
        mine_text = _display(field, mine_flat[field], categories)
        theirs_text = _display(field, theirs.get(field), categories)
        rows.append({"label": label, "mine": mine_text, "theirs": theirs_text,
                     "differs": mine_text != theirs_text})
    return page_or_fragment(ROW_PAGE, ROW_CONFLICT, status=409, product=current, rows=rows,
                            hidden=_resend(mine_flat, method), overwrite_url=overwrite_url,
                            method=method, title=current.name)
