"""Carrier journeys of the simulator: realistic, ordered, ending as their scenario says."""

from __future__ import annotations

import random

import pytest

from services.delivery.domain import EMSEVT, TrackingEvent, check_event, derive_tracking, is_late
from services.delivery.domain.journeys import SCENARIOS, final_status, plan_journey
from tests.unit.test_delivery_tracking import T0


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("seed", range(20))
def test_journeys_end_as_their_scenario_says(scenario: str, seed: int) -> None:
    plan = plan_journey(scenario, random.Random(seed), "虎丘区", "谯城区", target_hours=48)
    assert plan[0].code == "EMA" and plan[0].after.total_seconds() == 0
    offsets = [step.after for step in plan]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    events = [check_event(TrackingEvent(s.code, T0 + s.after, s.location, s.reason, s.action), T0 + offsets[-1])
              for s in plan]
    tracking = derive_tracking(events)
    assert tracking.status.value == final_status(scenario)
    assert all(e.code in EMSEVT for e in events)
    if scenario == "delivered":
        assert not is_late(tracking, 48, T0 + offsets[-1]), "a first-attempt delivery is on time"
    if scenario != "delivered":
        assert any(e.code == "EMH" and e.reason for e in events)


def test_late_journeys_miss_the_target() -> None:
    plan = plan_journey("delivered", random.Random(1), target_hours=24, late=True)
    tracking = derive_tracking([TrackingEvent(s.code, T0 + s.after) for s in plan])
    assert is_late(tracking, 24, T0 + plan[-1].after)


def test_random_and_unknown_scenarios() -> None:
    rng = random.Random(3)
    assert {plan_journey("random", rng)[-1].code for _ in range(50)} == {"EMI"}
    with pytest.raises(ValueError):
        plan_journey("lost", rng)
