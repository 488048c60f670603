"""The catalogue as sheets, for officials who work in Excel: columns, cells, and the import plan. Pure.

Five sheets (one CSV file each, or five worksheets of one XLSX workbook), each with a header row:

- ``items``: one row per item. ``committed_days`` is left blank for an item with business
  standards (it is the longest of their committed time limits).
- ``standards``: one row per item and locality.
- ``materials``: one row per material of a standard, ordered by ``seq``; ``commitment_text``,
  ``commitment_verify_days`` and ``commitment_excludes_prior_false`` say whether a written commitment
  may replace it (告知承诺制, docs/commitments.md), blank where none may.
- ``procedures``: one row per step of an item's procedure in one mode, ordered by ``seq``.
- ``windows``: one row per window; ``item_codes`` lists the items it accepts.

Lists of values are separated by ``;`` (``modes``, ``keywords``, ``item_codes``) or by line breaks
within the cell (``conditions``, ``legal_basis``). Booleans are ``yes``/``no`` (also ``是``/``否``,
``true``/``false``, ``1``/``0``).

An import adds and updates, it never deletes: a row sets its item, standard or window; the
materials of every standard named in the ``materials`` sheet, and the steps of every procedure
named in the ``procedures`` sheet, are replaced by that sheet's rows. A column left out of the
sheet keeps the stored value. Every bad row is reported (sheet, row, column, reason) and then
nothing at all is applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from services.catalogue.domain.items import HANDLING_MODES, Item
from services.catalogue.domain.standards import (
    Procedure,
    Standard,
    Window,
)

Kind = Literal["text", "int", "bool", "list", "lines"]


@dataclass(frozen=True)
class Column:
    """A column of a sheet. A required column must be in the header; its cells must not be blank."""

    name: str
    kind: Kind = "text"
    required: bool = True


SHEETS: dict[str, tuple[Column, ...]] = {
    "items": (
        Column("code"), Column("name_zh"), Column("name_en"), Column("area"), Column("modes", "list"),
        Column("ownership_rule"), Column("committed_days", "int", False), Column("keywords", "list", False),
        Column("illustrative", "bool", False), Column("national_code", required=False),
    ),
    "standards": (
        Column("item_code"), Column("locality"), Column("competent_department"), Column("legal_days", "int"),
        Column("committed_days", "int"), Column("fee"), Column("conditions", "lines", False),
        Column("legal_basis", "lines", False), Column("illustrative", "bool", False), Column("note", required=False),
        Column("implementation_code", required=False),
    ),
    "materials": (
        Column("item_code"), Column("locality"), Column("seq", "int"), Column("name"), Column("form"),
        Column("count", "int"), Column("electronic_accepted", "bool"), Column("note", required=False),
        Column("commitment_text", required=False), Column("commitment_verify_days", "int", False),
        Column("commitment_excludes_prior_false", "bool", False),
    ),
    "procedures": (
        Column("item_code"), Column("mode"), Column("seq", "int"), Column("name_zh"), Column("name_en"),
        Column("role"), Column("locality"), Column("illustrative", "bool", False),
    ),
    "windows": (
        Column("id"), Column("locality"), Column("name_zh"), Column("name_en"), Column("address"),
        Column("hours"), Column("phone"), Column("item_codes", "list", False), Column("illustrative", "bool", False),
    ),
}
SHEET_NAMES = tuple(SHEETS)
_TRUE = {"yes", "y", "true", "1", "是", "√", "✓"}
_FALSE = {"no", "n", "false", "0", "否", "×", ""}
_LIST_SPLIT = re.compile(r"[;；]")


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row (``row`` counts from 1, the header; ``column`` may be None)."""

    sheet: str
    row: int | None
    column: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """The error as plain data."""
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "reason": self.reason}


class ImportRejected(ValueError):
    """An import with bad rows: nothing is applied."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


@dataclass
class Table:
    """A sheet as read from a file: its header and its rows of raw cells, with their row numbers."""

    sheet: str
    header: list[str]
    rows: list[tuple[int, list[Any]]]


Row = tuple[int, dict[str, Any]]


def _cell(kind: Kind, raw: Any) -> Any:
    """A raw cell as a value of its column's kind; ValueError with the reason otherwise."""
    if isinstance(raw, str):
        raw = raw.strip()
    if raw is None or raw == "":
        return {"text": "", "int": None, "bool": None, "list": (), "lines": ()}[kind]
    if kind == "int":
        if isinstance(raw, bool):
            raise ValueError("is not a whole number")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, str) and re.fullmatch(r"[+-]?\d{1,9}", raw):
            return int(raw)
        raise ValueError(f"{raw!r} is not a whole number")
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{raw!r} is not yes or no")
    text = _text(raw)
    if kind == "list":
        return tuple(part.strip() for part in _LIST_SPLIT.split(text) if part.strip())
    if kind == "lines":
        return tuple(line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip())
    return text


def _text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime | date):
        return raw.isoformat()
    return str(raw)


def parse_table(table: Table) -> tuple[list[Row], list[RowError]]:
    """The rows of a table as typed values by column, and every error of its header and cells."""
    errors: list[RowError] = []
    columns = SHEETS.get(table.sheet)
    if columns is None:
        return [], [RowError(table.sheet, None, None, f"unknown sheet; the sheets are {', '.join(SHEET_NAMES)}")]
    by_name = {c.name: c for c in columns}
    header = [_text(h).strip() if h is not None else "" for h in table.header]
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        if not name:
            continue
        if name not in by_name:
            errors.append(RowError(table.sheet, 1, name, f"unknown column; the columns are {', '.join(by_name)}"))
        elif name in positions:
            errors.append(RowError(table.sheet, 1, name, "the column appears twice"))
        else:
            positions[name] = i
    for column in columns:
        if column.required and column.name not in positions:
            errors.append(RowError(table.sheet, 1, column.name, "missing column"))
    if errors:
        return [], errors
    rows: list[Row] = []
    for number, cells in table.rows:
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        values: dict[str, Any] = {}
        found = len(errors)
        for name, i in positions.items():
            column = by_name[name]
            raw = cells[i] if i < len(cells) else None
            try:
                value = _cell(column.kind, raw)
            except ValueError as exc:
                errors.append(RowError(table.sheet, number, name, str(exc)))
                continue
            if column.required and value in ("", None, ()):
                errors.append(RowError(table.sheet, number, name, "is required"))
                continue
            values[name] = value
        extra = [c for c in cells[len(header):] if c not in (None, "")]
        if extra:
            errors.append(RowError(table.sheet, number, None, "holds values beyond the last column"))
        if len(errors) == found:
            rows.append((number, values))  # a row with bad cells is reported once, not checked further
    return rows, errors


# ---------------------------------------------------------------------- export


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def export_tables(
    items: Iterable[Item],
    standards: Iterable[Standard],
    procedures: Iterable[Procedure],
    windows: Iterable[Window],
) -> list[Table]:
    """The content as the five sheets, in a form that imports back to exactly the same content."""
    standards = sorted(standards, key=lambda s: (s.item_code, s.locality))
    with_standards = {s.item_code for s in standards}
    item_rows = [
        [i.code, i.name_zh, i.name_en, i.area, "; ".join(i.modes), i.ownership_rule,
         None if i.code in with_standards else i.committed_days, "; ".join(i.keywords), _yes(i.illustrative),
         i.national_code]
        for i in sorted(items, key=lambda i: i.code)
    ]
    standard_rows = [
        [s.item_code, s.locality, s.competent_department, s.legal_days, s.committed_days, s.fee,
         "\n".join(s.conditions), "\n".join(s.legal_basis), _yes(s.illustrative), s.note,
         s.implementation_code]
        for s in standards
    ]
    material_rows = [
        [s.item_code, s.locality, n, m.name, m.form, m.count, _yes(m.electronic_accepted), m.note,
         *((m.commitment.text, m.commitment.verify_days, _yes(m.commitment.excludes_prior_false)) if m.commitment
           else ("", None, ""))]
        for s in standards for n, m in enumerate(s.materials, start=1)
    ]
    ordered = sorted(procedures, key=lambda p: (p.item_code, HANDLING_MODES.index(p.mode)))
    procedure_rows = [
        [p.item_code, p.mode, n, step.name_zh, step.name_en, step.role, step.locality, _yes(p.illustrative)]
        for p in ordered for n, step in enumerate(p.steps, start=1)
    ]
    window_rows = [
        [w.id, w.locality, w.name_zh, w.name_en, w.address, w.hours, w.phone, "; ".join(w.item_codes),
         _yes(w.illustrative)]
        for w in sorted(windows, key=lambda w: w.id)
    ]
    content: dict[str, list[list[Any]]] = {"items": item_rows, "standards": standard_rows, "materials": material_rows,
               "procedures": procedure_rows, "windows": window_rows}
    return [
        Table(sheet, [c.name for c in SHEETS[sheet]], [(n, row) for n, row in enumerate(content[sheet], start=2)])
        for sheet in SHEET_NAMES
    ]
