"""Realistic carrier journeys for demonstrations and load tests. Pure: no I/O, a seeded random source.

A journey is a list of EMSEVT events at offsets of simulated time from posting: posting, sorting
centres, arrival at the delivery office, out for delivery, then delivery; or failed attempts (EMH
with a non-delivery reason) before delivery; or a return to the sender after failed attempts.
The carrier simulator (``tongban carrier simulate``) and the embedded development endpoint play them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

SCENARIOS = ("delivered", "failed_attempt", "returned")
"""The journeys the simulator plays; ``random`` picks one per waybill with realistic weights."""
SCENARIO_WEIGHTS = (0.78, 0.16, 0.06)

HUBS = ("上海邮区中心局", "南京邮区中心局", "苏州邮区中心局", "杭州邮区中心局", "合肥邮区中心局")
REASONS = (
    "收件人不在 / addressee absent",
    "单位已下班 / office closed",
    "地址不详 / insufficient address",
    "收件人拒收 / refused by addressee",
    "电话无人接听 / addressee unreachable by phone",
)


@dataclass(frozen=True)
class PlannedEvent:
    """One event of a journey, ``after`` the posting in simulated time."""

    after: timedelta
    code: str
    location: str
    reason: str = ""
    action: str = ""


def pick_scenario(rng: random.Random) -> str:
    """A scenario drawn with realistic weights (most items arrive at the first attempt)."""
    return rng.choices(SCENARIOS, weights=SCENARIO_WEIGHTS)[0]


def plan_journey(
    scenario: str,
    rng: random.Random,
    origin: str = "寄件局 / origin office",
    destination: str = "投递局 / delivery office",
    target_hours: int = 48,
    late: bool = False,
) -> list[PlannedEvent]:
    """The events of one item's journey from ``origin`` to ``destination``.

    The line haul takes 35-75 % of ``target_hours`` (110-150 % when ``late``), so a delivery at the
    first attempt is on time unless asked otherwise; failed attempts add a day each.
    """
    if scenario == "random":
        scenario = pick_scenario(rng)
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; one of random, {', '.join(SCENARIOS)}")
    share = rng.uniform(1.1, 1.5) if late else rng.uniform(0.35, 0.75)
    haul = timedelta(hours=target_hours * share)
    hubs = rng.sample(HUBS, rng.choice((1, 2)))
    events = [PlannedEvent(timedelta(0), "EMA", origin)]
    step = haul / (2 * len(hubs) + 2)
    at = timedelta(0)
    for hub in hubs:
        at += step
        events.append(PlannedEvent(at, "EMJ", hub))
        at += step
        events.append(PlannedEvent(at, "EMK", hub))
    at = haul - timedelta(hours=2)
    events.append(PlannedEvent(at, "EMG", destination))
    at += timedelta(minutes=rng.randint(30, 90))
    events.append(PlannedEvent(at, "EDG", destination))
    if scenario == "delivered":
        events.append(PlannedEvent(haul, "EMI", destination))
        return events
    first, second = rng.sample(REASONS, 2)
    at += timedelta(minutes=rng.randint(30, 90))
    events.append(PlannedEvent(at, "EMH", destination, first, "redeliver"))
    at += timedelta(hours=rng.randint(18, 26))
    events.append(PlannedEvent(at, "EDG", destination))
    at += timedelta(minutes=rng.randint(30, 120))
    if scenario == "failed_attempt":
        events.append(PlannedEvent(at, "EMI", destination))
        return events
    events.append(PlannedEvent(at, "EMH", destination, second, "return_to_sender"))
    at += timedelta(hours=rng.randint(6, 12))
    events.append(PlannedEvent(at, "EMJ", hubs[-1]))
    at += timedelta(hours=rng.randint(12, 24))
    events.append(PlannedEvent(at, "EMI", origin))
    return events


def final_status(scenario: str) -> str:
    """The status a journey of ``scenario`` ends in."""
    return {"delivered": "delivered", "failed_attempt": "delivered", "returned": "returned"}[scenario]
