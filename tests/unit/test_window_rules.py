"""Issue 16's defects in routing's pure rules: identifiers, materials, posts, joint parts, whose turn."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.routing.domain import Case, CaseStatus, InvalidIdentifier, Material, applicant_ref
from services.routing.domain.cases import (
    DeliveryExceptionOpen,
    JointNeedsParts,
    MaterialsMismatch,
    Move,
    NotDelivered,
    joint_owners,
)
from services.routing.domain.divisions import divisions
from services.routing.domain.identifiers import resident_id_check, uscc_check
from services.routing.domain.materials import InvalidMaterial

KEY = b"k" * 32
TODAY = date(2026, 12, 2)
S, B, Y, T = "320505", "341600", "310110", "331000"


def _id(first17: str) -> str:
    return first17 + resident_id_check(first17)


def _uscc(first17: str) -> str:
    return first17 + uscc_check(first17)


@pytest.mark.parametrize(("first17", "why"), [
    ("11010519900230001", "not a date"),            # 30 February
    ("11010520300101001", "in the future"),
    ("11010518991231001", "before 1900"),
    ("99999919900101001", "not a GB/T 2260"),
    ("00000019900101001", "not a GB/T 2260"),
])
def test_an_identity_number_needs_a_real_birth_date_and_area_code(first17: str, why: str) -> None:
    with pytest.raises(InvalidIdentifier, match=why):
        applicant_ref(_id(first17), KEY, today=TODAY)


def test_a_retired_area_code_holds_for_people_born_while_it_existed() -> None:
    codes = divisions()
    assert codes.known("110200") and not codes.in_force("110200")  # 北京市 县, retired in 2014
    assert applicant_ref(_id("11020019800101001"), KEY, today=TODAY).kind == "person"
    with pytest.raises(InvalidIdentifier, match="retired before the holder's birth in 2020"):
        applicant_ref(_id("11020020200101001"), KEY, today=TODAY)
    assert applicant_ref("11010519491231002X", KEY, today=TODAY).kind == "person"  # the standard's example


def test_the_division_code_inside_a_credit_code_is_checked() -> None:
    assert applicant_ref(_uscc("91341600MA2TXXXX0"), KEY, today=TODAY).kind == "enterprise"
    with pytest.raises(InvalidIdentifier, match="division code 999999"):
        applicant_ref(_uscc("91999999MA2TXXXX0"), KEY, today=TODAY)
    with pytest.raises(InvalidIdentifier, match="retired before credit codes began"):
        applicant_ref(_uscc("91110200MA2TXXXX0"), KEY, today=TODAY)  # retired 2014


def test_material_names_are_one_form_and_visible() -> None:
    assert Material("身份证\u0301".replace("\u0301", ""), "paper").name == "身份证"
    assert Material("Cafe\u0301 licence", "paper").name == "Caf\u00e9 licence", "NFC"
    assert Material("  户口簿 ", "paper").name == "户口簿"
    for bad in ("   ", "\t\n", "身份\u200b证", "abc\u202edcba", "bell\u0007", "x\u2066y"):
        with pytest.raises(InvalidMaterial):
            Material(bad, "paper")


def test_an_electronic_material_needs_its_hash_in_one_case() -> None:
    with pytest.raises(InvalidMaterial, match="needs the SHA-256"):
        Material("扫描件", "electronic")
    assert Material("扫描件", "electronic", "AB" * 32).sha256 == "ab" * 32
    with pytest.raises(InvalidMaterial, match="64 hexadecimal"):
        Material("扫描件", "electronic", "zz" * 32)


def _posted(**kw: object) -> Case:
    ref = applicant_ref("11010519491231002X", KEY, today=TODAY)
    case = Case(id="c1", item_code="YRD-SB-0002", mode="accepted_here_handled_there", accepting_locality=S,
                owners=(B,), applicant=ref, materials=(Material("身份证", "electronic", "a" * 64),))
    return replace(case, **kw)  # type: ignore[arg-type]


def test_posted_materials_are_received_after_their_delivery_or_with_a_hand_over_reason() -> None:
    case = _posted().apply("accept", S).apply("forward", S).with_waybill("EA000000015CN", "materials")
    with pytest.raises(NotDelivered, match="EA000000015CN is created"):
        case.apply(Move("receive", B, material_hashes=("a" * 64,)))
    with pytest.raises(MaterialsMismatch):
        case.apply(Move("receive", B, material_hashes=("b" * 64,), handover_reason="courier"))
    handed = case.apply(Move("receive", B, material_hashes=("A" * 64,), handover_reason="由窗口专人送达"))
    assert handed.status is CaseStatus.RECEIVED
    delivered, lost = case.track("EA000000015CN", "materials", "delivered")
    assert not lost
    assert delivered.apply(Move("receive", B, material_hashes=("a" * 64,))).status is CaseStatus.RECEIVED


def test_a_returned_result_is_a_delivery_exception_until_a_new_post_or_a_hand_over() -> None:
    case = _posted(status=CaseStatus.RESULT_ISSUED, parts=((B, CaseStatus.APPROVED),))
    case = case.with_waybill("EA000000029CN", "result")
    returned, lost = case.track("EA000000029CN", "result", "returned", "查无此人")
    assert lost and returned.delivery_exception is not None
    assert returned.track("EA000000029CN", "result", "returned")[1] is False, "told once"
    with pytest.raises(DeliveryExceptionOpen, match="EA000000029CN is returned"):
        returned.apply("deliver_result", B)
    with pytest.raises(DeliveryExceptionOpen):  # the returned post's own events do not deliver the result
        returned.apply(Move("deliver_result", B, waybill_number="EA000000029CN", by_event=True))
    handed = returned.apply(Move("deliver_result", B, handover_reason="申请人到亳州窗口领取"))
    assert handed.status is CaseStatus.RESULT_DELIVERED and handed.delivery_exception is None
    anew = returned.with_waybill("EA000000032CN", "result")
    assert anew.delivery_exception is None
    assert anew.apply(Move("deliver_result", B, waybill_number="EA000000032CN", by_event=True)).status \
        is CaseStatus.RESULT_DELIVERED
    closed = _posted(status=CaseStatus.RESULT_ISSUED)
    with pytest.raises(Exception, match="not allowed"):
        returned.apply("close", S)
    assert closed.status is CaseStatus.RESULT_ISSUED


def test_a_joint_case_has_two_parts_and_the_acceptor_may_own_one() -> None:
    assert joint_owners([B, Y], Y) == [B, Y]
    with pytest.raises(JointNeedsParts, match="only 341600"):
        joint_owners([B], Y)
    with pytest.raises(JointNeedsParts, match="local case"):
        joint_owners([Y], Y)
    ref = applicant_ref("11010519491231002X", KEY, today=TODAY)
    case = Case(id="j", item_code="YRD-SB-0002", mode="joint_handling", accepting_locality=Y, owners=(B, Y),
                applicant=ref).apply("accept", Y).apply("forward", Y)
    assert case.turn() == {B: ["receive"], Y: ["receive"]}
    case = case.apply("receive", Y).apply("start_review", Y).apply("approve", Y)
    assert case.part(Y) is CaseStatus.APPROVED and case.status is CaseStatus.FORWARDED
