"""The catalog's CSV format: the columns the export writes (and the import will read), and the
neutralisation of cells a spreadsheet would run as a formula.

Columns, in order: ``id``, ``slug``, ``name``, ``description``, ``price`` (two decimals, a
point), ``stock``, ``category`` (the category's path of slugs from the root, joined by ``/``:
unambiguous, unlike names), ``active`` (``true``/``false``), ``brand``, ``colour``,
``material``, ``size`` (empty when unset) and ``version`` (the version the row was read at, so
an import can detect a change made since). UTF-8, comma-separated, ``\\r\\n`` line ends,
quoted where needed (Python's ``csv`` dialect ``excel``).

Formula injection (OWASP "CSV Injection"): a cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is written with a leading ``'``, so a spreadsheet shows it as text
instead of evaluating it. A cell that starts with ``'`` itself gets one more, so that the
import (which always removes one leading ``'``, :mod:`app.data.imports.rows`) reads back
exactly what was exported. Prices and stocks are never negative (the table's checks), so no
number is changed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .revisions import ATTRIBUTE_KEYS

COLUMNS: tuple[str, ...] = (
    "id", "slug", "name", "description", "price", "stock", "category", "active",
    *ATTRIBUTE_KEYS, "version",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Cells written with a leading ``'``: formula starts, and the text marker itself.
MARKED_STARTS = (*FORMULA_STARTS, "'")
#: Bytes of CSV gathered before a chunk is handed on (a streamed response sends each).
CHUNK_BYTES = 32 * 1024


def neutralise(cell: str) -> str:
    """``cell`` as a spreadsheet will show it, never run it: ``'`` before a formula start (and
    before a leading ``'``, which the import removes again)."""
    return "'" + cell if cell.startswith(MARKED_STARTS) else cell


def product_cells(row: Mapping[Any, Any], category_path: str) -> list[str]:
    """One product's cells in :data:`COLUMNS` order (``row``: the product's columns)."""
    attributes = row["attributes"] or {}
    price: Decimal = row["price"]
    cells = [str(row["id"]), row["slug"], row["name"], row["description"] or "",
             f"{price:.2f}", str(row["stock"]), category_path,
             "true" if row["is_active"] else "false",
             *(str(attributes.get(key) or "") for key in ATTRIBUTE_KEYS), str(row["version"])]
    return [neutralise(cell) for cell in cells]


class Chunker:
    """Writes CSV rows (the header row first) and hands back UTF-8 chunks of about
    ``chunk_bytes``, so a streamed export holds one chunk, never the file."""

    def __init__(self, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.chunk_bytes = chunk_bytes
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, dialect="excel")
        self._writer.writerow(COLUMNS)

    def add(self, cells: list[str]) -> bytes | None:
        """Write one row; a chunk when enough is gathered, else None."""
        self._writer.writerow(cells)
        return self.take() if self._buffer.tell() >= self.chunk_bytes else None

    def take(self) -> bytes:
        """What is gathered (possibly nothing), as UTF-8."""
        data = self._buffer.getvalue().encode("utf-8")
        self._buffer.seek(0)
        self._buffer.truncate()
        return data


__all__ = ["CHUNK_BYTES", "COLUMNS", "FORMULA_STARTS", "Chunker", "neutralise", "product_cells"]
