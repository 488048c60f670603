"""Routing's pure rules: applicant identifiers and the case life cycle."""

from __future__ import annotations

import pytest

from services.routing.domain import (
    Case,
    CaseStatus,
    IllegalTransition,
    InvalidIdentifier,
    applicant_ref,
    is_resident_id,
    is_uscc,
    resident_id_check,
    uscc_check,
)

KEY = b"k" * 32


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


def _case() -> Case:
    return Case(id="c", item_code="YRD-SB-0001", mode="accepted_here_handled_there",
                accepting_locality="320505", owning_locality="341600",
                applicant=applicant_ref("11010519491231002X", KEY))


def test_the_happy_path_through_the_life_cycle() -> None:
    case = _case()
    steps = [("accept", "320505"), ("forward", "320505"), ("receive", "341600"), ("start_review", "341600"),
             ("request_supplement", "341600"), ("supplement", "320505"), ("start_review", "341600"),
             ("approve", "341600"), ("issue_result", "341600"), ("deliver_result", "341600"),
             ("close", "320505")]
    for action, locality in steps:
        case = case.apply(action, locality)
    assert case.status is CaseStatus.CLOSED and case.sequence == len(steps) + 1


def test_illegal_transitions_list_the_allowed_ones() -> None:
    case = _case().apply("accept", "320505")
    with pytest.raises(IllegalTransition) as refused:
        case.apply("approve", "341600")
    assert refused.value.allowed == []
    with pytest.raises(IllegalTransition) as refused:
        case.apply("receive", "320505")
    assert refused.value.allowed == ["forward", "withdraw"]
    with pytest.raises(IllegalTransition):
        case.apply("forward", "310110")  # not a party to the case
    with pytest.raises(IllegalTransition, match="unknown action"):
        case.apply("teleport", "320505")


def test_withdrawal_only_before_a_decision() -> None:
    case = _case()
    assert case.apply("withdraw", "320505").status is CaseStatus.WITHDRAWN
    for action, locality in [("accept", "320505"), ("forward", "320505"), ("receive", "341600"),
                             ("start_review", "341600"), ("approve", "341600")]:
        case = case.apply(action, locality)
    with pytest.raises(IllegalTransition):
        case.apply("withdraw", "320505")


def test_waybills_attach_once() -> None:
    case = _case().with_waybill("EA000000014CN").with_waybill("EA000000014CN")
    assert case.waybill_numbers == ("EA000000014CN",)
