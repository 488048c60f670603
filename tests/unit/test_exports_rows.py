"""The export's rows (pure) and the national codes' shapes (issue 17): what each Tongban life cycle gives in
the exchange's fields, the codes taken from the data file, and the catalogue's checks of the codes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.catalogue.domain.codes import check_implementation_code, check_national_code
from services.catalogue.domain.diff import compare
from services.catalogue.domain.errors import InvalidContent
from services.catalogue.domain.items import Item
from services.catalogue.domain.standards import Standard
from services.catalogue.domain.tabular import ImportRejected, export_tables
from services.catalogue.domain.tabular_import import Existing, plan_import
from services.catalogue.firstlist import read
from services.routing.domain import CaseStatus
from services.routing.exports.rows import FIELD_NAMES, FIELDS, ExportCase, Step, build_row, csv_cells, load_codes

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def _case(*steps: tuple[str, str, str], **extra: object) -> ExportCase:
    fields: dict[str, object] = {
        "id": "c-1", "item_code": "YRD-SB-0164", "item_name": "失业登记", "mode": "fully_online",
        "accepting_locality": "320505", "owners": ("341600",), "applicant_kind": "enterprise", "status": "x",
        "attestation_id": "att-1", "submitted_at": T0,
        "steps": tuple(Step(a, to, T0 + timedelta(hours=i + 1), r) for i, (a, to, r) in enumerate(steps)),
        **extra}
    return ExportCase(**fields)  # type: ignore[arg-type]


def test_a_case_withdrawn_before_acceptance_is_not_accepted_with_its_reason_and_voided() -> None:
    row = build_row(_case(("withdraw", "withdrawn", "申请人撤回")))
    assert (row["SLZT"], row["SLSJ"], row["SLBH"], row["BYSLYY"]) == ("2", "", "", "申请人撤回")
    assert (row["BJJGDM"], row["BJSJ"]) == ("2", "2026-12-01T10:00:00+08:00")
    assert (row["SQRLX"], row["SBQD"], row["SXBM"], row["JBMLBM"]) == ("2", "2", "YRD-SB-0164", "")


def test_a_case_withdrawn_after_acceptance_is_returned() -> None:
    row = build_row(_case(("accept", "accepted", ""), ("withdraw", "withdrawn", "")))
    assert (row["SLZT"], row["SLBH"], row["BYSLYY"], row["BJJGDM"]) == ("1", "att-1", "", "1")
    assert row["SLSJ"] == "2026-12-01T10:00:00+08:00" and row["BJJGMS"] == "退回办结"


def test_an_open_case_has_no_result_and_the_owner_s_implementation_code_is_the_item_code() -> None:
    row = build_row(_case(national_code="000105001000", implementation_codes={"341600": "X" * 20, "320505": "Y" * 20}))
    assert (row["SLZT"], row["BJJGDM"], row["BJSJ"], row["LQSJ"]) == ("0", "", "", "")
    assert (row["SXBM"], row["JBMLBM"], row["TBSXBM"]) == ("X" * 20, "000105001000", "YRD-SB-0164")


def test_supplements_become_rows_of_bz_and_cells_joined_in_order() -> None:
    notices = ({"kind": "window", "issued_at": T0.isoformat(), "lines": [{"material": "甲", "reason": "缺"}]},
               {"kind": "supplement", "issued_at": (T0 + timedelta(hours=3)).isoformat(),
                "answered_at": (T0 + timedelta(hours=4)).isoformat(),
                "lines": [{"material": "乙", "reason": "过期"}, {"material": "丙", "reason": "未交"}]},
               {"kind": "supplement", "issued_at": (T0 + timedelta(hours=5)).isoformat(), "answered_at": None,
                "lines": [{"material": "丁", "reason": "模糊"}]})
    row = build_row(_case(notices=notices))
    assert [s["BZCLQD"] for s in row["BZ"]] == ["乙、丙", "丁"], "the window's own notice is no supplement"
    assert row["BZYY"] == "乙：过期；丙：未交 | 丁：模糊"
    assert row["BZSLSJ"] == "2026-12-01T13:00:00+08:00 | ", "the second is still awaited"
    assert len(csv_cells(row)) == len(FIELDS) and row["TBCX"] == [] and row["TBCXKSSJ"] == ""


def test_every_decision_maps_to_a_known_result_code_and_every_status_can_be_exported() -> None:
    codes = load_codes()
    assert "source" in codes and "source" in codes["result_codes"]
    assert set(codes["result_codes"]["by_decision"]) - {"source"} <= {
        "approve", "reject", "withdraw_accepted", "withdraw_submitted"}
    for key, code in codes["result_codes"]["by_decision"].items():
        if key != "source":
            assert code in codes["result_codes"]["codes"], key
    assert set(codes["channels"]) - {"source"} == {"fully_online", "accepted_here_handled_there", "joint_handling"}
    assert {"0", "1", "2", "3", "5", "6", "7"} == set(codes["result_codes"]["codes"])
    for status in CaseStatus:
        assert build_row(_case(status=status.value))["TBZT"] == status.value
    assert len(set(FIELD_NAMES)) == len(FIELD_NAMES)


def test_national_codes_are_checked_for_their_shape_and_empty_means_unknown() -> None:
    assert check_national_code(" 000105001000 ") == "000105001000" and check_national_code("") == ""
    assert check_implementation_code("11341600MB19373620000105001000").startswith("1134")
    for bad in ("00-0105001000", "abc", "1" * 25):
        with pytest.raises(InvalidContent):
            check_national_code(bad)
    with pytest.raises(InvalidContent):
        check_implementation_code("short")
    with pytest.raises(InvalidContent):
        Item("YRD-SB-0164", "失业登记", "Unemployment", "social_security", ("fully_online",), "insured_place", 5,
             national_code="x")


def test_national_codes_are_edited_and_diffed_like_the_rest_of_the_standards() -> None:
    item = Item("YRD-SB-0164", "失业登记", "Unemployment", "social_security", ("fully_online",), "insured_place", 5,
                status="published", revision=1)
    coded = item.edit(national_code="000105001000")
    assert coded.revision == 2 and coded.content()["national_code"] == "000105001000"
    standards = {loc: Standard("YRD-SB-0164", loc, "人社局", 20, 5, implementation_code=code)
                 for loc, code in (("341600", "A" * 20), ("320505", ""))}
    differences, _ = compare({loc: s.content() for loc, s in standards.items()})
    assert [(d.field, d.values) for d in differences] == [("implementation_code", {"341600": "A" * 20, "320505": ""})]
    assert Standard.of("YRD-SB-0164", "341600", standards["341600"].content()) == standards["341600"]


def test_national_codes_travel_through_the_sheets_and_a_bad_one_is_reported() -> None:
    data = read()
    item, standards, procedures = data.items[0]
    coded = replace(item, national_code="000105001000")
    coded_standards = [replace(s, implementation_code="1" * 20) for s in standards]
    existing = Existing(items={coded.code: coded}, standards={coded.code: {s.locality: s for s in coded_standards}},
                        procedures={coded.code: {p.mode: p for p in procedures}}, windows={})
    tables = export_tables([coded], coded_standards, procedures, [])
    localities = ["310110", "320505", "331000", "341600"]
    assert plan_import(tables, existing, localities).summary()["items_unchanged"] == 1
    items = tables[0]
    column = items.header.index("national_code")
    items.rows[0][1][column] = "000105001001"
    plan = plan_import(tables, existing, localities)
    assert plan.summary()["items_changed"] == 1
    items.rows[0][1][column] = "not-a-code"
    with pytest.raises(ImportRejected) as rejected:
        plan_import(tables, existing, localities)
    assert [(e.sheet, e.column) for e in rejected.value.errors] == [("items", "national_code")]
