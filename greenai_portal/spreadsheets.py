"""Cells for CSV and XLSX downloads that a spreadsheet never runs as a formula.

Labels in downloads come from clients (a model or team name sent with any ingest token): a
value such as `=HYPERLINK(...)` must stay text. OWASP's CSV-injection rule: a text cell that
starts with = + - @ tab or carriage return is a formula to Excel, LibreOffice and Sheets.
"""

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: object) -> bool:
    """Whether a spreadsheet would read this value as a formula: the one test every writer uses."""
    return isinstance(value, str) and value.startswith(FORMULA_LEADS)


def csv_cell(value: object) -> object:
    # A CSV cell has no type: a leading apostrophe makes the spreadsheet read it as text.
    return "'" + value if is_formula_like(value) else value


def csv_text(rows: Iterable[Sequence]) -> str:
    """Rows as CSV text; numbers stay numbers, formula-like text is quoted out."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return out.getvalue()


def xlsx_append(sheet, row: Sequence) -> None:
    """Append a row to an openpyxl sheet: text cells are written as strings, never formulas,
    and formula-like ones carry Excel's quote prefix so that editing them keeps them text."""
    sheet.append(row)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            cell.quotePrefix = is_formula_like(cell.value)
