"""W5: carrier tracking events ingested by delivery (signed batches, some repeated), beside a bare insert."""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.handoff import RawConsumer
from bench.load import in_child
from bench.system import (
    ACCEPTING,
    WAYBILL_CREATED,
    BenchSystem,
    case_body,
    pick_item,
)
from bench.workloads import Baseline, Params, _ratio, settle
from tongban.testbed.keys import known_key

JOURNEY = ["EMA", "EMB", "EMC", "EMJ", "EMK", "EMD", "EMF", "EDD", "EDE", "EMG", "EDG", "EMI"]


async def make_waybills(bench: BenchSystem, count: int) -> list[str]:
    """``count`` cases accepted at Suzhou and forwarded by post to Bozhou; their waybill numbers."""
    item = pick_item("accepted_here_handled_there")
    topic_consumer = RawConsumer(bench.broker.bootstrap, bench.topic(ACCEPTING))
    topic_consumer.want_type = WAYBILL_CREATED
    numbers: dict[str, str] = {}
    await topic_consumer.start()
    routing = bench.url("routing")
    headers = await bench.headers(ACCEPTING)
    semaphore = asyncio.Semaphore(8)
    try:
        async with httpx.AsyncClient(timeout=60, headers=headers,
                                     limits=httpx.Limits(max_connections=16)) as http:
            async def one(n: int) -> str:
                async with semaphore:
                    body = case_body(item, "accepted_here_handled_there", n)
                    created = await http.post(routing + "/v1/cases", json=body)
                    if created.status_code != 201:
                        raise RuntimeError(f"case not taken: {created.status_code} {created.text[:200]}")
                    case_id = str(created.json()["id"])
                    for action in ("accept", "forward"):
                        moved = await http.post(routing + f"/v1/cases/{case_id}/transitions",
                                                json={"action": action})
                        if moved.status_code != 200:
                            raise RuntimeError(f"{action}: {moved.status_code} {moved.text[:200]}")
                    return case_id

            cases = set(await asyncio.gather(*(one(n) for n in range(count))))
        # Delivery publishes WaybillCreated on the sender's topic, keyed by the case id.
        await topic_consumer.wait_for(cases, within=120)
    finally:
        await topic_consumer.stop()
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        for case_id in cases:
            found = (await http.get(bench.url("delivery") + "/v1/waybills", params={"case_id": case_id})).json()
            for waybill in found:
                if waybill["flow"] == "materials":
                    numbers[case_id] = waybill["number"]
    if len(numbers) < count:
        raise RuntimeError(f"only {len(numbers)} of {count} waybills were created")
    return sorted(numbers.values())


def carrier_batches(numbers: list[str], workers: int, batch: int, duplicates: float,
                    seed: int = 8) -> list[list[str]]:
    """Per worker, the JSON bodies of its batches: its waybills' journeys in time order, some events repeated."""
    rng = random.Random(seed)
    base = datetime.now(UTC).astimezone(timezone_cn()) - timedelta(days=2)
    out: list[list[str]] = []
    for w in range(workers):
        events = []
        for step, code in enumerate(JOURNEY):
            for n, number in enumerate(numbers[w::workers]):
                events.append({"waybill_number": number, "code": code,
                               "occurred_at": (base + timedelta(hours=3 * step, seconds=n)).isoformat(),
                               "location": f"bench office {step}"})
        fresh_per_batch = max(1, round(batch * (1 - duplicates)))
        bodies: list[str] = []
        sent: list[dict[str, str]] = []
        for start in range(0, len(events), fresh_per_batch):
            fresh = events[start:start + fresh_per_batch]
            repeated = rng.sample(sent, min(len(sent), batch - len(fresh))) if sent else []
            sent.extend(fresh)
            bodies.append(json.dumps({"events": fresh + repeated}, ensure_ascii=False, separators=(",", ":")))
        out.append(bodies)
    return out


def timezone_cn() -> Any:
    from datetime import timezone

    return timezone(timedelta(hours=8))


async def w5_webhook(bench: BenchSystem, params: Params, baseline: Baseline, hmac_secret: bytes) -> dict[str, Any]:
    """Carrier events ingested per second (signed batches, some repeated); a bare idempotent insert beside it."""
    started = time.monotonic()
    numbers = await make_waybills(bench, params.w5_waybills)
    setup_seconds = round(time.monotonic() - started, 1)
    async with httpx.AsyncClient(timeout=30) as http:
        registered = await http.post(bench.url("authorization") + "/v1/clients",
                                     json={"locality": ACCEPTING, "name": "bench carrier", "roles": ["carrier"]},
                                     headers=await bench.headers(ACCEPTING))
        registered.raise_for_status()
    carrier = registered.json()
    token = await bench.token(ACCEPTING, client=carrier, audience="tongban-delivery")
    batches = carrier_batches(numbers, params.w5_workers, params.w5_batch, params.w5_duplicates)
    assert baseline.process is not None
    await settle(bench, params.settle_timeout)
    raw = await in_child("bench.load:carrier_batches", {
        "base_url": baseline.process.url, "headers": {}, "batches": batches,
        "hmac_secret": hmac_secret.hex(), "path": "/carrier/events"})
    print(f"  W5 baseline: {raw['events_per_second']} events/s {raw['statuses']}", flush=True)
    await settle(bench, params.settle_timeout)
    system = await in_child("bench.load:carrier_batches", {
        "base_url": bench.url("delivery"), "headers": {"Authorization": f"Bearer {token}"}, "batches": batches,
        "hmac_secret": hmac_secret.hex(), "path": "/v1/carrier/events"})
    print(f"  W5 delivery: {system['events_per_second']} events/s {system['statuses']} "
          f"accepted {system['accepted']} duplicates {system['duplicates']} refused {system['refused']}", flush=True)
    return {"waybills": len(numbers), "setup_seconds": setup_seconds, "batch": params.w5_batch,
            "duplicate_share": params.w5_duplicates, "system": system, "raw": raw,
            "ratio": _ratio(system["events_per_second"], raw["events_per_second"])}


def carrier_secret() -> bytes:
    """The HMAC secret of carrier ``ems`` in the harness's key files."""
    return known_key("delivery", "carrier-hmac-ems")

