"""Planning an import of the catalogue's sheets: what each row creates or changes, or why it is refused. Pure."""


from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from services.catalogue.domain.errors import InvalidContent
from services.catalogue.domain.items import HANDLING_MODES, ITEM_CODE, Item
from services.catalogue.domain.snapshot import snapshot
from services.catalogue.domain.standards import (
    WINDOW_ID,
    CommitmentRule,
    Material,
    Procedure,
    ProcedureStep,
    Standard,
    Window,
    headline_days,
)
from services.catalogue.domain.tabular import (
    _LIST_SPLIT,
    SHEET_NAMES,
    SHEETS,
    ImportRejected,
    Row,
    RowError,
    Table,
    _text,
    parse_table,
)


@dataclass
class Existing:
    """The stored content an import may touch: items, standards and procedures by item, windows."""

    items: dict[str, Item] = field(default_factory=dict)
    standards: dict[str, dict[str, Standard]] = field(default_factory=dict)
    procedures: dict[str, dict[str, Procedure]] = field(default_factory=dict)
    windows: dict[str, Window] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemPlan:
    """The new state of one item an import touches."""

    item: Item
    standards: tuple[Standard, ...]
    procedures: tuple[Procedure, ...]
    created: bool
    changed: bool


@dataclass(frozen=True)
class WindowPlan:
    """The new state of one window an import touches."""

    window: Window
    created: bool
    changed: bool


@dataclass(frozen=True)
class ImportPlan:
    """What an import does."""

    items: tuple[ItemPlan, ...]
    windows: tuple[WindowPlan, ...]

    def summary(self) -> dict[str, int]:
        """Counts of created, changed and unchanged items and windows."""
        return {
            "items_created": sum(p.created for p in self.items),
            "items_changed": sum(p.changed and not p.created for p in self.items),
            "items_unchanged": sum(not p.changed for p in self.items),
            "windows_created": sum(p.created for p in self.windows),
            "windows_changed": sum(p.changed and not p.created for p in self.windows),
            "windows_unchanged": sum(not p.changed for p in self.windows),
        }


def referenced(tables: Iterable[Table]) -> tuple[set[str], set[str]]:
    """The item codes and window ids that a set of tables names (to load before planning)."""
    codes: set[str] = set()
    windows: set[str] = set()
    for table in tables:
        header = [_text(h).strip() if h is not None else "" for h in table.header]
        for name in ("code", "item_code", "item_codes", "id"):
            if name not in header:
                continue
            i = header.index(name)
            for _number, cells in table.rows:
                raw = cells[i] if i < len(cells) else None
                if raw is None:
                    continue
                text = _text(raw).strip()
                if name == "id":
                    windows.add(text)
                elif name == "item_codes":
                    codes.update(p.strip() for p in _LIST_SPLIT.split(text) if p.strip())
                else:
                    codes.add(text)
    return {c for c in codes if ITEM_CODE.match(c)}, {w for w in windows if WINDOW_ID.match(w)}


def _first(value: int | None, fallback: int) -> int:
    return fallback if value is None else value


class _Planner:
    """Builds an :class:`ImportPlan` from parsed sheets, collecting every error."""

    def __init__(self, existing: Existing, localities: Collection[str]) -> None:
        self.existing = existing
        self.localities = localities
        self.errors: list[RowError] = []
        self.items: dict[str, Item] = {}
        self.item_rows: dict[str, Row] = {}
        self.standards: dict[tuple[str, str], Standard] = {}
        self.standard_rows: dict[tuple[str, str], int] = {}
        self.materials: dict[tuple[str, str], tuple[Material, ...]] = {}
        self.procedures: dict[tuple[str, str], Procedure] = {}
        self.first_row: dict[str, tuple[str, int]] = {}
        self.windows: dict[str, Window] = {}

    def error(self, sheet: str, row: int, column: str | None, reason: str) -> None:
        self.errors.append(RowError(sheet, row, column, reason))

    def invalid(self, sheet: str, row: int, exc: InvalidContent, columns: Collection[str]) -> None:
        column = exc.field if exc.field in columns else None
        self.error(sheet, row, column, exc.message if column else str(exc))

    def touch(self, code: str, sheet: str, row: int) -> None:
        self.first_row.setdefault(code, (sheet, row))

    def known_item(self, code: str) -> bool:
        return code in self.items or code in self.existing.items

    def item_of(self, code: str) -> Item | None:
        return self.items.get(code) or self.existing.items.get(code)

    def check_locality(self, sheet: str, row: int, locality: str) -> bool:
        if locality not in self.localities:
            self.error(sheet, row, "locality", f"{locality!r} is not a registered locality")
            return False
        return True

    # ------------------------------------------------------------------ sheets

    def items_sheet(self, rows: list[Row]) -> None:
        seen: dict[str, int] = {}
        columns = [c.name for c in SHEETS["items"]]
        for number, v in rows:
            code = v.get("code", "")
            if code in seen:
                self.error("items", number, "code", f"item {code} appears again (first on row {seen[code]})")
                continue
            seen[code] = number
            old = self.existing.items.get(code)
            try:
                item = Item(
                    code=code,
                    name_zh=v.get("name_zh", old.name_zh if old else ""),
                    name_en=v.get("name_en", old.name_en if old else ""),
                    area=v.get("area", old.area if old else ""),
                    modes=tuple(v.get("modes", old.modes if old else ())),
                    ownership_rule=v.get("ownership_rule", old.ownership_rule if old else ""),
                    committed_days=_first(v.get("committed_days"), old.committed_days if old else 0),
                    status=old.status if old else "draft",
                    revision=old.revision if old else 0,
                    keywords=tuple(v.get("keywords", old.keywords if old else ())),
                    illustrative=bool(v.get("illustrative", old.illustrative if old else False)),
                    national_code=v.get("national_code", old.national_code if old else ""),
                )
            except InvalidContent as exc:
                self.invalid("items", number, exc, columns)
                continue
            if not item.modes:
                self.error("items", number, "modes", "an item supports at least one handling mode")
                continue
            self.items[code] = item
            self.item_rows[code] = (number, v)
            self.touch(code, "items", number)

    def standards_sheet(self, rows: list[Row]) -> None:
        columns = [c.name for c in SHEETS["standards"]]
        for number, v in rows:
            code, locality = v.get("item_code", ""), v.get("locality", "")
            key = (code, locality)
            if key in self.standard_rows:
                first = self.standard_rows[key]
                self.error("standards", number, "locality",
                           f"the standard of {code} in {locality} appears again (first on row {first})")
                continue
            if not self.known_item(code):
                self.error("standards", number, "item_code", f"unknown item {code!r}")
                continue
            if not self.check_locality("standards", number, locality):
                continue
            old = self.existing.standards.get(code, {}).get(locality)
            try:
                standard = Standard(
                    item_code=code,
                    locality=locality,
                    competent_department=v["competent_department"],
                    legal_days=v["legal_days"],
                    committed_days=v["committed_days"],
                    materials=old.materials if old else (),
                    conditions=tuple(v.get("conditions", old.conditions if old else ())),
                    fee=v["fee"],
                    legal_basis=tuple(v.get("legal_basis", old.legal_basis if old else ())),
                    illustrative=bool(v.get("illustrative", old.illustrative if old else False)),
                    note=v.get("note", old.note if old else ""),
                    implementation_code=v.get("implementation_code", old.implementation_code if old else ""),
                )
            except InvalidContent as exc:
                self.invalid("standards", number, exc, columns)
                continue
            self.standards[key] = standard
            self.standard_rows[key] = number
            self.touch(code, "standards", number)

    def materials_sheet(self, rows: list[Row]) -> None:
        columns = [c.name for c in SHEETS["materials"]]
        groups: dict[tuple[str, str], list[tuple[int, int, Material]]] = {}
        for number, v in rows:
            code, locality, seq = v.get("item_code", ""), v.get("locality", ""), v.get("seq")
            if not self.known_item(code):
                self.error("materials", number, "item_code", f"unknown item {code!r}")
                continue
            if not self.check_locality("materials", number, locality):
                continue
            key = (code, locality)
            if key not in self.standards and locality not in self.existing.standards.get(code, {}):
                self.error("materials", number, "locality", f"item {code} has no business standard in {locality}")
                continue
            try:
                material = Material(v["name"], v["form"], v["count"], bool(v["electronic_accepted"]), v.get("note", ""),
                                    self.commitment_of(code, locality, v))
            except InvalidContent as exc:
                self.invalid("materials", number, exc, columns)
                continue
            group = groups.setdefault(key, [])
            clash = next((r for r, s, m in group if s == seq), None)
            if clash is not None:
                self.error("materials", number, "seq", f"seq {seq} appears again for {code} in {locality} "
                                                       f"(first on row {clash})")
                continue
            clash = next((r for r, _s, m in group if m.name == material.name), None)
            if clash is not None:
                self.error("materials", number, "name", f"material {material.name!r} appears again for {code} in "
                                                        f"{locality} (first on row {clash})")
                continue
            group.append((number, seq or 0, material))
            self.touch(code, "materials", number)
        for key, group in groups.items():
            self.materials[key] = tuple(m for _r, _s, m in sorted(group, key=lambda g: g[1]))

    def commitment_of(self, code: str, locality: str, v: dict[str, Any]) -> CommitmentRule | None:
        """The row's commitment rule; without the ``commitment_text`` column, the stored material's rule."""
        if "commitment_text" not in v:
            stored = self.standards.get((code, locality)) or self.existing.standards.get(code, {}).get(locality)
            return next((m.commitment for m in (stored.materials if stored else ()) if m.name == v["name"].strip()),
                        None)
        if not v["commitment_text"]:
            return None
        if v.get("commitment_verify_days") is None:
            raise InvalidContent("commitment_verify_days", "is required with a commitment's text")
        excludes = v.get("commitment_excludes_prior_false")
        return CommitmentRule(v["commitment_text"], v["commitment_verify_days"], True if excludes is None else excludes)

    def procedures_sheet(self, rows: list[Row]) -> None:
        columns = [c.name for c in SHEETS["procedures"]]
        groups: dict[tuple[str, str], list[tuple[int, int, ProcedureStep, bool]]] = {}
        for number, v in rows:
            code, mode, seq = v.get("item_code", ""), v.get("mode", ""), v.get("seq")
            if not self.known_item(code):
                self.error("procedures", number, "item_code", f"unknown item {code!r}")
                continue
            if mode not in HANDLING_MODES:
                self.error("procedures", number, "mode", f"unknown handling mode {mode!r}")
                continue
            item = self.item_of(code)
            if item is not None and mode not in item.modes:
                self.error("procedures", number, "mode", f"item {code} does not support the mode {mode}")
                continue
            locality = v["locality"]
            if locality.isdigit() and locality not in self.localities:
                self.error("procedures", number, "locality", f"{locality!r} is not a registered locality")
                continue
            try:
                step = ProcedureStep(v["name_zh"], v["name_en"], v["role"], locality)
            except InvalidContent as exc:
                self.invalid("procedures", number, exc, columns)
                continue
            group = groups.setdefault((code, mode), [])
            clash = next((r for r, s, _st, _i in group if s == seq), None)
            if clash is not None:
                self.error("procedures", number, "seq", f"seq {seq} appears again for {code} in mode {mode} "
                                                        f"(first on row {clash})")
                continue
            illustrative = bool(v.get("illustrative", False))
            if group and group[0][3] != illustrative:
                self.error("procedures", number, "illustrative",
                           f"differs from row {group[0][0]}: a procedure is illustrative or not as a whole")
                continue
            group.append((number, seq or 0, step, illustrative))
            self.touch(code, "procedures", number)
        for (code, mode), group in groups.items():
            ordered = sorted(group, key=lambda g: g[1])
            self.procedures[(code, mode)] = Procedure(code, mode, tuple(g[2] for g in ordered), ordered[0][3])

    def windows_sheet(self, rows: list[Row]) -> None:
        columns = [c.name for c in SHEETS["windows"]]
        seen: dict[str, int] = {}
        for number, v in rows:
            window_id = v.get("id", "")
            if window_id in seen:
                self.error("windows", number, "id",
                           f"window {window_id} appears again (first on row {seen[window_id]})")
                continue
            seen[window_id] = number
            if not self.check_locality("windows", number, v.get("locality", "")):
                continue
            old = self.existing.windows.get(window_id)
            codes = tuple(v.get("item_codes", old.item_codes if old else ()))
            unknown = [c for c in codes if not self.known_item(c)]
            if unknown:
                self.error("windows", number, "item_codes", f"unknown item {unknown[0]!r}")
                continue
            try:
                window = Window(window_id, v["locality"], v["name_zh"], v["name_en"], v["address"], v["hours"],
                                v["phone"], codes, bool(v.get("illustrative", old.illustrative if old else False)))
            except InvalidContent as exc:
                self.invalid("windows", number, exc, columns)
                continue
            self.windows[window_id] = window

    # ------------------------------------------------------------------ composition

    def compose(self) -> list[ItemPlan]:
        plans: list[ItemPlan] = []
        for code in sorted(self.first_row):
            old_item = self.existing.items.get(code)
            item = self.items.get(code) or old_item
            if item is None:  # pragma: no cover - every touched code is known
                continue
            standards = dict(self.existing.standards.get(code, {}))
            for (c, locality), standard in self.standards.items():
                if c == code:
                    standards[locality] = standard
            for (c, locality), materials in self.materials.items():
                if c == code:
                    standards[locality] = replace(standards[locality], materials=materials)
            procedures = dict(self.existing.procedures.get(code, {}))
            for (c, mode), procedure in self.procedures.items():
                if c == code:
                    procedures[mode] = procedure
            row = self.item_rows.get(code)
            orphaned = [m for m in procedures if m not in item.modes]
            if orphaned:
                sheet, number = ("items", row[0]) if row else self.first_row[code]
                self.error(sheet, number, "modes" if row else None,
                           f"item {code} has a procedure for the mode {orphaned[0]}, which it would no longer support")
                continue
            if standards:
                derived = headline_days(list(standards.values()), item.committed_days)
                given = row[1].get("committed_days") if row else None
                if given is not None and given != derived:
                    self.error("items", row[0] if row else 0, "committed_days",
                               f"is the longest committed time limit of the item's standards ({derived}); "
                               "leave it blank")
                    continue
                item = replace(item, committed_days=derived)
            elif row is not None and row[1].get("committed_days") is None and old_item is None:
                self.error("items", row[0], "committed_days", "is required while the item has no business standards")
                continue
            new_snapshot = snapshot(item, standards.values(), procedures.values())
            created = old_item is None
            changed = created or new_snapshot != snapshot(
                old_item, self.existing.standards.get(code, {}).values(),  # type: ignore[arg-type]
                self.existing.procedures.get(code, {}).values(),
            )
            if changed and not created:
                if old_item is not None and old_item.status == "withdrawn":
                    sheet, number = self.first_row[code]
                    self.error(sheet, number, None, f"item {code} is withdrawn and cannot be changed")
                    continue
                item = item.revised()
            plans.append(ItemPlan(item, tuple(standards[k] for k in sorted(standards)),
                                  tuple(procedures[m] for m in HANDLING_MODES if m in procedures), created, changed))
        return plans


def plan_import(tables: Iterable[Table], existing: Existing, localities: Collection[str]) -> ImportPlan:
    """What importing ``tables`` does to the ``existing`` content; :class:`ImportRejected` with every bad row."""
    planner = _Planner(existing, localities)
    parsed: dict[str, list[Row]] = {}
    seen_sheets: set[str] = set()
    for table in tables:
        if table.sheet in seen_sheets:
            planner.errors.append(RowError(table.sheet, None, None, "the sheet appears twice"))
            continue
        seen_sheets.add(table.sheet)
        rows, errors = parse_table(table)
        planner.errors.extend(errors)
        parsed[table.sheet] = rows
    if not any(parsed.values()) and not planner.errors:
        planner.errors.append(RowError(next(iter(seen_sheets), "-"), None, None, "no rows to import"))
    planner.items_sheet(parsed.get("items", []))
    planner.standards_sheet(parsed.get("standards", []))
    planner.materials_sheet(parsed.get("materials", []))
    planner.procedures_sheet(parsed.get("procedures", []))
    planner.windows_sheet(parsed.get("windows", []))
    item_plans = planner.compose()
    window_plans = [
        WindowPlan(w, w.id not in existing.windows,
                   w.id not in existing.windows or existing.windows[w.id].content() != w.content())
        for w in planner.windows.values()
    ]
    if planner.errors:
        order = {name: i for i, name in enumerate(SHEET_NAMES)}
        raise ImportRejected(sorted(planner.errors, key=lambda e: (order.get(e.sheet, 99), e.row or 0)))
    return ImportPlan(tuple(item_plans), tuple(window_plans))
