"""Commitments in place of proofs (告知承诺制, issue 17): the rules of services/routing/commitments/domain.py and
the standard's rule per material in the catalogue."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from services.catalogue.domain.diff import compare
from services.catalogue.domain.errors import InvalidContent
from services.catalogue.domain.standards import CommitmentRule, Material
from services.routing.commitments.domain import (
    AlreadyVerified,
    Commitment,
    CommitmentExcluded,
    CommitmentNotAllowed,
    CommitmentTextDiffers,
    VerificationReasonRequired,
    end_for_false_commitment,
    plan,
    replaced,
)
from services.routing.domain import Case, CaseStatus
from services.routing.domain.identifiers import ApplicantRef
from services.routing.domain.standard import shortfalls

B, T, S = "341600", "331000", "320505"
TEXT = "本人承诺：本人无犯罪记录，如有不实愿承担法律责任。"
RULE = {"text": TEXT, "verify_days": 5, "excludes_prior_false": True}
STANDARDS: dict[str, list[dict[str, Any]]] = {B: [{"name": "身份证", "form": "original"},
                 {"name": "无犯罪记录证明", "form": "original", "commitment": RULE}],
             T: [{"name": "无犯罪记录证明", "form": "original", "commitment": {**RULE, "verify_days": 3,
                                                                          "excludes_prior_false": False}}]}
CASE = Case(id="c1", item_code="YRD-SB-0171", mode="fully_online", accepting_locality=S, owners=(B,),
            applicant=ApplicantRef("person", "d" * 64, "110***********002X"))
JOINT = replace(CASE, mode="joint_handling", owners=(B, T))


def _ids() -> itertools.count[int]:
    return itertools.count(1)


def test_a_commitment_stands_in_for_the_materials_it_names_where_the_standard_allows() -> None:
    [made] = plan(CASE, [{"text": f"  {TEXT}\n", "replaces": ["无犯罪记录证明"]}], STANDARDS, False, _ids().__next__)
    assert (made.owner, made.replaces, made.verify_days, made.status, made.due_on) == (
        B, ("无犯罪记录证明",), 5, "pending", None)
    missing = shortfalls(B, STANDARDS[B], [{"name": "身份证", "form": "original"}])
    assert [m.name for m in missing] == ["无犯罪记录证明"]
    assert [m for m in missing if (m.owner, m.name) not in replaced([made])] == []


def test_a_joint_case_gets_a_task_per_owner_with_its_own_time_limit() -> None:
    made = plan(JOINT, [{"text": TEXT, "replaces": ["无犯罪记录证明"]}], STANDARDS, False, _ids().__next__)
    assert [(c.owner, c.verify_days) for c in made] == [(B, 5), (T, 3)]


def test_what_a_commitment_may_not_replace_or_say_is_refused() -> None:
    with pytest.raises(CommitmentNotAllowed, match="does not let a commitment replace '身份证'"):
        plan(CASE, [{"text": TEXT, "replaces": ["身份证"]}], STANDARDS, False, _ids().__next__)
    with pytest.raises(CommitmentNotAllowed, match="no material"):
        plan(CASE, [{"text": TEXT, "replaces": ["结婚证"]}], STANDARDS, False, _ids().__next__)
    with pytest.raises(CommitmentTextDiffers) as differs:
        plan(CASE, [{"text": "我保证。", "replaces": ["无犯罪记录证明"]}], STANDARDS, False, _ids().__next__)
    assert differs.value.status == 422 and differs.value.extra["published"] == TEXT


def test_a_prior_false_commitment_excludes_where_the_standard_says_so() -> None:
    with pytest.raises(CommitmentExcluded) as refused:
        plan(CASE, [{"text": TEXT, "replaces": ["无犯罪记录证明"]}], STANDARDS, True, _ids().__next__)
    assert refused.value.status == 422 and "hand in the material itself" in str(refused.value)
    only_t = replace(CASE, owners=(T,))
    assert plan(only_t, [{"text": TEXT, "replaces": ["无犯罪记录证明"]}], STANDARDS, True, _ids().__next__)


def test_verification_is_once_and_a_false_finding_says_why() -> None:
    task = Commitment("1", "c1", "YRD-SB-0171", B, S, TEXT, ("无犯罪记录证明",), 5, due_on=date(2026, 12, 9))
    assert task.overdue(date(2026, 12, 10)) and not task.overdue(date(2026, 12, 9))
    with pytest.raises(VerificationReasonRequired):
        task.verified(False, " ", date(2026, 12, 3))
    done = task.verified(False, "核查不实", date(2026, 12, 3))
    assert (done.status, done.reason, done.verified_on) == ("found_false", "核查不实", date(2026, 12, 3))
    assert not done.overdue(date(2026, 12, 31))
    with pytest.raises(AlreadyVerified):
        done.verified(True, "", date(2026, 12, 4))


@pytest.mark.parametrize(("status", "after", "action"), [
    (CaseStatus.RESULT_ISSUED, CaseStatus.RESULT_REVOKED, "revoke_result"),
    (CaseStatus.RESULT_DELIVERED, CaseStatus.RESULT_REVOKED, "revoke_result"),
    (CaseStatus.CLOSED, CaseStatus.RESULT_REVOKED, "revoke_result"),
    (CaseStatus.UNDER_REVIEW, CaseStatus.TERMINATED, "terminate"),
    (CaseStatus.APPROVED, CaseStatus.TERMINATED, "terminate"),
    (CaseStatus.ACCEPTED, CaseStatus.TERMINATED, "terminate"),
])
def test_a_false_commitment_revokes_an_issued_result_or_ends_the_case(status: CaseStatus, after: CaseStatus,
                                                                      action: str) -> None:
    moved, taken = end_for_false_commitment(replace(CASE, status=status, sequence=7), "告知承诺不实")
    assert moved is not None
    assert (moved.status, moved.reason, moved.sequence, taken) == (after, "告知承诺不实", 8, action)
    assert moved.allowed_actions(B) == [] and moved.allowed_actions(S) == [], "terminal"


def test_an_ended_case_stays_as_it_is() -> None:
    for status in (CaseStatus.WITHDRAWN, CaseStatus.RESULT_REVOKED, CaseStatus.TERMINATED):
        assert end_for_false_commitment(replace(CASE, status=status), "x") == (None, "")


def test_the_catalogue_keeps_the_rule_with_the_material_and_diffs_it() -> None:
    plain = Material("身份证")
    assert "commitment" not in plain.as_dict(), "a material without the rule keeps its old form"
    allowed = Material("无犯罪记录证明", commitment=CommitmentRule(TEXT, 5))
    assert Material.of(allowed.as_dict()) == allowed
    assert allowed.as_dict()["commitment"] == {"text": TEXT, "verify_days": 5, "excludes_prior_false": True}
    other = Material("无犯罪记录证明", commitment=CommitmentRule(TEXT, 10, False))
    differences, _same = compare({B: {"materials": [allowed.as_dict()]}, T: {"materials": [other.as_dict()]}})
    assert {d.field for d in differences} == {"materials[无犯罪记录证明].commitment.verify_days",
                                              "materials[无犯罪记录证明].commitment.excludes_prior_false"}
    with pytest.raises(InvalidContent):
        CommitmentRule(TEXT, 0)
    with pytest.raises(InvalidContent):
        CommitmentRule("=cmd()", 5)


def test_the_sheets_carry_the_rule_and_an_import_without_its_columns_keeps_it() -> None:
    from dataclasses import replace as with_

    from services.catalogue.domain.tabular import Table, export_tables
    from services.catalogue.domain.tabular_import import Existing, plan_import
    from services.catalogue.firstlist import read
    from services.catalogue.spreadsheets import read_csv, write_csv

    data = read()
    item, standards, _procedures = data.items[0]
    standard = standards[0]
    first = with_(standard.materials[0], commitment=CommitmentRule(TEXT, 7, False))
    standard = with_(standard, materials=(first, *standard.materials[1:]))
    existing = Existing(items={item.code: item},
                        standards={item.code: {s.locality: s for s in (standard, *standards[1:])}})
    [materials] = [t for t in export_tables([item], [standard], [], []) if t.sheet == "materials"]
    assert materials.header[-3:] == ["commitment_text", "commitment_verify_days", "commitment_excludes_prior_false"]
    again = read_csv(write_csv(materials), "materials")
    plan = plan_import([again], existing, [standard.locality])
    assert plan.summary()["items_unchanged"] == 1, "the rule goes out and comes back"
    narrow = Table("materials", materials.header[:-3], [(n, row[:-3]) for n, row in materials.rows])
    assert plan_import([narrow], existing, [standard.locality]).summary()["items_unchanged"] == 1, \
        "a sheet without the columns keeps the stored rule"
    cleared = Table("materials", materials.header, [(n, [*row[:-3], "", None, ""]) for n, row in materials.rows])
    [changed] = plan_import([cleared], existing, [standard.locality]).items
    assert changed.changed and all(m.commitment is None for s in changed.standards for m in s.materials)
