"""Cells of every CSV and XLSX file SMS writes, safe to open in a spreadsheet.

Text a user typed (a login name, a browser's User-Agent, a declaration's
reasons) can start like a formula: ``=HYPERLINK(...)`` or ``=cmd|...`` would
run or link when another official opens the file. OWASP's rule for CSV
injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return gets a leading ``'``, so the spreadsheet shows it as text.
Numbers and dates stay what they are (numeric cells, never prefixed): the rule
looks at the type of the value, not at its characters. Every CSV and XLSX
writer passes its cells through here.

Bottom layer: imports no app of SMS.
"""

import csv
import datetime
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str) -> str:
    """The text, with a leading ``'`` if a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def xlsx_value(value):
    """A value for an openpyxl cell: numbers, dates and empty cells as they are,
    anything else as neutralised text (never a formula)."""
    if value is None or _is_number(value) or isinstance(value, datetime.date | datetime.time):
        return value
    return neutralised(str(value))


def neutralise_workbook(workbook) -> int:
    """Every cell of an openpyxl ``workbook`` (one SMS did not write: an
    uploaded file copied back with notes) through the rule: formulas and text
    that starts like one become text, numbers and dates stay. Returns the
    number of cells changed."""
    changed = 0
    for worksheet in workbook.worksheets:
        for row in getattr(worksheet, "iter_rows", lambda: ())():
            for cell in row:
                value = cell.value
                if value is None or isinstance(value, bool | datetime.date | datetime.time):
                    continue
                if _is_number(value):
                    continue
                # An array formula keeps its text in .text.
                text = value if isinstance(value, str) else str(getattr(value, "text", value))
                safe = neutralised(text)
                if safe != value:
                    cell.value = safe
                    changed += 1
    return changed


def csv_value(value) -> str:
    """A CSV field: a number in plain notation, a date in ISO form, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if _is_number(value):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return neutralised(str(value))


class CsvWriter:
    """``csv.writer`` whose every row goes through :func:`csv_value`.

    ``writerow`` returns what the underlying file's ``write`` returns, so a
    streamed response can use an echoing pseudo-file as with ``csv.writer``.
    """

    def __init__(self, file, **options):
        self._writer = csv.writer(file, **options)

    def writerow(self, row):
        return self._writer.writerow([csv_value(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)
