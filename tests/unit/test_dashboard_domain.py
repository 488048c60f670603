"""The dashboard's pure rules: masking, visibility, folding events into cases, waybills, agreements, figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.dashboard.domain import (
    AgreementState,
    CaseState,
    TopicRef,
    Viewer,
    apply_agreement_event,
    apply_case_event,
    apply_delivery_event,
    base_type,
    case_id_of,
    consumer_lag,
    deadline_kind,
    deadline_panel,
    deadline_updates,
    describe_record,
    epoch_minute,
    event_time,
    funnel,
    is_exception_event,
    localities_in,
    mask_text,
    mask_value,
    needs_agreement,
    needs_case,
    needs_waybill,
    parse_topic,
    producer_of,
    rate_series,
    reason_class,
    session_digest,
    viewer_of,
)

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SUBMITTED = "cn.tongban.routing.case.submitted.v1"
CHANGED = "cn.tongban.routing.case.status_changed.v1"
WAYBILL = "cn.tongban.delivery.waybill.status_changed.v1"


# --------------------------------------------------------------------------- masking


def test_identity_numbers_are_masked_like_routing_masks_them() -> None:
    assert mask_text("applicant 11010519491231002X at the window") == "applicant 110105********002X at the window"
    assert mask_text("id=34160019900101123x;") == "id=341600********123x;"


def test_credit_codes_and_phone_numbers_are_masked() -> None:
    assert mask_text("企业 91350100M000100Y43") == "企业 91350100******0Y43"
    assert mask_text("call 13812345678 or +86 139-0000") == "call 138****5678 or +86 139-0000"
    assert mask_text("tel +8613812345678") == "tel +86138****5678"
    assert mask_text("office 021-65123456") == "office 021-****3456"
    assert mask_text("0551-6543210") == "0551-***3210"


@pytest.mark.parametrize("text", [
    "d9f94808-1977-4e43-8f8a-22baa688a828",  # a case id
    "EA000001142CN",  # an S10 waybill number
    "00f09d4c05080638c5295755413ad430ded741d308915f893af305b06a3572e5",  # a material hash
    "2026-11-27T04:12:58.242535+00:00",  # a time
    "00-b89d52010df31a64adb170317ebc95da-d6efb4b55273dd7e-01",  # a traceparent
    "110105********002X",  # masked already
    "tongban.locality.310110",
])
def test_what_is_not_personal_stays_readable(text: str) -> None:
    assert mask_text(text) == text


def test_values_are_masked_recursively_and_personal_keys_whole() -> None:
    data = {
        "case_id": "c-1", "applicant_masked": "110105********002X",
        "notes": ["reached at 13912345678", {"deep": "11010519491231002X"}],
        "contact_phone": "0551 123", "applicant_name": "张三丰", "sequence": 3, "mobile": 13812345678,
    }
    masked = mask_value(data)
    assert masked["case_id"] == "c-1" and masked["sequence"] == 3
    assert masked["applicant_masked"] == "110105********002X"
    assert masked["notes"] == ["reached at 139****5678", {"deep": "110105********002X"}]
    assert masked["contact_phone"] == "0******3"
    assert masked["applicant_name"] == "张*丰"
    assert masked["mobile"] == "138*****678"
    assert "13812345678" not in json.dumps(masked)


# --------------------------------------------------------------------------- topics, types, visibility


def test_topics_name_their_locality() -> None:
    assert parse_topic("tongban.locality.310110", "tongban") == TopicRef("310110", False)
    assert parse_topic("t1.locality.341600.dlt", "t1") == TopicRef("341600", True)
    assert parse_topic("tongban.locality.310110", "other") is None
    assert parse_topic("tongban.locality.abc", "tongban") is None
    assert parse_topic("__consumer_offsets", "tongban") is None


def test_types_their_version_and_producer() -> None:
    assert base_type(SUBMITTED) == "cn.tongban.routing.case.submitted"
    assert base_type("cn.tongban.routing.case.submitted.v12") == "cn.tongban.routing.case.submitted"
    assert producer_of(SUBMITTED) == "routing" and producer_of("com.example.x") == "other"


def test_a_locality_operator_sees_its_locality_and_a_regional_one_all() -> None:
    local = Viewer("320505-a", "320505", regional=False)
    regional = Viewer("310110-b", "310110", regional=True)
    assert local.sees(["320505", "341600"]) and not local.sees(["310110", "341600"])
    assert regional.sees(["331000"]) and regional.sees([])
    known = ["310110", "320505", "331000", "341600"]
    assert local.visible(known) == ["320505"] and regional.visible(known) == known


def test_operators_need_the_operator_role_and_regional_ones_the_regional_operator_role() -> None:
    assert viewer_of("c", "320505", ["operator"], False) == Viewer("c", "320505", False)
    assert viewer_of("c", "310110", ["regional_operator"], True).regional
    with pytest.raises(PermissionError, match="operator role"):
        viewer_of("c", "320505", ["window_clerk", "supervisor"], False)
    # every role of a locality's bootstrap client together still does not open the regional view
    bootstrap = ["window_clerk", "department_officer", "supervisor", "maintainer", "operator"]
    with pytest.raises(PermissionError, match="regional_operator"):
        viewer_of("c", "320505", bootstrap, True)


def test_sessions_are_kept_as_digests() -> None:
    digest = session_digest("secret-session-id")
    assert len(digest) == 64 and "secret" not in digest and digest == session_digest("secret-session-id")


def test_localities_named_by_event_data() -> None:
    assert localities_in({"accepting_locality": "320505", "owning_localities": ["341600"], "x": "310110"}) == {
        "320505", "341600"}
    assert localities_in({"parties": ["310110", "331000"], "party": "310110"}) == {"310110", "331000"}
    assert localities_in({"sender_locality": "not a code"}) == set()
    assert localities_in(["310110"]) == set()


# --------------------------------------------------------------------------- records of the live stream


def _headers(**attrs: str) -> tuple[tuple[str, bytes], ...]:
    return tuple((k, v.encode()) for k, v in attrs.items())


def test_a_record_is_described_with_its_envelope_and_masked_data() -> None:
    headers = _headers(ce_specversion="1.0", ce_id="e-1", ce_source="/tongban/routing", ce_type=SUBMITTED,
                       ce_time="2026-03-02T09:29:00+00:00", ce_subject="case-9", **{"content-type": "application/json"})
    value = json.dumps({"case_id": "case-9", "applicant_masked": "110105********002X",
                        "remark": "ID 11010519491231002X"}).encode()
    message = describe_record("tongban.locality.320505", 2, 41, headers, value, TopicRef("320505", False), AT)
    assert message["id"] == "e-1" and message["type"] == SUBMITTED and message["subject"] == "case-9"
    assert message["case_id"] == "case-9" and message["localities"] == ["320505"]
    assert message["data"]["remark"] == "ID 110105********002X"
    assert (message["topic"], message["partition"], message["offset"]) == ("tongban.locality.320505", 2, 41)
    assert message["dead_letter"] is None and message["raw"] is None


def test_a_dead_letter_is_described_with_its_reason_and_a_key_of_its_own() -> None:
    headers = _headers(ce_id="e-1", tongban_dlt_reason="data is not JSON: Expecting value",
                       tongban_dlt_group="tongban-routing", tongban_dlt_topic="tongban.locality.310110")
    message = describe_record("tongban.locality.310110.dlt", 0, 7, headers, b"not json 13812345678",
                              TopicRef("310110", True), AT)
    assert message["id"] == "dlt:tongban.locality.310110.dlt:0:7"
    assert message["dead_letter"]["reason"].startswith("data is not JSON")
    assert message["dead_letter"]["group"] == "tongban-routing"
    assert message["data"] is None and message["raw"] == "not json 138****5678"
    assert message["type"] == "(no type)"


def test_case_ids_of_events() -> None:
    assert case_id_of(WAYBILL, "c-1", {"case_id": "c-1"}) == "c-1"
    assert case_id_of(SUBMITTED, "c-2", {}) == "c-2"
    assert case_id_of("cn.tongban.catalogue.item.published.v1", "YRD-SB-0001", {"code": "x"}) is None


def test_event_times_and_minutes() -> None:
    assert event_time("2026-03-02T09:29:00+08:00", AT) == datetime(2026, 3, 2, 1, 29, tzinfo=UTC)
    assert event_time("2026-03-02T09:29:00", AT).tzinfo is UTC
    assert event_time("yesterday", AT) == AT and event_time(None, AT) == AT
    assert epoch_minute(datetime(1970, 1, 1, 1, 0, 59, tzinfo=UTC)) == 60


def test_dead_letter_reasons_are_grouped_by_kind() -> None:
    assert reason_class("missing CloudEvents headers: ce_id") == "missing-headers"
    assert reason_class("data is not JSON: Expecting value: line 1") == "not-json"
    assert reason_class("unknown event type 'x.v1'") == "unknown-type"
    assert reason_class("invalid data for cn.tongban.routing.case.submitted.v1: case_id: missing") == "invalid-data"
    assert reason_class("handler failed: KeyError: 'x'") == "handler-failed"
    assert reason_class("something new") == "other" and reason_class("") == "unknown"


# --------------------------------------------------------------------------- cases and the funnel


def test_a_case_is_folded_from_its_events() -> None:
    case = apply_case_event(None, SUBMITTED, {
        "case_id": "c1", "item_code": "YRD-SB-0001", "mode": "accepted_here_handled_there",
        "accepting_locality": "320505", "owning_localities": ["341600"]}, AT)
    assert case == CaseState("c1", "submitted", "YRD-SB-0001", "accepted_here_handled_there", "320505", ("341600",), 1,
                             AT)
    case = apply_case_event(case, CHANGED, {"case_id": "c1", "from_status": "submitted", "to_status": "accepted",
                                            "by_locality": "320505", "sequence": 2}, AT)
    assert case is not None and case.status == "accepted" and case.sequence == 2
    late = apply_case_event(case, CHANGED, {"case_id": "c1", "to_status": "submitted", "sequence": 2}, AT)
    assert late is not None and late.status == "accepted", "a change already applied does not go back"
    forwarded = apply_case_event(case, "cn.tongban.routing.case.forwarded.v1",
                                 {"case_id": "c1", "accepting_locality": "320505", "owning_locality": "331000"}, AT)
    assert forwarded is not None and forwarded.localities == {"320505", "341600", "331000"}


def test_a_status_change_read_before_its_submission_still_counts() -> None:
    case = apply_case_event(None, CHANGED, {"case_id": "c2", "to_status": "accepted", "sequence": 2,
                                            "accepting_locality": "310110", "owners": ["331000"]}, AT)
    case = apply_case_event(case, SUBMITTED, {"case_id": "c2", "accepting_locality": "310110",
                                              "owning_localities": ["331000"], "item_code": "I"}, AT)
    assert case is not None and case.status == "accepted" and case.item_code == "I"


def test_events_about_no_case_leave_cases_alone() -> None:
    assert apply_case_event(None, "cn.tongban.catalogue.item.published.v1", {"code": "x"}, AT) is None
    assert apply_case_event(None, SUBMITTED, {"no": "case id"}, AT) is None


def test_the_funnel_lists_every_status_in_life_cycle_order() -> None:
    rows = funnel({"closed": 2, "submitted": 5, "weird": 1})
    assert rows[0] == {"status": "submitted", "count": 5}
    assert [r["status"] for r in rows][:4] == ["submitted", "accepted", "forwarded", "received"]
    assert {"status": "accepted", "count": 0} in rows and rows[-1] == {"status": "weird", "count": 1}


# --------------------------------------------------------------------------- deadlines


def test_deadline_events_are_told_apart_by_type_prefix() -> None:
    assert deadline_kind("cn.tongban.routing.case.due_soon.v1") == "due_soon"
    assert deadline_kind("cn.tongban.routing.case.overdue.v2") == "overdue"
    assert deadline_kind("cn.tongban.routing.case.deadline_set.v1") == "on_track"
    assert deadline_kind(CHANGED) is None


def test_deadline_rows_name_the_owner_or_the_case_owners() -> None:
    rows = deadline_updates("cn.tongban.routing.case.overdue.v1",
                            {"case_id": "c1", "owner": "341600", "due_on": "2026-03-01"}, None)
    assert [(d.owner, d.state, d.due_on) for d in rows] == [("341600", "overdue", "2026-03-01")]
    case = CaseState("c2", owning_localities=("331000", "310110"))
    rows = deadline_updates("cn.tongban.routing.case.due_soon.v1", {"case_id": "c2"}, case)
    assert [(d.owner, d.state) for d in rows] == [("331000", "due_soon"), ("310110", "due_soon")]
    rows = deadline_updates("cn.tongban.routing.case.deadline_set.v1",
                            {"case_id": "c3", "owners": ["320505"], "due_on": "2027-02-20", "provisional": True}, None)
    assert rows[0].provisional and rows[0].state == "on_track"


def test_the_deadline_panel_counts_open_cases_per_owner_with_zeros() -> None:
    rows = [("341600", "overdue", False, "under_review"), ("341600", "due_soon", False, "received"),
            ("341600", "overdue", False, "closed"), ("331000", "on_track", True, "accepted"),
            ("999999", "overdue", False, None)]
    panel = {r["locality"]: r for r in deadline_panel(rows, ["310110", "331000", "341600"])}
    assert panel["310110"] == {"locality": "310110", "due_soon": 0, "overdue": 0, "provisional": 0}
    assert (panel["341600"]["due_soon"], panel["341600"]["overdue"]) == (1, 1)
    assert panel["331000"]["provisional"] == 1
    assert panel["999999"]["overdue"] == 1


# --------------------------------------------------------------------------- deliveries


def _waybill(to_status: str, **extra: object) -> dict[str, object]:
    return {"waybill_number": "EA000000001CN", "case_id": "c1", "flow": "materials", "sender_locality": "320505",
            "receiver_locality": "341600", "from_status": "posted", "to_status": to_status, **extra}


def test_exceptions_by_type_or_status() -> None:
    assert is_exception_event("cn.tongban.delivery.waybill.exception.v1", {})
    assert is_exception_event(WAYBILL, {"to_status": "exception"})
    assert is_exception_event(WAYBILL, {"to_status": "returned"})
    assert is_exception_event("cn.tongban.delivery.receipt.mismatch.v1", {})
    assert not is_exception_event(WAYBILL, {"to_status": "delivered"})


def test_a_waybill_goes_into_exception_and_out_again() -> None:
    bill = apply_delivery_event(None, "cn.tongban.delivery.waybill.created.v1", _waybill("created"), AT)
    assert bill is not None and bill.status == "created" and bill.localities == {"320505", "341600"}
    bill = apply_delivery_event(bill, WAYBILL, _waybill("exception", reason="地址不详 13812345678"), AT)
    assert bill is not None and bill.exception and bill.reason == "地址不详 138****5678"
    bill = apply_delivery_event(bill, WAYBILL, _waybill("in_transit"), AT)
    assert bill is not None and not bill.exception and bill.reason is None and bill.status == "in_transit"


def test_a_receipt_mismatch_stays_an_exception() -> None:
    bill = apply_delivery_event(None, "cn.tongban.delivery.receipt.mismatch.v1",
                                {"waybill_number": "EA1", "case_id": "c", "missing": ["h"]}, AT)
    assert bill is not None and bill.exception and bill.reason == "receipt mismatch"
    bill = apply_delivery_event(bill, WAYBILL, {"waybill_number": "EA1", "to_status": "delivered"}, AT)
    assert bill is not None and bill.exception and bill.status == "delivered"


def test_a_late_delivery_is_flagged_until_delivered() -> None:
    bill = apply_delivery_event(None, "cn.tongban.delivery.waybill.late.v1",
                                {"waybill_number": "EA2", "delivered_at": None}, AT)
    assert bill is not None and bill.late
    bill = apply_delivery_event(bill, WAYBILL, {"waybill_number": "EA2", "to_status": "delivered"}, AT)
    assert bill is not None and not bill.late


def test_events_about_no_waybill_leave_waybills_alone() -> None:
    assert apply_delivery_event(None, SUBMITTED, {"waybill_number": "EA"}, AT) is None
    assert apply_delivery_event(None, WAYBILL, {"no": "number"}, AT) is None


# --------------------------------------------------------------------------- agreements


def test_an_agreement_shows_who_signed() -> None:
    changed = "cn.tongban.authorization.agreement.changed.v1"
    drafted = apply_agreement_event(None, changed, {
        "agreement_id": "a1", "change": "drafted", "status": "draft", "party": "310110",
        "parties": ["310110", "320505", "331000"], "unsigned_parties": ["310110", "320505", "331000"]}, AT)
    assert drafted is not None and drafted.signed_parties == ()
    signed = apply_agreement_event(drafted, changed, {
        "agreement_id": "a1", "change": "signed", "status": "draft", "party": "320505",
        "parties": ["310110", "320505", "331000"], "unsigned_parties": ["310110", "331000"]}, AT)
    assert signed == AgreementState("a1", "draft", ("310110", "320505", "331000"), ("310110", "331000"), "signed",
                                    "320505", "", AT)
    assert signed.signed_parties == ("320505",)
    assert apply_agreement_event(None, SUBMITTED, {"agreement_id": "a1"}, AT) is None


FOLD_TYPES = [SUBMITTED, CHANGED, WAYBILL, "cn.tongban.authorization.agreement.changed.v1",
              "cn.tongban.authorization.delegation.decision_used.v1", "cn.tongban.authorization.attestation.issued.v1",
              "cn.tongban.routing.case.due_soon.v1", "cn.tongban.catalogue.item.published.v1"]


@pytest.mark.parametrize("ce_type", FOLD_TYPES)
def test_the_fold_reads_a_row_only_for_events_that_can_change_it(ce_type: str) -> None:
    """Skipping a read is sound: an event whose type needs no row leaves every row as it was."""
    data = {"case_id": "c1", "waybill_number": "EA1", "agreement_id": "a1", "to_status": "accepted", "sequence": 9,
            "status": "active", "parties": ["310110"], "unsigned_parties": [], "flow": "result", "owners": ["331000"]}
    case = CaseState("c1", "submitted", "I", "fully_online", "310110", ("331000",), 1, AT)
    if not needs_case(ce_type):
        assert apply_case_event(case, ce_type, data, AT) == case and apply_case_event(None, ce_type, data, AT) is None
        assert deadline_updates(ce_type, data, case) == []
    if not needs_waybill(ce_type):
        assert apply_delivery_event(None, ce_type, data, AT) is None
    if not needs_agreement(ce_type):
        assert apply_agreement_event(None, ce_type, data, AT) is None


def test_the_rows_each_kind_of_event_reads() -> None:
    assert needs_case(SUBMITTED) and needs_case(CHANGED) and needs_case("cn.tongban.routing.case.due_soon.v1")
    assert not needs_case("cn.tongban.authorization.delegation.decision_used.v1")
    assert needs_waybill(WAYBILL) and not needs_waybill(SUBMITTED)
    assert needs_agreement("cn.tongban.authorization.agreement.changed.v1")
    assert not needs_agreement("cn.tongban.authorization.delegation.decision_used.v1")


# --------------------------------------------------------------------------- event rate and lag


def test_the_event_rate_keeps_the_last_hour_per_minute_locality_and_type() -> None:
    now = 1000
    rows = [(1000, "310110", SUBMITTED, 3), (999, "310110", CHANGED, 2), (941, "341600", SUBMITTED, 1),
            (940, "341600", SUBMITTED, 50), (1001, "341600", SUBMITTED, 50)]
    figures = rate_series(rows, now, ["310110", "320505", "341600"])
    assert figures["minutes"][0] == 941 and figures["minutes"][-1] == 1000 and len(figures["minutes"]) == 60
    series = {s["locality"]: s["counts"] for s in figures["series"]}
    assert series["310110"][-1] == 3 and series["310110"][-2] == 2 and series["341600"][0] == 1
    assert sum(series["320505"]) == 0
    assert figures["total"] == 6
    assert figures["types"][0] == {"type": SUBMITTED, "count": 4, "by_locality": {"310110": 3, "341600": 1}}


def test_lag_is_end_minus_committed_summed_over_partitions() -> None:
    ends = {("t.a", 0): 10, ("t.a", 1): 5, ("t.b", 0): 7}
    committed = {("g1", "t.a", 0): 10, ("g1", "t.a", 1): 2, ("g1", "t.b", 0): 7, ("g2", "t.a", 0): -1}
    rows = {(r.group, r.topic): r for r in consumer_lag(["g1", "g2"], ends, committed, {("t.a", 0): 4})}
    assert rows[("g1", "t.a")].lag == 3 and rows[("g1", "t.a")].partitions == 2
    assert rows[("g1", "t.b")].lag == 0
    assert rows[("g2", "t.a")].lag == (10 - 4) + 5, "no committed offset: lag from the first offset"
    assert rows[("g2", "t.b")].lag == 7
