"""One CSV row as a product change: the same rules as the editor and the API
(:mod:`app.data.products.validation`), plus the file's own: identity (slug, id, version),
category paths, and formula cells.

**Formula cells** (OWASP "CSV Injection"). The export writes a ``'`` before any cell that starts
with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a ``'`` (:mod:`app.data.csv_format`),
so on import one leading ``'`` is always removed: an exported file comes back exactly as it was.
A text cell that still starts with ``=``, ``+``, ``-`` or ``@`` (a file written by hand, or by a
spreadsheet that dropped the ``'``) is **refused**, row by row, naming the column: the catalog
does not store what a colleague's spreadsheet would later run, unless the file says it is text
(the ``'``).

The result is either an :class:`ImportRow` (the product's tracked fields in the flat form of
:func:`app.data.revisions.snapshot`) or a :class:`Rejection` with the line and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..products.errors import ProductValidationError
from ..products.validation import clean_slug, parse_create
from ..revisions import ATTRIBUTE_KEYS, ATTRIBUTE_PREFIX, FIELD_LABELS, price_text
from .reading import RawRow

FORMULA_STARTS = ("=", "+", "-", "@")
TEXT_COLUMNS = ("name", "description", *ATTRIBUTE_KEYS)
TRUE_WORDS = frozenset({"true", "yes", "1"})
FALSE_WORDS = frozenset({"false", "no", "0"})
_DIGITS = re.compile(r"[0-9]{1,18}")
#: Field names of the validation errors, as the file's columns.
_COLUMN_OF = {"category_id": "category", "is_active": "active",
              **{f"attributes.{key}": key for key in ATTRIBUTE_KEYS}}


@dataclass(frozen=True)
class ImportRow:
    """A valid row. ``state``: the tracked fields it sets (``price`` as text, ``attributes.*``
    with None for empty); ``id``/``version``: as the file gives them (None when empty)."""

    line: int
    slug: str
    id: int | None
    version: int | None
    state: dict[str, Any]


@dataclass(frozen=True)
class Rejection:
    """A row that will not be imported; ``item``: its slug (or what identifies it)."""

    line: int
    item: str
    reason: str


class Categories:
    """Category ids by path of slugs (``home/lighting``) and by slug alone."""

    def __init__(self, rows: list[tuple[int, str, int | None]]) -> None:
        by_id = {cid: (slug, parent) for cid, slug, parent in rows}
        self.by_path: dict[str, int] = {}
        self.by_slug: dict[str, int] = {}
        for cid, (slug, _parent) in by_id.items():
            parts: list[str] = []
            seen: set[int] = set()
            node: int | None = cid
            while node is not None and node in by_id and node not in seen:
                seen.add(node)
                parts.append(by_id[node][0])
                node = by_id[node][1]
            self.by_path["/".join(reversed(parts))] = cid
            self.by_slug[slug] = cid

    def find(self, text: str) -> int | None:
        key = text.strip().strip("/").lower()
        return self.by_path.get(key) or (self.by_slug.get(key) if "/" not in key else None)


def uncell(cell: str) -> str:
    """A cell as the file means it: one leading ``'`` (the export's text marker) removed."""
    return cell[1:] if cell[:1] == "'" else cell


def _label(field: str) -> str:
    return _COLUMN_OF.get(field, field)


def check_row(raw: RawRow, categories: Categories, width: int) -> ImportRow | Rejection:
    """The row as a product change, or why not."""
    if raw.width is not None:
        return Rejection(raw.line, "", f"The row has {raw.width:,} cells; the header has "
                                       f"{width}. Check the delimiters and quotes.")
    cells = raw.cells
    slug_text = uncell(cells["slug"]).strip()
    item = slug_text[:80]
    for column in TEXT_COLUMNS:
        value = cells[column]
        if value.startswith(FORMULA_STARTS):
            return Rejection(raw.line, item, (
                f"{column}: starts with “{value[0]}”, which a spreadsheet would run as a "
                "formula. Put a ' before it to import it as text."))
    try:
        slug = clean_slug(slug_text)
    except ProductValidationError as error:
        return Rejection(raw.line, item, f"slug: {error.errors['slug']}")
    product_id = _number(cells.get("id", ""))
    if product_id is False:
        return Rejection(raw.line, item, "id: must be a whole number, or empty for a new "
                                         "product.")
    version = _number(cells.get("version", ""))
    if version is False or version == 0:
        return Rejection(raw.line, item, "version: must be a whole number of at least 1, as "
                                         "the export wrote it.")
    category_text = uncell(cells["category"])
    category_id = categories.find(category_text)
    if category_id is None:
        return Rejection(raw.line, item, f"category: there is no category “{category_text[:80]}”"
                                         " (give its path of slugs, e.g. home/lighting).")
    active = uncell(cells["active"]).strip().lower()
    if active not in TRUE_WORDS | FALSE_WORDS:
        return Rejection(raw.line, item, "active: must be true or false.")
    data: dict[str, Any] = {
        "name": uncell(cells["name"]), "description": uncell(cells["description"]),
        "price": uncell(cells["price"]), "stock": uncell(cells["stock"]),
        "category_id": category_id, "is_active": active in TRUE_WORDS,
        "attributes": {key: uncell(cells[key]) or None for key in ATTRIBUTE_KEYS},
    }
    try:
        product = parse_create(data, strict=False)
    except ProductValidationError as error:
        field, message = next(iter(error.errors.items()))
        return Rejection(raw.line, item, f"{_label(field)}: {message}")
    attributes = product.attributes
    state: dict[str, Any] = {
        "name": product.name, "price": price_text(product.price), "stock": product.stock,
        "category_id": product.category_id, "is_active": product.is_active,
        "description": product.description,
        **{f"{ATTRIBUTE_PREFIX}{key}": getattr(attributes, key) for key in ATTRIBUTE_KEYS},
    }
    return ImportRow(raw.line, slug, product_id, version, state)


def _number(text: str) -> int | None | bool:
    """None for an empty cell, the number, or False for anything else."""
    text = uncell(text).strip()
    if not text:
        return None
    return int(text) if _DIGITS.fullmatch(text) else False


def check_rows(rows: list[RawRow], categories: Categories,
               width: int) -> list[ImportRow | Rejection]:
    """Every row checked, and each slug and id used once: a later row naming the same product
    as an earlier one is rejected (which of two changes should win is not the import's guess)."""
    checked: list[ImportRow | Rejection] = []
    slugs: dict[str, int] = {}
    ids: dict[int, int] = {}
    for raw in rows:
        result = check_row(raw, categories, width)
        if isinstance(result, ImportRow):
            first = slugs.get(result.slug) or (ids.get(result.id) if result.id else None)
            if first is not None:
                result = Rejection(result.line, result.slug,
                                   f"The same product is already on line {first:,}.")
            else:
                slugs[result.slug] = result.line
                if result.id is not None:
                    ids[result.id] = result.line
        checked.append(result)
    return checked


def field_label(field: str) -> str:
    """A tracked field as the file names it (``attributes.brand`` -> ``brand``)."""
    return _COLUMN_OF.get(field, FIELD_LABELS.get(field, field)).lower()


__all__ = ["Categories", "ImportRow", "Rejection", "check_row", "check_rows", "field_label",
           "uncell"]

