"""Reading an uploaded CSV file into rows of cells, or refusing the whole file with a reason
meant for people. No database, no product rules (those are :mod:`.rows`).

* **Encoding**: UTF-8 only, with or without a byte-order mark (Excel's "CSV UTF-8" writes one).
  Anything else (Latin-1, UTF-16, binary garbage) is refused with the position of the first byte
  that is not UTF-8, and NUL characters are refused (no text CSV has them).
* **Delimiter**: ``csv.Sniffer`` restricted to ``,`` ``;`` tab and ``|`` on the first line,
  kept only if it splits that line into known column names; otherwise the candidate that finds
  the most known names (the header is the most reliable sample a catalog file has).
* **Header**: column names as :data:`~app.data.csv_format.COLUMNS` (any order, any case);
  ``id`` and ``version`` may be left out, every other column is required; an unknown, repeated
  or empty name refuses the file, naming it.
* **Rows**: blank lines are skipped; each row keeps the line it starts on (a quoted cell may
  span lines), so a refusal can say "line 12". A row with more or fewer cells than the header is
  kept as a :class:`RawRow` with ``width`` set, for :mod:`.rows` to reject (the rest of the file
  is still read). More than ``max_rows`` rows refuses the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from ..csv_format import COLUMNS

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
OPTIONAL_COLUMNS = frozenset({"id", "version"})
REQUIRED_COLUMNS = tuple(name for name in COLUMNS if name not in OPTIONAL_COLUMNS)
#: A header wider than this is not a product file (and its message would be unreadable).
MAX_HEADER_CELLS = 64
#: Characters of a cell the reader accepts (a description is at most 10,000).
MAX_CELL = 65_536
_SAMPLE = 64 * 1024
BOM = "\ufeff"


class FileRefused(ValueError):
    """The whole file cannot be imported; ``message`` says why, for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RawRow:
    """One data row: the line it starts on and its cells by column name. ``width`` is the
    number of cells it had when that differs from the header's (then ``cells`` is empty)."""

    line: int
    cells: dict[str, str]
    width: int | None = None


@dataclass(frozen=True)
class CsvFile:
    header: tuple[str, ...]
    rows: list[RawRow]
    delimiter: str
    had_bom: bool


def decode(data: bytes) -> tuple[str, bool]:
    """The file's text and whether it began with a byte-order mark."""
    if not data.strip():
        raise FileRefused("The file is empty.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileRefused(
            f"The file is not UTF-8 text (byte {error.start + 1:,} is not valid UTF-8). "
            "Save it as “CSV UTF-8” and upload it again.") from None
    if "\x00" in text:
        raise FileRefused("The file contains NUL characters: it is not a CSV text file.")
    had_bom = text.startswith(BOM)
    return (text[1:] if had_bom else text), had_bom


def _first_line(text: str) -> str:
    return text[:_SAMPLE].split("\n", 1)[0].rstrip("\r")


def _names(line: str, delimiter: str) -> list[str]:
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []
    return [cell.strip().lower() for cell in cells]


def _known(line: str, delimiter: str) -> int:
    return len(set(_names(line, delimiter)) & set(COLUMNS))


def detect_delimiter(text: str) -> str:
    """The delimiter of the header line (see the module docstring)."""
    line = _first_line(text)
    try:
        sniffed = csv.Sniffer().sniff(line, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    best = max(DELIMITERS, key=lambda d: (_known(line, d), d == ","))
    if sniffed in DELIMITERS and _known(line, sniffed) >= _known(line, best):
        return sniffed
    return best


def check_header(cells: list[str]) -> tuple[str, ...]:
    """The header's column names, or :class:`FileRefused` naming what is wrong."""
    if len(cells) > MAX_HEADER_CELLS:
        raise FileRefused(
            f"The first line has {len(cells):,} columns; a product file has at most "
            f"{len(COLUMNS)}: {', '.join(COLUMNS)}.")
    names = [cell.strip().lower() for cell in cells]
    if any(not name for name in names):
        raise FileRefused("The first line has an empty column name; it must name the columns: "
                          f"{', '.join(COLUMNS)}.")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise FileRefused(f"Column {', '.join(repeated)} appears more than once in the first "
                          "line.")
    unknown = [name for name in names if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    problems = []
    if unknown:
        shown = ", ".join(_short(name) for name in unknown[:5])
        more = f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else ""
        problems.append(f"unknown column{'s' if len(unknown) > 1 else ''} {shown}{more}")
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if problems:
        raise FileRefused(f"The first line must name the columns {', '.join(COLUMNS)} "
                          f"(id and version may be left out): {'; '.join(problems)}.")
    return tuple(names)


def _short(name: str) -> str:
    return f"“{name[:40]}…”" if len(name) > 40 else f"“{name}”"


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, cells) for every record, blank lines skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    line = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise FileRefused(f"Line {reader.line_num:,} cannot be read as CSV ({error}). "
                              "Check its quotes.") from None
        if cells:
            yield line, cells
        line = reader.line_num + 1


def check_header_only(data: bytes) -> int:
    """Refuse a file whose encoding or header is wrong, without reading its rows; the number
    of lines it has (an upper bound of its rows, to choose where its rows are checked)."""
    text, _ = decode(data)
    delimiter = detect_delimiter(text)
    first = next(_records(text[:_SAMPLE * 16], delimiter), None)
    if first is None:
        raise FileRefused("The file is empty.")
    check_header(first[1])
    return text.count("\n")


def read_csv(data: bytes, *, max_rows: int) -> CsvFile:
    """The file's header and rows, or :class:`FileRefused`."""
    text, had_bom = decode(data)
    delimiter = detect_delimiter(text)
    records = _records(text, delimiter)
    first = next(records, None)
    if first is None:
        raise FileRefused("The file is empty.")
    header = check_header(first[1])
    width = len(header)
    rows: list[RawRow] = []
    for line, cells in records:
        if len(rows) >= max_rows:
            raise FileRefused(f"The file has more than {max_rows:,} rows; split it into files "
                              f"of at most {max_rows:,} rows.")
        if len(cells) != width:
            rows.append(RawRow(line, {}, width=len(cells)))
            continue
        if any(len(cell) > MAX_CELL for cell in cells):
            raise FileRefused(f"Line {line:,} has a cell of more than {MAX_CELL:,} characters.")
        rows.append(RawRow(line, dict(zip(header, cells, strict=True))))
    return CsvFile(header=header, rows=rows, delimiter=delimiter, had_bom=had_bom)


__all__ = ["DELIMITERS", "FileRefused", "CsvFile", "RawRow", "check_header_only", "read_csv"]
