"""The delivery service's use cases on real databases (SQLite and PostgreSQL), migrations included.

Handlers and use cases run in real units of work; what they publish is read back from the outbox.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from services.delivery.app import DEFINITION, check_late_once
from services.delivery.domain import Carrier, Waybill
from services.delivery.reference import reference
from services.delivery.service import (
    CarrierReport,
    apply_carrier_events,
    confirm_receipt,
    flag_overdue,
    readdress,
)
from services.delivery.store import WaybillRepository, outbox
from shared.clock import FrozenClock
from shared.contracts.routing import CaseForwarded, CaseStatusChanged, CaseSubmitted
from shared.envelope import Envelope, Event
from shared.service import ServiceContext, standalone
from shared.settings import Settings

SUZHOU, BOZHOU, YANGPU = "320505", "341600", "310110"
EMS = reference().carrier("ems")
assert EMS is not None
HASHES = ["a" * 64, "b" * 64]


@pytest.fixture(params=["sqlite", "postgres"])
async def ctx(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ServiceContext]:
    url = (f"sqlite+aiosqlite:///{tmp_path / 'delivery.db'}" if request.param == "sqlite"
           else await request.getfixturevalue("postgres").create_database("dlv"))
    settings = Settings(data_dir=tmp_path)
    async with standalone(DEFINITION, settings, url) as context:
        yield context


async def handle(ctx: ServiceContext, event: Event) -> None:
    handler = DEFINITION.handlers[event.ce_type()]
    async with ctx.uow() as uow:
        await handler(uow, Envelope.wrap(event, "/tongban/routing"), event)
        await uow.commit()


async def published(ctx: ServiceContext, drain: bool = True) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, topic, data) of the events waiting in the outbox; drained unless told otherwise."""
    async with ctx.engine.begin() as conn:
        rows = (await conn.execute(select(outbox).order_by(outbox.c.id))).all()
        if drain:
            await conn.execute(delete(outbox))
    return [(dict(json.loads(r.headers))["ce_type"], r.topic.rsplit(".", 1)[-1], json.loads(r.value))
            for r in rows]


async def forwarded_case(ctx: ServiceContext, case_id: str = "case-1") -> Waybill:
    await handle(ctx, CaseSubmitted(case_id=case_id, item_code="YRD-SB-0001", mode="accepted_here_handled_there",
                                    accepting_locality=SUZHOU, owning_localities=[BOZHOU],
                                    applicant_masked="110105********002X", submitted_at=datetime.now(UTC)))
    forwarded = CaseForwarded(case_id=case_id, accepting_locality=SUZHOU, owning_locality=BOZHOU,
                              material_hashes=HASHES)
    await handle(ctx, forwarded)
    await handle(ctx, forwarded)  # a second delivery of the event (other topic) makes no second waybill
    async with ctx.uow() as uow:
        found = await WaybillRepository(uow.session).of_case(case_id)
    assert len(found) == 1
    return found[0]


async def report(ctx: ServiceContext, *events: dict[str, Any], locality: str = SUZHOU,
                 carrier: Carrier = EMS) -> list[Any]:
    reports = [CarrierReport(i, **e) for i, e in enumerate(events)]
    async with ctx.uow() as uow:
        outcomes = await apply_carrier_events(uow, carrier, locality, reports, datetime.now(UTC))
        await uow.commit()
    return outcomes


_base = datetime(2026, 1, 1, tzinfo=UTC)
"""Thirty hours before the test started (set per test: a carrier event may not lie in the future)."""


@pytest.fixture(autouse=True)
def _carrier_clock(clock: FrozenClock) -> None:
    global _base
    _base = clock.now().replace(microsecond=0) - timedelta(hours=30)


def at(hours: float) -> datetime:
    """``hours`` after the anchor of this test's carrier events."""
    return _base + timedelta(hours=hours)


async def test_materials_waybill_from_a_forwarded_case(ctx: ServiceContext) -> None:
    waybill = await forwarded_case(ctx)
    assert waybill.flow == "materials" and waybill.status == "created"
    assert (waybill.sender_locality, waybill.receiver_locality) == (SUZHOU, BOZHOU)
    assert waybill.material_hashes == tuple(HASHES)
    assert waybill.target_hours == 48 and waybill.carrier == "ems"
    assert waybill.sender_address and waybill.sender_address.postcode == "215011"
    assert waybill.receiver_address and waybill.receiver_address.province == "安徽省"
    created = await published(ctx)
    assert {(t.split(".")[-2], topic) for t, topic, _ in created} == {("created", SUZHOU), ("created", BOZHOU)}


async def test_batches_are_idempotent_reordered_and_refused_per_event(ctx: ServiceContext) -> None:
    number = (await forwarded_case(ctx)).number
    await published(ctx)
    ema = {"waybill_number": number, "code": "EMA", "occurred_at": at(0), "location": "虎丘区"}
    emg = {"waybill_number": number, "code": "EMG", "occurred_at": at(20), "location": "谯城区"}
    emh = {"waybill_number": number, "code": "EMH", "occurred_at": at(21), "reason": "收件人不在",
           "action": "redeliver"}
    emi = {"waybill_number": number, "code": "EMI", "occurred_at": at(28), "location": "谯城区"}
    outcomes = await report(
        ctx, emh, emg, dict(emg),
        {"waybill_number": "EA123456784CN", "code": "EMA", "occurred_at": at(0)},
        {"waybill_number": "EA123456785CN", "code": "EMA", "occurred_at": at(0)},
        {"waybill_number": number, "code": "EMX", "occurred_at": at(1)},
        {"waybill_number": number, "code": "EMH", "occurred_at": at(22)},
    )
    assert [o.outcome for o in outcomes] == ["accepted", "accepted", "duplicate", "refused", "refused", "refused",
                                             "refused"]
    assert "check digit" in outcomes[3].reason
    assert outcomes[4].reason == "unknown waybill EA123456785CN"
    assert "EMX" in outcomes[5].reason and "reason" in outcomes[6].reason
    assert outcomes[0].status == "delivery_attempted"
    changes = [d for t, topic, d in await published(ctx) if topic == SUZHOU and t.endswith("status_changed.v1")]
    assert [(c["from_status"], c["to_status"], c["code"], c["reason"]) for c in changes] == [
        ("created", "delivery_attempted", "EMH", "收件人不在")]

    # The final delivery, then the posting (older) arrives late, and everything once more.
    assert [o.outcome for o in await report(ctx, emi)] == ["accepted"]
    late_ema = await report(ctx, ema)
    assert late_ema[0].outcome == "accepted" and late_ema[0].status == "delivered"
    again = await report(ctx, emi, ema, emg, emh)
    assert [o.outcome for o in again] == ["duplicate"] * 4
    changes = [d for t, topic, d in await published(ctx) if topic == BOZHOU and t.endswith("status_changed.v1")]
    assert [(c["from_status"], c["to_status"]) for c in changes] == [("delivery_attempted", "delivered")]
    async with ctx.uow() as uow:
        waybill = await WaybillRepository(uow.session).get(number)
        stored = await WaybillRepository(uow.session).events(number)
    assert waybill and waybill.status == "delivered" and waybill.attempts == 1
    assert waybill.posted_at == at(0) and waybill.delivered_at == at(28)
    assert waybill.due_at == waybill.posted_at + timedelta(hours=48) and not waybill.late
    assert len(stored) == 4

    # A carrier of a locality that is no party to the waybill does not see it.
    foreign = await report(ctx, {"waybill_number": number, "code": "EMJ", "occurred_at": at(5)}, locality=YANGPU)
    assert foreign[0].outcome == "refused" and "unknown waybill" in foreign[0].reason


async def test_concurrent_identical_batches_count_once(ctx: ServiceContext) -> None:
    number = (await forwarded_case(ctx)).number
    batch = [{"waybill_number": number, "code": code, "occurred_at": at(h)}
             for code, h in (("EMA", 0), ("EMJ", 3), ("EMK", 4), ("EMG", 10), ("EDG", 11), ("EMI", 12))]

    async def one() -> list[Any]:
        for _ in range(20):
            try:
                return await report(ctx, *batch)
            except Exception:  # SQLite: a concurrent writer was first; a carrier retries
                await asyncio.sleep(0.05)
        raise AssertionError("no attempt succeeded")

    results = await asyncio.gather(*(one() for _ in range(4)))
    accepted = sum(o.outcome == "accepted" for r in results for o in r)
    assert accepted == len(batch)
    async with ctx.uow() as uow:
        assert len(await WaybillRepository(uow.session).events(number)) == len(batch)
    statuses = [d["to_status"] for t, topic, d in await published(ctx)
                if topic == SUZHOU and t.endswith("status_changed.v1")]
    assert statuses == ["delivered"]


async def test_receipt_mismatch_is_an_exception_to_both_localities(ctx: ServiceContext) -> None:
    waybill = await forwarded_case(ctx)
    await report(ctx, {"waybill_number": waybill.number, "code": "EMA", "occurred_at": at(0)},
                 {"waybill_number": waybill.number, "code": "EMI", "occurred_at": at(20)})
    await published(ctx)
    async with ctx.uow() as uow:
        current = await WaybillRepository(uow.session).get_for_update(waybill.number)
        assert current is not None
        check, updated = await confirm_receipt(uow, current, ["a" * 64, "c" * 64], datetime.now(UTC))
        await uow.commit()
    assert check.outcome == "mismatch" and check.missing == ("b" * 64,) and check.unexpected == ("c" * 64,)
    assert updated.status == "exception"
    events = await published(ctx)
    for locality in (SUZHOU, BOZHOU):
        mine = {t.split(".")[-2] + "." + t.split(".")[-3]: d for t, topic, d in events if topic == locality}
        assert mine["mismatch.receipt"]["missing"] == ["b" * 64]
        assert mine["status_changed.waybill"]["to_status"] == "exception"
    async with ctx.uow() as uow:
        current = await WaybillRepository(uow.session).get_for_update(waybill.number)
        assert current is not None
        check, updated = await confirm_receipt(uow, current, [h.upper() for h in HASHES], datetime.now(UTC))
        await uow.commit()
    assert check.outcome == "confirmed" and updated.status == "delivered" and updated.receipt == "confirmed"
    kinds = {t.split(".")[-2] for t, _, _ in await published(ctx)}
    assert kinds == {"confirmed", "status_changed"}


async def test_result_waybill_when_the_result_is_issued(ctx: ServiceContext) -> None:
    await forwarded_case(ctx)
    for sequence, to_status in enumerate(("received", "under_review", "approved", "result_issued"), start=4):
        await handle(ctx, CaseStatusChanged(case_id="case-1", from_status="x", to_status=to_status,
                                            by_locality=BOZHOU, sequence=sequence))
    async with ctx.uow() as uow:
        result = [w for w in await WaybillRepository(uow.session).of_case("case-1") if w.flow == "result"]
    assert len(result) == 1
    waybill = result[0]
    assert (waybill.sender_locality, waybill.receiver_locality) == (BOZHOU, SUZHOU)
    assert waybill.deliver_to == "pickup_window" and waybill.receiver_address is not None
    assert "窗口" in waybill.receiver_address.name
    home = waybill.receiver_address.__class__(name="张三", phone="13812345678", province="江苏省", city="苏州市",
                                              district="虎丘区", street="狮山路 1 号", postcode="215011")
    async with ctx.uow() as uow:
        moved = await readdress(uow, reference(), waybill, "applicant", home)
        await uow.commit()
    assert moved.deliver_to == "applicant"
    async with ctx.uow() as uow:
        stored = await WaybillRepository(uow.session).get(waybill.number)
    assert stored is not None and stored.receiver_address == home

    # A fully online case gets no paper result.
    await handle(ctx, CaseSubmitted(case_id="case-2", item_code="X", mode="fully_online", accepting_locality=SUZHOU,
                                    owning_localities=[BOZHOU], applicant_masked="x", submitted_at=datetime.now(UTC)))
    await handle(ctx, CaseStatusChanged(case_id="case-2", from_status="approved", to_status="result_issued",
                                        by_locality=BOZHOU, sequence=5))
    # Routing's word decides when it is given: no post for this result, and none for these materials.
    await handle(ctx, CaseStatusChanged(case_id="case-1b", from_status="approved", to_status="result_issued",
                                        by_locality=BOZHOU, sequence=5, accepting_locality=SUZHOU,
                                        result_by_post=False))
    await handle(ctx, CaseForwarded(case_id="case-3", accepting_locality=SUZHOU, owning_locality=BOZHOU,
                                    mode="joint_handling", by_post=False))
    await handle(ctx, CaseStatusChanged(case_id="case-4", from_status="approved", to_status="result_issued",
                                        by_locality=BOZHOU, sequence=5, accepting_locality=YANGPU,
                                        result_by_post=True))
    async with ctx.uow() as uow:
        repo = WaybillRepository(uow.session)
        assert await repo.of_case("case-2") == [] and await repo.of_case("case-1b") == []
        assert await repo.of_case("case-3") == []
        posted = await repo.of_case("case-4")
    assert [(w.flow, w.sender_locality, w.receiver_locality, w.target_hours) for w in posted] == [
        ("result", BOZHOU, YANGPU, 72)]


async def test_late_deliveries_are_flagged_once(ctx: ServiceContext) -> None:
    slow = (await forwarded_case(ctx, "case-slow")).number  # 48 h target
    late = (await forwarded_case(ctx, "case-late")).number
    now = datetime.now(UTC)
    await report(ctx, {"waybill_number": slow, "code": "EMA", "occurred_at": now - timedelta(hours=47)},
                 {"waybill_number": late, "code": "EMA", "occurred_at": now - timedelta(hours=60)},
                 {"waybill_number": late, "code": "EMI", "occurred_at": now - timedelta(hours=10)})
    on_event = [d for t, topic, d in await published(ctx) if topic == SUZHOU and t.endswith("waybill.late.v1")]
    assert [(d["waybill_number"], d["target_hours"]) for d in on_event] == [(late, 48)]
    assert on_event[0]["delivered_at"] is not None
    assert await check_late_once(ctx) == 0, "the slow one is not due yet"
    async with ctx.uow() as uow:
        assert await flag_overdue(uow, now + timedelta(hours=2)) == 1
        await uow.commit()
    periodic = [d for t, topic, d in await published(ctx) if topic == BOZHOU and t.endswith("waybill.late.v1")]
    assert len(periodic) == 1 and periodic[0]["waybill_number"] == slow and periodic[0]["delivered_at"] is None
    async with ctx.uow() as uow:
        assert await flag_overdue(uow, now + timedelta(hours=3)) == 0
    await report(ctx, {"waybill_number": slow, "code": "EMI", "occurred_at": datetime.now(UTC)})
    assert not [t for t, _, _ in await published(ctx) if t.endswith("waybill.late.v1")], "flagged once only"


async def test_carrier_numbers(ctx: ServiceContext) -> None:
    number = (await forwarded_case(ctx)).number
    own = "1012345678901"
    unbound = await report(ctx, {"waybill_number": own, "code": "EMJ", "occurred_at": at(1)})
    assert unbound[0].outcome == "refused" and "unknown waybill" in unbound[0].reason
    bound = await report(ctx, {"waybill_number": number, "code": "EMA", "occurred_at": at(0), "carrier_number": own})
    assert bound[0].outcome == "accepted"
    by_own = await report(ctx, {"waybill_number": own, "code": "EMJ", "occurred_at": at(1)})
    assert by_own[0].outcome == "accepted" and by_own[0].waybill_number == number
    registered = reference().carrier("cnpost")
    assert registered is not None
    other = await report(ctx, {"waybill_number": own, "code": "EMK", "occurred_at": at(2)}, carrier=registered)
    assert other[0].outcome == "refused" and "S10" in other[0].reason
    wrong_carrier = await report(ctx, {"waybill_number": number, "code": "EMK", "occurred_at": at(2)},
                                 carrier=registered)
    assert "carried by ems" in wrong_carrier[0].reason
