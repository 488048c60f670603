"""Reading and writing the catalogue's sheets as CSV files and XLSX workbooks (openpyxl).

CSV is written as UTF-8 with a byte-order mark (so that Excel opens Chinese text correctly) and
read as UTF-8, falling back to GB 18030 (what Excel in a Chinese locale saves). Row numbers are
those a spreadsheet shows: the header is row 1. openpyxl (about 10 MB) is imported when a workbook is
first read or written, not with the service.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from services.catalogue.domain.tabular import Table

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv"
MAX_ROWS = 500_000


class UnreadableFile(ValueError):
    """A file that is not a CSV file or XLSX workbook we can read."""


def _trim(cells: list[Any]) -> list[Any]:
    while cells and (cells[-1] is None or cells[-1] == ""):
        cells.pop()
    return cells


def read_csv(data: bytes, sheet: str) -> Table:
    """The table of one CSV file, named ``sheet``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise UnreadableFile("the CSV file is neither UTF-8 nor GB 18030 text") from None
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise UnreadableFile(f"the CSV file cannot be parsed: {exc}") from None
    if not records:
        raise UnreadableFile("the CSV file is empty")
    if len(records) > MAX_ROWS:
        raise UnreadableFile(f"more than {MAX_ROWS} rows")
    header, *rows = records
    return Table(sheet, list(header), [(n, _trim(list(r))) for n, r in enumerate(rows, start=2)])


def read_xlsx(data: bytes) -> list[Table]:
    """The tables of an XLSX workbook, one per worksheet."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a file that is not a workbook
        raise UnreadableFile(f"not an XLSX workbook: {type(exc).__name__}") from None
    try:
        return _tables(workbook)
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(f"the workbook cannot be read: {type(exc).__name__}") from None
    finally:
        workbook.close()


def _tables(workbook: Any) -> list[Table]:
    tables: list[Table] = []
    for worksheet in workbook.worksheets:
        rows = worksheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            continue
        body: list[tuple[int, list[Any]]] = []
        for n, row in enumerate(rows, start=2):
            if n > MAX_ROWS:
                raise UnreadableFile(f"sheet {worksheet.title} has more than {MAX_ROWS} rows")
            body.append((n, _trim(list(row))))
        tables.append(Table(worksheet.title.strip(), _trim(list(header)), body))
    if not tables:
        raise UnreadableFile("the workbook holds no sheet with a header row")
    return tables


def write_csv(table: Table) -> bytes:
    """One table as a CSV file (UTF-8 with BOM, CRLF line ends)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.header)
    for _n, row in table.rows:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(tables: list[Table]) -> bytes:
    """Tables as the worksheets of one workbook; text is always stored as text, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for table in tables:
        worksheet = workbook.create_sheet(table.sheet)
        worksheet.append(table.header)
        for _n, row in table.rows:
            worksheet.append(row)
        for cells in worksheet.iter_rows():
            for cell in cells:
                if cell.data_type == "f":  # a text beginning with "=" is text here
                    cell.data_type = "s"
                if isinstance(cell.value, str) and "\n" in cell.value:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
        worksheet.freeze_panes = "A2"
        for i, name in enumerate(table.header, start=1):
            width = max([len(str(name))] + [len(str(r[i - 1] or "")) for _n, r in table.rows[:200] if len(r) >= i])
            worksheet.column_dimensions[get_column_letter(i)].width = min(max(width * 1.6, 10), 60)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
