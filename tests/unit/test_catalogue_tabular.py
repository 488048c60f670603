"""Import and export as sheets: typed cells, every bad row reported, a round trip changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from services.catalogue.domain.tabular import ImportRejected, Table, export_tables, parse_table
from services.catalogue.domain.tabular_import import Existing, plan_import, referenced
from services.catalogue.firstlist import read
from services.catalogue.spreadsheets import read_csv, read_xlsx, write_csv, write_xlsx

LOCALITIES = ["310110", "320505", "331000", "341600"]


def _existing() -> Existing:
    data = read()
    return Existing(
        items={i.code: i for i, _s, _p in data.items},
        standards={i.code: {s.locality: s for s in standards} for i, standards, _p in data.items},
        procedures={i.code: {p.mode: p for p in procedures} for i, _s, procedures in data.items},
        windows={w.id: w for w in data.windows},
    )


def _export(existing: Existing) -> list[Table]:
    return export_tables(
        existing.items.values(),
        [s for by_loc in existing.standards.values() for s in by_loc.values()],
        [p for by_mode in existing.procedures.values() for p in by_mode.values()],
        existing.windows.values(),
    )


def _table(sheet: str, header: list[str], *rows: list[Any]) -> Table:
    return Table(sheet, header, [(n, list(r)) for n, r in enumerate(rows, start=2)])


def _errors(tables: list[Table], existing: Existing | None = None) -> list[tuple[str, int | None, str | None]]:
    with pytest.raises(ImportRejected) as rejected:
        plan_import(tables, existing or _existing(), LOCALITIES)
    return [(e.sheet, e.row, e.column) for e in rejected.value.errors]


def test_export_imports_back_to_no_change() -> None:
    existing = _existing()
    tables = _export(existing)
    assert [t.sheet for t in tables] == ["items", "standards", "materials", "procedures", "windows"]
    plan = plan_import(tables, existing, LOCALITIES)
    assert plan.summary() == {"items_created": 0, "items_changed": 0, "items_unchanged": 72,
                              "windows_created": 0, "windows_changed": 0, "windows_unchanged": 6}


@pytest.mark.parametrize("via", ["xlsx", "csv"])
def test_files_round_trip(via: str) -> None:
    existing = _existing()
    tables = _export(existing)
    if via == "xlsx":
        again = read_xlsx(write_xlsx(tables))
    else:
        again = [read_csv(write_csv(t), t.sheet) for t in tables]
    assert plan_import(again, existing, LOCALITIES).summary()["items_unchanged"] == 72
    assert plan_import(again, existing, LOCALITIES).summary()["items_changed"] == 0


def test_a_new_item_from_an_empty_catalogue() -> None:
    tables = _export(_existing())
    plan = plan_import(tables, Existing(), LOCALITIES)
    assert plan.summary()["items_created"] == 72 and plan.summary()["windows_created"] == 6
    by_code = {p.item.code: p for p in plan.items}
    assert by_code["YRD-SB-0101"].item.committed_days == 15  # the longest committed time limit
    assert len(by_code["YRD-SB-0101"].standards) == 4


def test_changes_make_new_revisions_of_published_items() -> None:
    existing = _existing()
    existing.items = {c: i.publish() for c, i in existing.items.items()}
    standards = _table("standards", ["item_code", "locality", "competent_department", "legal_days",
                                     "committed_days", "fee"],
                       ["YRD-SB-0101", "341600", "亳州市人力资源和社会保障局", 20, 12, "不收费"])
    plan = plan_import([standards], existing, LOCALITIES)
    [changed] = plan.items
    assert changed.changed and changed.item.revision == 2
    assert changed.item.committed_days == 12  # the longest committed time limit, now Bozhou's 12
    [bozhou] = [s for s in changed.standards if s.locality == "341600"]
    assert bozhou.committed_days == 12 and bozhou.materials, "materials are kept when the sheet has none"


def test_every_bad_row_is_reported() -> None:
    items = _table(
        "items", ["code", "name_zh", "name_en", "area", "modes", "ownership_rule", "committed_days"],
        ["YRD-ZZ-0001", "新事项", "New item", "civil_affairs", "fully_online", "insured_place", 5],
        ["YRD-ZZ-0002", "", "No Chinese name", "civil_affairs", "fully_online", "insured_place", 5],
        ["YRD-ZZ-0003", "事项", "Item", "civil_affairs", "by_pigeon", "insured_place", 5],
        ["yrd-zz-4", "事项", "Item", "civil_affairs", "fully_online", "insured_place", "five"],
        ["YRD-ZZ-0001", "重复", "Repeated", "civil_affairs", "fully_online", "insured_place", 5],
        ["YRD-ZZ-0005", "事项", "Item", "civil_affairs", "fully_online", "insured_place", None],
    )
    standards = _table(
        "standards", ["item_code", "locality", "competent_department", "legal_days", "committed_days", "fee"],
        ["YRD-ZZ-0001", "310110", "民政局", 5, 9, "不收费"],
        ["YRD-ZZ-9999", "310110", "民政局", 5, 1, "不收费"],
        ["YRD-ZZ-0001", "320200", "民政局", 5, 1, "不收费"],
    )
    materials = _table(
        "materials", ["item_code", "locality", "seq", "name", "form", "count", "electronic_accepted"],
        ["YRD-SB-0101", "310110", 1, "身份证", "original", 1, "maybe"],
        ["YRD-SB-0101", "331000", 1, "身份证", "original", 1, "yes"],
        ["YRD-SB-0101", "331000", 2, "身份证", "copy", 1, "no"],
    )
    errors = _errors([items, standards, materials])
    assert ("items", 3, "name_zh") in errors
    assert ("items", 4, "modes") in errors
    assert ("items", 5, "committed_days") in errors  # "five"
    assert ("items", 6, "code") in errors  # repeated
    assert ("items", 7, "committed_days") in errors  # required without standards
    assert ("standards", 2, "committed_days") in errors  # 9 > legal 5
    assert ("standards", 3, "item_code") in errors
    assert ("standards", 4, "locality") in errors  # Wuxi is not a registered locality
    assert ("materials", 2, "electronic_accepted") in errors
    assert ("materials", 4, "name") in errors  # the same material twice
    assert len(errors) == 10, errors


def test_header_problems() -> None:
    bad = _table("standards", ["item_code", "locality", "colour"], ["YRD-SB-0101", "310110", "red"])
    assert _errors([bad]) == [
        ("standards", 1, "colour"), ("standards", 1, "competent_department"), ("standards", 1, "legal_days"),
        ("standards", 1, "committed_days"), ("standards", 1, "fee"),
    ]
    assert _errors([_table("recipes", ["x"], ["y"])]) == [("recipes", None, None)]
    assert _errors([_table("items", ["code", "name_zh", "name_en", "area", "modes", "ownership_rule"])]) == [
        ("items", None, None)]


def test_derived_committed_days_and_modes_in_use() -> None:
    header = ["code", "name_zh", "name_en", "area", "modes", "ownership_rule", "committed_days"]
    row = ["YRD-SB-0101", "社会保障卡申领", "Application for a social security card", "social_security",
           "fully_online; accepted_here_handled_there", "insured_place"]
    # the item has standards: its committed time limit is theirs (15), to be left blank or repeated
    assert _errors([_table("items", header, [*row, 3])]) == [("items", 2, "committed_days")]
    assert plan_import([_table("items", header, [*row, 15])], _existing(), LOCALITIES).summary()["items_unchanged"] == 1
    assert plan_import([_table("items", header, [*row, None])], _existing(), LOCALITIES).summary()[
        "items_unchanged"] == 1
    # it has a procedure for accepted_here_handled_there: it cannot drop that mode
    row[4] = "fully_online"
    assert _errors([_table("items", header, [*row, None])]) == [("items", 2, "modes")]


def test_cells_and_references() -> None:
    table = _table("windows", ["id", "locality", "name_zh", "name_en", "address", "hours", "phone", "item_codes",
                               "illustrative"],
                   ["W-310110-09", "310110", "窗", "Window", "地址", "9:00", 21012345.0, "YRD-SB-0101；YRD-YB-0101",
                    "是"])
    rows, errors = parse_table(table)
    assert errors == []
    assert rows[0][1]["phone"] == "21012345" and rows[0][1]["illustrative"] is True
    assert rows[0][1]["item_codes"] == ("YRD-SB-0101", "YRD-YB-0101")
    assert referenced([table]) == ({"YRD-SB-0101", "YRD-YB-0101"}, {"W-310110-09"})
    plan = plan_import([table], _existing(), LOCALITIES)
    assert plan.summary()["windows_created"] == 1


def test_csv_reads_gb18030_and_xlsx_keeps_text_that_looks_like_a_formula() -> None:
    text = "code,name_zh\r\nYRD-SB-0101,社会保障卡申领\r\n"
    table = read_csv(text.encode("gb18030"), "items")
    assert table.rows == [(2, ["YRD-SB-0101", "社会保障卡申领"])]
    [again] = read_xlsx(write_xlsx([_table("items", ["code", "note"], ["YRD-SB-0101", "=1+1"])]))
    assert again.rows == [(2, ["YRD-SB-0101", "=1+1"])]
