"""Routing's pure rules: applicant identifiers, ownership, the case life cycle, joint handling."""

from __future__ import annotations

import pytest

from services.routing.domain import (
    Case,
    CaseStatus,
    IllegalTransition,
    InvalidIdentifier,
    Material,
    applicant_ref,
    is_resident_id,
    is_uscc,
    locality_of_place,
    owners_for,
    resident_id_check,
    uscc_check,
)
from services.routing.domain.cases import ReasonRequired, UnknownAction

KEY = b"k" * 32
LOCALITIES = ["310110", "320505", "331000", "341600"]


def test_gb11643_check_character() -> None:
    assert is_resident_id("11010519491231002X")  # the standard's own example
    assert resident_id_check("34160219900101123") in "0123456789X"
    assert not is_resident_id("110105194912310021")
    assert not is_resident_id("11010519491231002")


def test_gb32100_check_character() -> None:
    body = "91341600MA2T12345"
    code = body + uscc_check(body)
    assert is_uscc(code)
    wrong = body + ("0" if code[-1] != "0" else "1")
    assert not is_uscc(wrong)
    assert not is_uscc("91341600MA2T1234I5")  # I is not in the character set


def test_applicant_is_reduced_to_keyed_hash_and_mask() -> None:
    ref = applicant_ref("11010519491231002x", KEY)
    assert ref.kind == "person" and ref.masked == "110105********002X"
    assert "19491231" not in ref.digest and len(ref.digest) == 64
    assert applicant_ref("11010519491231002X", KEY).digest == ref.digest
    assert applicant_ref("11010519491231002X", b"other" * 8).digest != ref.digest
    with pytest.raises(InvalidIdentifier):
        applicant_ref("110105194912310021", KEY)


def test_places_belong_to_localities() -> None:
    assert locality_of_place("310110", LOCALITIES) == "310110"
    assert locality_of_place("331002", LOCALITIES) == "331000"  # Jiaojiang district of Taizhou
    assert locality_of_place("341602", LOCALITIES) == "341600"  # Qiaocheng district of Bozhou
    assert locality_of_place("310115", LOCALITIES) is None  # Pudong is not Yangpu
    assert locality_of_place("321202", LOCALITIES) is None  # Jiangsu's Taizhou (泰州) is not Zhejiang's
    assert owners_for("insured_place", {"insured_place": ["341602"]}, LOCALITIES) == ["341600"]
    assert owners_for("property_location", {"property_location": ["331002", "310110", "331003"]},
                      LOCALITIES) == ["331000", "310110"]
    with pytest.raises(ValueError, match="missing"):
        owners_for("insured_place", {"household_registration_place": ["341602"]}, LOCALITIES)
    with pytest.raises(ValueError, match="no locality"):
        owners_for("insured_place", {"insured_place": ["440300"]}, LOCALITIES)


def _case(mode: str = "fully_online", owners: tuple[str, ...] = ("341600",)) -> Case:
    return Case(id="c", item_code="YRD-SB-0001", mode=mode, accepting_locality="320505", owners=owners,
                applicant=applicant_ref("11010519491231002X", KEY),
                materials=(Material("身份证", "electronic", "ab" * 32), Material("申请表", "paper")))


def test_the_happy_path_through_the_life_cycle() -> None:
    case = _case()
    steps = [("accept", "320505"), ("forward", "320505"), ("receive", "341600"), ("start_review", "341600"),
             ("request_supplement", "341600"), ("supplement", "320505"), ("start_review", "341600"),
             ("approve", "341600"), ("issue_result", "341600"), ("deliver_result", "341600"),
             ("close", "320505")]
    for action, locality in steps:
        case = case.apply(action, locality)
    assert case.status is CaseStatus.CLOSED and case.sequence == len(steps) + 1
    assert case.material_hashes == ["ab" * 32]


def test_illegal_transitions_list_the_allowed_ones() -> None:
    case = _case().apply("accept", "320505")
    with pytest.raises(IllegalTransition) as refused:
        case.apply("approve", "341600")
    assert refused.value.allowed == []
    assert refused.value.turn == {"320505": ["forward"]}, "the 409 says whose turn it is"
    assert "320505 may forward" in str(refused.value)
    with pytest.raises(IllegalTransition) as refused:
        case.apply("receive", "320505")
    assert refused.value.allowed == ["forward", "withdraw"]
    with pytest.raises(IllegalTransition):
        case.apply("forward", "310110")  # not a party to the case
    with pytest.raises(UnknownAction, match="unknown action") as unknown:
        case.apply("teleport", "320505")
    assert unknown.value.status == 422


def test_withdrawal_only_before_a_decision() -> None:
    case = _case()
    with pytest.raises(ReasonRequired):
        case.apply("withdraw", "320505")
    assert case.apply("withdraw", "320505", reason="申请人撤回").status is CaseStatus.WITHDRAWN
    for action, locality in [("accept", "320505"), ("forward", "320505"), ("receive", "341600"),
                             ("start_review", "341600"), ("approve", "341600")]:
        case = case.apply(action, locality)
    with pytest.raises(IllegalTransition):
        case.apply("withdraw", "320505", reason="too late")


def test_joint_handling_completes_when_every_owner_has() -> None:
    case = _case("joint_handling", ("341600", "331000")).apply("accept", "320505").apply("forward", "320505")
    assert dict(case.parts) == {"341600": CaseStatus.FORWARDED, "331000": CaseStatus.FORWARDED}
    case = case.apply("receive", "341600").apply("start_review", "341600").apply("approve", "341600")
    assert case.status is CaseStatus.FORWARDED  # Taizhou has not received yet
    case = case.apply("receive", "331000").apply("start_review", "331000")
    assert case.status is CaseStatus.UNDER_REVIEW
    with pytest.raises(IllegalTransition):
        case.apply("issue_result", "341600")
    case = case.apply("approve", "331000")
    assert case.status is CaseStatus.APPROVED
    with pytest.raises(IllegalTransition):
        case.apply("issue_result", "331000")  # the lead owner issues the result
    assert case.apply("issue_result", "341600").status is CaseStatus.RESULT_ISSUED


def test_one_refusal_rejects_a_joint_case_with_its_reason() -> None:
    case = _case("joint_handling", ("341600", "331000")).apply("accept", "320505").apply("forward", "320505")
    for owner in ("341600", "331000"):
        case = case.apply("receive", owner).apply("start_review", owner)
    case = case.apply("reject", "331000", reason="材料不全 / materials incomplete")
    assert case.status is CaseStatus.REJECTED and case.reason == "材料不全 / materials incomplete"
    with pytest.raises(IllegalTransition):
        case.apply("approve", "341600")


def test_a_supplement_for_one_owner_pauses_the_joint_case() -> None:
    case = _case("joint_handling", ("341600", "331000")).apply("accept", "320505").apply("forward", "320505")
    for owner in ("341600", "331000"):
        case = case.apply("receive", owner).apply("start_review", owner)
    case = case.apply("request_supplement", "341600")
    assert case.status is CaseStatus.SUPPLEMENT_REQUESTED
    case = case.apply("supplement", "320505")
    assert dict(case.parts)["341600"] is CaseStatus.SUPPLEMENTED
    assert case.status is CaseStatus.SUPPLEMENTED


def test_case_shapes() -> None:
    with pytest.raises(ValueError):
        _case("fully_online", ("341600", "331000"))
    with pytest.raises(ValueError):
        _case("fully_online", ("320505",))  # a local case is not a cross-locality one
    case = _case().with_waybill("EA000000014CN").with_waybill("EA000000014CN")
    assert case.waybill_numbers == ("EA000000014CN",)
