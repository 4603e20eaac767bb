"""Reading and writing the register's spreadsheets (no database access here).

Reading: python-calamine, values only; the header row is the first row
with two texts or more (a title line above it is passed over). Writing:
XlsxWriter (the template, the export) and openpyxl (the checked copy of an
uploaded file, errors beside the cells). Every text cell written goes through core.spreadsheet, so text
that starts like a formula stays text; a leading ``'`` that neutralisation
added is taken off again on reading.
"""

import datetime
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from core.spreadsheet import FORMULA_STARTS, neutralise_workbook, neutralised, xlsx_value

MAX_COLUMNS = 200


class SheetError(ValueError):
    """The file is no spreadsheet SMS can read; str() says why."""


@dataclass
class Sheet:
    name: str
    header_row: int  # 1-based row number of the headers
    headers: list[str]
    rows: Iterator  # (row number, [cell values]) for each non-empty row


def cell_value(value):
    """A cell as read: text stripped (a neutralising ``'`` taken off),
    numbers and dates as they are, empty as None."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
            text = text[1:]
        return text or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def open_sheet(content: bytes, *, sheet: str = "") -> Sheet:
    """The sheet's header row and its data rows, values only. Read with
    python-calamine (Rust): several times faster than openpyxl's read-only
    mode, which parses a sheet without a size note twice (once to size it)."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(content))
        names = workbook.sheet_names
        if sheet and sheet not in names:
            raise SheetError(f"no sheet named {sheet!r} (the file has {', '.join(names)})")
        name = sheet or names[0]
        # From A1 (empty rows and columns kept): index + 1 is the row number.
        grid = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except SheetError:
        raise
    except Exception as exc:  # zip, XML and calamine errors alike
        raise SheetError(str(exc) or exc.__class__.__name__) from None
    header_row, headers = 0, []
    for number, row in enumerate(grid, start=1):
        values = [cell_value(v) for v in row[:MAX_COLUMNS]]
        # The header row: the first with two texts or more (a title line
        # above it, as old registers have, is passed over).
        if sum(isinstance(v, str) for v in values) >= 2:
            header_row = number
            headers = [str(v) if v is not None else "" for v in values]
            break
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise SheetError("the sheet has no header row")
    width = len(headers)

    def data_rows():
        for number in range(header_row + 1, len(grid) + 1):
            values = [cell_value(v) for v in grid[number - 1][:width]]
            if any(v is not None for v in values):
                values += [None] * (width - len(values))
                yield number, values

    return Sheet(name=name, header_row=header_row, headers=headers, rows=data_rows())


def jsonable_cell(value):
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return repr(value)
    return value


def annotated_copy(
    content: bytes, *, sheet: str, header_row: int, rows: dict, labels: dict
) -> bytes:
    """The uploaded workbook with each refused cell coloured and commented,
    and two columns after the last: what happens to the row, and its errors.
    ``rows``: {row number: (state, {column index or None: [messages]}, [warnings])}."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    workbook = openpyxl.load_workbook(io.BytesIO(content))
    # The uploaded cells are copied back: none may stay a live formula.
    neutralise_workbook(workbook)
    worksheet = workbook[sheet]
    refused = PatternFill("solid", fgColor="F8D7DA")
    warned = PatternFill("solid", fgColor="FFF3CD")
    width = worksheet.max_column
    state_col, errors_col = width + 1, width + 2
    for col, text in ((state_col, labels["state"]), (errors_col, labels["errors"])):
        cell = worksheet.cell(row=header_row, column=col, value=neutralised(text))
        cell.font = Font(bold=True)
    for number, (state, errors, warnings) in rows.items():
        worksheet.cell(row=number, column=state_col, value=neutralised(labels[state]))
        lines = []
        for index, messages in errors.items():
            if index is not None:
                cell = worksheet.cell(row=number, column=index + 1)
                cell.fill = refused
                cell.comment = Comment("\n".join(messages), "SMS")
                header = worksheet.cell(row=header_row, column=index + 1).value
                lines.append(f"{header}: {' '.join(messages)}")
            else:
                lines.extend(messages)
        lines.extend(warnings)
        if lines:
            cell = worksheet.cell(
                row=number, column=errors_col, value=neutralised("\n".join(lines))
            )
            if not errors:
                cell.fill = warned
            else:
                cell.fill = refused
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_workbook(
    *,
    headers: list[str],
    rows,
    explanations: list[tuple] | None = None,
    lists: dict | None = None,
    example_rows: int = 0,
    titles: dict,
) -> bytes:
    """A workbook: the register sheet (bold header row, frozen, one drop-down
    list for each column of ``lists`` {column index: [choices]}), the lists
    sheet and a sheet explaining each column (``explanations``: rows of
    (header, required, explanation, choices))."""
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": True})
    bold = workbook.add_format(
        {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#E8EEF4"}
    )
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    register = workbook.add_worksheet(titles["register"])
    register.freeze_panes(1, 0)
    for col, header in enumerate(headers):
        register.write_string(0, col, neutralised(header), bold)
        register.set_column(col, col, max(12, min(40, len(header) + 2)))
    if lists:
        sheet = workbook.add_worksheet(titles["lists"])
        for col, (index, choices) in enumerate(sorted(lists.items())):
            sheet.write_string(0, col, neutralised(headers[index]), bold)
            for row, choice in enumerate(choices, start=1):
                sheet.write_string(row, col, neutralised(str(choice)))
            letter = xlsxwriter.utility.xl_col_to_name(col)
            source = f"='{titles['lists']}'!${letter}$2:${letter}${max(2, len(choices) + 1)}"
            register.data_validation(
                1,
                index,
                1_048_575,
                index,
                {"validate": "list", "source": source, "error_type": "warning"},
            )
    for row_number, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            value = xlsx_value(value)
            if value is None:
                continue
            if isinstance(value, datetime.date):
                register.write_datetime(
                    row_number, col, datetime.datetime.combine(value, datetime.time()), date_format
                )
            elif isinstance(value, str):
                register.write_string(row_number, col, value)
            else:
                register.write_number(row_number, col, float(value))
    if explanations:
        sheet = workbook.add_worksheet(titles["explanations"])
        for col, title in enumerate(titles["explanation_headers"]):
            sheet.write_string(0, col, neutralised(title), bold)
        sheet.set_column(0, 0, 30)
        sheet.set_column(1, 1, 12)
        sheet.set_column(2, 2, 70)
        sheet.set_column(3, 3, 60)
        for row_number, values in enumerate(explanations, start=1):
            for col, value in enumerate(values):
                sheet.write_string(row_number, col, neutralised(str(value)), wrap)
    workbook.close()
    return out.getvalue()
