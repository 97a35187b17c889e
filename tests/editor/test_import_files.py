"""Files the import refuses, or reads despite their dialect: each bad file gets its reason in
place and leaves nothing behind (no product, no revision, no stored file); formula cells are
refused row by row; a byte-order mark and other delimiters are read."""

from __future__ import annotations

import os

import pytest

from app.data.csv_format import COLUMNS
from tests.support.html import parse
from tests.support.imports import catalog, csv_bytes, row, summary, upload


@pytest.fixture(autouse=True)
def cats(sql) -> dict[str, int]:
    return catalog(sql)


def refusal(response, status: int = 422) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:1000]
    (alert,) = parse(response.get_data(as_text=True)).select("[role=alert]")
    return alert.text


def nothing_kept(sql) -> None:
    assert sql.scalar("SELECT count(*) FROM import_files") == 0
    assert sql.scalar("SELECT count(*) FROM products") == 0
    assert sql.scalar("SELECT count(*) FROM product_revisions") == 0


def test_a_file_that_is_not_utf8_is_refused(editor, sql):
    latin1 = csv_bytes([row(name="Café Lamp")]).decode("utf-8").encode("latin-1")
    message = refusal(upload(editor, latin1))
    assert "not UTF-8 text" in message and "CSV UTF-8" in message
    assert "Nothing was changed" in message
    nothing_kept(sql)


def test_ten_megabytes_of_garbage_are_refused(editor, sql):
    message = refusal(upload(editor, os.urandom(10 * 1024 * 1024), filename="garbage.csv"))
    assert "not UTF-8 text" in message
    printable = (b"lorem ipsum;dolor sit amet\n" * 400_000)[:10 * 1024 * 1024]
    message = refusal(upload(editor, printable))
    assert "unknown columns “lorem ipsum”, “dolor sit amet”" in message
    nothing_kept(sql)


@pytest.mark.parametrize(("columns", "expected"), [
    (tuple(c for c in COLUMNS if c not in ("price", "stock")), "missing columns price, stock"),
    ((*COLUMNS, "weight"), "unknown column “weight”"),
    ((*COLUMNS, "name"), "Column name appears more than once"),
])
def test_missing_unknown_or_repeated_columns_are_named(editor, sql, columns, expected):
    message = refusal(upload(editor, csv_bytes([row()], columns=columns)))
    assert expected in message
    nothing_kept(sql)


def test_a_header_of_ten_thousand_columns_is_refused(editor, sql):
    header = ",".join(f"c{n}" for n in range(10_000)).encode() + b"\n"
    assert "has 10,000 columns" in refusal(upload(editor, header))
    nothing_kept(sql)


def test_a_row_of_ten_thousand_cells_is_rejected_with_its_line(editor, sql):
    data = csv_bytes([row()]) + (",".join(["x"] * 10_000)).encode() + b"\n"
    shown = summary(upload(editor, data))
    assert shown["counts"]["Rejected"] == 1 and shown["counts"]["To create"] == 1
    assert shown["problems"] == [("3", "", "The row has 10,000 cells; the header has 13. "
                                             "Check the delimiters and quotes.")]


def test_too_many_rows_are_refused(app, editor, sql, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 3)
    data = csv_bytes([row(slug=f"lamp-{n}") for n in range(4)])
    assert "more than 3 rows" in refusal(upload(editor, data))
    nothing_kept(sql)


def test_an_oversized_file_is_refused_in_place(app, editor, sql, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_BYTES", 2048)
    data = csv_bytes([row(slug=f"lamp-{n}") for n in range(100)])  # about 6 KB
    response = upload(editor, data)
    assert "larger than 2 KB" in refusal(response, 413)
    assert "The file is larger than" in refusal(response, 413)
    nothing_kept(sql)


def test_an_empty_file_or_none_at_all_is_refused(editor, sql):
    assert "The file is empty." in refusal(upload(editor, b""))
    assert "The file is empty." in refusal(upload(editor, b"\xef\xbb\xbf\r\n"))
    nothing_kept(sql)


def test_formula_cells_are_refused_row_by_row_unless_marked_as_text(editor, sql):
    data = csv_bytes([
        row(slug="one", name="=HYPERLINK(\"http://evil.example\")"),
        row(slug="two", description="+1+1"),
        row(slug="three", brand="@SUM(A1)"),
        row(slug="four", colour="-2"),
        row(slug="five", name="'=Marked as text", brand="'-dash"),
    ])
    shown = summary(upload(editor, data))
    assert shown["counts"]["Rejected"] == 4 and shown["counts"]["To create"] == 1
    assert [(line, slug, why.split(":")[0]) for line, slug, why in shown["problems"]] == [
        ("2", "one", "name"), ("3", "two", "description"), ("4", "three", "brand"),
        ("5", "four", "colour")]
    assert "a spreadsheet would run as a formula" in shown["problems"][0][2]


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_a_byte_order_mark_and_each_delimiter_are_read(editor, sql, delimiter):
    data = csv_bytes([row(name="Lamp; with, every | delimiter\tin it")], delimiter=delimiter,
                     bom=True)
    shown = summary(upload(editor, data))
    assert shown["counts"]["To create"] == 1 and shown["problems"] == []
    assert "with a byte-order mark" in shown["page"].text


def test_a_broken_quote_is_refused_with_its_line(editor, sql):
    data = csv_bytes([row()]) + b'"x,"y\n'
    message = refusal(upload(editor, data))
    assert message.startswith("Line 3 cannot be read as CSV")
    nothing_kept(sql)
