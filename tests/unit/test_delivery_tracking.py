"""Waybill status from carrier events: by event time, duplicates once, returns, receipts, lateness."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.delivery.domain import (
    EMSEVT,
    DeliveryTargets,
    InvalidEvent,
    Status,
    TrackingEvent,
    check_event,
    check_receipt,
    derive_tracking,
    due_at,
    effective_status,
    is_late,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ev(code: str, hours: float, reason: str = "", action: str = "") -> TrackingEvent:
    return TrackingEvent(code, T0 + timedelta(hours=hours), "局", reason, action)


JOURNEY = [ev("EMA", 0), ev("EMJ", 3), ev("EMK", 4), ev("EMG", 10), ev("EDG", 11),
           ev("EMH", 12, "收件人不在 / addressee absent", "redeliver"), ev("EDG", 30), ev("EMI", 31)]


def test_no_events_is_created() -> None:
    tracking = derive_tracking([])
    assert tracking.status is Status.CREATED and tracking.posted_at is None and tracking.status_at is None


@pytest.mark.parametrize(("upto", "status"), [
    (1, Status.POSTED), (2, Status.IN_TRANSIT), (4, Status.AT_DELIVERY_OFFICE), (5, Status.AT_DELIVERY_OFFICE),
    (6, Status.DELIVERY_ATTEMPTED), (8, Status.DELIVERED),
])
def test_each_step_of_a_journey(upto: int, status: Status) -> None:
    assert derive_tracking(JOURNEY[:upto]).status is status


def test_summary_of_a_full_journey() -> None:
    tracking = derive_tracking(JOURNEY)
    assert tracking.posted_at == T0
    assert tracking.delivered_at == T0 + timedelta(hours=31)
    assert tracking.attempts == 1
    assert tracking.code == "EMI" and tracking.status_at == T0 + timedelta(hours=31)


def test_reordered_events_give_the_same_status() -> None:
    expected = derive_tracking(JOURNEY)
    rng = random.Random(7)
    for _ in range(200):
        shuffled = JOURNEY[:]
        rng.shuffle(shuffled)
        assert derive_tracking(shuffled) == expected


def test_every_order_of_a_short_journey() -> None:
    short = [ev("EMA", 0), ev("EMG", 5), ev("EMH", 6, "地址不详"), ev("EMI", 9)]
    for order in itertools.permutations(short):
        assert derive_tracking(order).status is Status.DELIVERED


def test_duplicated_events_count_once() -> None:
    doubled = JOURNEY + JOURNEY + [ev("EMH", 12, "收件人不在 / addressee absent", "redeliver")]
    tracking = derive_tracking(doubled)
    assert tracking == derive_tracking(JOURNEY)
    assert tracking.attempts == 1


def test_a_late_arriving_older_event_does_not_move_the_status_back() -> None:
    assert derive_tracking([ev("EMI", 31), ev("EMG", 10)]).status is Status.DELIVERED
    assert derive_tracking([ev("EMG", 10), ev("EMA", 0)]).status is Status.AT_DELIVERY_OFFICE


def test_the_same_instant_follows_the_logical_order() -> None:
    assert derive_tracking([ev("EMI", 5), ev("EMA", 5)]).status is Status.DELIVERED


def test_times_in_other_offsets_are_compared_as_instants() -> None:
    beijing = timezone(timedelta(hours=8))
    posted = TrackingEvent("EMA", datetime(2026, 3, 2, 17, 0, tzinfo=beijing))  # 09:00 UTC
    arrived = TrackingEvent("EMG", datetime(2026, 3, 2, 9, 30, tzinfo=UTC))
    assert derive_tracking([arrived, posted]).status is Status.AT_DELIVERY_OFFICE


def test_return_to_sender() -> None:
    events = [ev("EMA", 0), ev("EMG", 10), ev("EMH", 11, "收件人拒收", "redeliver"),
              ev("EMH", 30, "收件人拒收", "return_to_sender"), ev("EMJ", 40), ev("EMI", 60)]
    tracking = derive_tracking(list(reversed(events)))
    assert tracking.status is Status.RETURNED
    assert tracking.delivered_at is None, "a delivery back to the sender is no delivery"
    assert tracking.attempts == 2
    assert derive_tracking(events[:4]).status is Status.RETURNED


def test_terminated_is_an_exception() -> None:
    assert derive_tracking([ev("EMA", 0), ev("EDX", 5)]).status is Status.EXCEPTION


def test_every_code_maps_to_a_status() -> None:
    for code in EMSEVT:
        if code == "EMH":
            continue
        check_event(TrackingEvent(code, T0), T0)
        assert derive_tracking([TrackingEvent(code, T0)]).status is EMSEVT[code][1]


@pytest.mark.parametrize(("event", "reason"), [
    (TrackingEvent("EMZ", T0), "unknown EMSEVT code"),
    (TrackingEvent("ema", T0), "unknown EMSEVT code"),
    (TrackingEvent("EMH", T0), "non-delivery reason"),
    (TrackingEvent("EMH", T0, reason="不在", action="burn"), "unknown EMH action"),
    (TrackingEvent("EMA", T0, action="redeliver"), "only EMH"),
    (TrackingEvent("EMA", T0 + timedelta(hours=1)), "future"),
    (TrackingEvent("EMA", datetime(2026, 3, 2, 9)), "time zone"),
])
def test_refused_events(event: TrackingEvent, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        check_event(event, T0)


def test_a_little_clock_skew_is_tolerated() -> None:
    check_event(TrackingEvent("EMA", T0 + timedelta(minutes=4)), T0)


def test_receipt_matching() -> None:
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    assert check_receipt([a, b], [b.upper(), a]).outcome == "confirmed"
    assert check_receipt([], []).outcome == "confirmed"
    mismatch = check_receipt([a, b], [a, c])
    assert mismatch.outcome == "mismatch"
    assert mismatch.missing == (b,) and mismatch.unexpected == (c,)
    assert check_receipt([a, b], [a]).missing == (b,)


def test_a_receipt_mismatch_makes_an_exception() -> None:
    assert effective_status(Status.DELIVERED, "mismatch") is Status.EXCEPTION
    assert effective_status(Status.DELIVERED, "confirmed") is Status.DELIVERED
    assert effective_status(Status.IN_TRANSIT, None) is Status.IN_TRANSIT


TARGETS = DeliveryTargets.from_dict({"default_hours": 72, "pairs": [{"between": ["320505", "310110"], "hours": 24}]})


def test_targets_are_symmetric_with_a_default() -> None:
    assert TARGETS.target("310110", "320505") == TARGETS.target("320505", "310110") == 24
    assert TARGETS.target("310110", "341600") == 72


def test_late_rule() -> None:
    on_time = derive_tracking([ev("EMA", 0), ev("EMI", 23)])
    late = derive_tracking([ev("EMA", 0), ev("EMI", 25)])
    travelling = derive_tracking([ev("EMA", 0), ev("EMG", 10)])
    assert due_at(T0, 24) == T0 + timedelta(hours=24)
    assert not is_late(on_time, 24, T0 + timedelta(days=30))
    assert is_late(late, 24, T0 + timedelta(hours=25))
    assert not is_late(travelling, 24, T0 + timedelta(hours=23))
    assert is_late(travelling, 24, T0 + timedelta(hours=25))
    assert not is_late(derive_tracking([]), 24, T0 + timedelta(days=30)), "nothing posted: no due time"
    returned = derive_tracking([ev("EMA", 0), ev("EMH", 5, "拒收", "return_to_sender")])
    assert not is_late(returned, 24, T0 + timedelta(days=30))
