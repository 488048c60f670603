"""W1: the handoff of a case from the accepting window to the owner's topic, beside a raw aiokafka round trip,
and the search for the highest sustained rate."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from bench.cpu import CpuMeter, idle_rate, quiesce
from bench.load import in_child, percentile, summary_ms
from bench.system import (
    ACCEPTING,
    CASE_SUBMITTED,
    OWNING,
    BenchSystem,
    case_body,
    pick_item,
)
from bench.workloads import MemoryWatch, Params, _ratio, settle


class RawConsumer:
    """A plain aiokafka consumer of one topic, from its end, noting when each record arrives."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.arrived: dict[str, float] = {}
        self.sample: tuple[int, int, list[tuple[str, str]]] | None = None
        """Size of a record's value and key, and its headers (for the baseline's same-size message)."""
        self.want_type: str | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._arrival = asyncio.Event()

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                    auto_offset_reset="latest")
        await consumer.start()
        partitions = consumer.partitions_for_topic(self.topic)
        for _ in range(50):
            if partitions:
                break
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(self.topic)
            await asyncio.sleep(0.1)
        assigned = [TopicPartition(self.topic, p) for p in sorted(partitions or [])]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        for tp in assigned:
            await consumer.position(tp)
        self._consumer = consumer
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            now = time.time()
            for messages in batches.values():
                for m in messages:
                    headers = list(m.headers or ())
                    if self.want_type is not None:
                        ce_type = next((v for k, v in headers if k == "ce_type"), b"").decode()
                        if ce_type != self.want_type:
                            continue
                    key = (m.key or b"").decode()
                    self.arrived.setdefault(key, now)
                    self._arrival.set()
                    if self.sample is None:
                        self.sample = (len(m.value or b""), len(m.key or b""),
                                       [(k, v.decode("utf-8")) for k, v in headers])

    def clear(self) -> None:
        """Forget what arrived so far."""
        self.arrived = {}

    async def wait_for(self, keys: set[str], within: float) -> None:
        """Until every key arrived, or ``within`` seconds."""
        deadline = time.monotonic() + within
        while not keys <= self.arrived.keys():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._arrival.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrival.wait(), remaining)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self._consumer:
            await self._consumer.stop()


async def _ensure_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    from shared.kafka_bus import KafkaBus

    await KafkaBus(bootstrap, client_id="bench").ensure_topics([topic], partitions, 1)


def _judge_w1(rate: float, generated: dict[str, Any], arrived: dict[str, float]) -> dict[str, Any]:
    results = generated["results"]
    ok = [r for r in results if r[2] == 201 and r[3]]
    failed = len(results) - len(ok)
    latencies = [arrived[r[3]] - r[0] for r in ok if r[3] in arrived]
    missing = len(ok) - len(latencies)
    latencies += [float("inf")] * missing  # an event that never came counts as infinitely late
    http = [r[1] - r[0] for r in ok]
    figures = summary_ms([x for x in latencies if x != float("inf")])
    if missing:
        figures["p99_ms"] = float("inf") if percentile(latencies, 99) == float("inf") else figures["p99_ms"]
    return {
        "offered_rate": rate, "achieved_rate": generated["achieved_rate"],
        "generator_lag_p99_ms": generated["generator_lag_p99_ms"], "requests": len(results),
        "failed": failed, "failed_statuses": dict(Counter(str(r[2]) for r in results if not (r[2] == 201 and r[3]))),
        "missing_events": missing, **figures,
        "http_p50_ms": round(percentile(http, 50) * 1000, 2), "http_p99_ms": round(percentile(http, 99) * 1000, 2),
        "sustained": bool(failed == 0 and missing == 0 and figures["p99_ms"] < 250
                          and generated["achieved_rate"] >= 0.95 * rate),
    }


def _judge_raw(rate: float, generated: dict[str, Any], arrived: dict[str, float]) -> dict[str, Any]:
    ok = [r for r in generated["results"] if r[2] == 1]
    latencies = [arrived[k] - sent for k, sent, _ in ok if k in arrived]
    return {"offered_rate": rate, "achieved_rate": generated["achieved_rate"], "messages": len(ok),
            "missing": len(ok) - len(latencies), **summary_ms(latencies)}


async def w1_handoff(bench: BenchSystem, params: Params, watch: MemoryWatch) -> dict[str, Any]:
    """POST /v1/cases at A until the CaseSubmitted event is read from B's topic; raw aiokafka beside it."""
    item = pick_item("fully_online")
    bodies = [json.dumps(case_body(item, "fully_online", n)) for n in range(200)]
    consumer = RawConsumer(bench.broker.bootstrap, bench.topic(OWNING))
    consumer.want_type = CASE_SUBMITTED
    raw_topic = f"{bench.system.topic_prefix}.bench.raw"
    await _ensure_topic(bench.broker.bootstrap, raw_topic)
    raw_consumer = RawConsumer(bench.broker.bootstrap, raw_topic)
    await consumer.start()
    await raw_consumer.start()
    runs: list[dict[str, Any]] = []
    raw_runs: list[dict[str, Any]] = []

    async def system_at(rate: float, seconds: float) -> dict[str, Any]:
        await settle(bench, params.settle_timeout)
        pids = bench.pids()
        idle = await idle_rate(pids)
        consumer.clear()
        spec = {"base_url": bench.url("routing"), "path": "/v1/cases", "bodies": bodies, "rate": rate,
                "duration": seconds, "headers": await bench.headers(ACCEPTING)}
        infrastructure = await bench.infrastructure_pids()
        meter = CpuMeter(pids, idle, infrastructure, await idle_rate(infrastructure, trees=True))
        with watch:
            meter.start()
            generated = await in_child("bench.load:http_open_loop", spec)
            keys = {r[3] for r in generated["results"] if r[2] == 201 and r[3]}
            await consumer.wait_for(keys, within=10)
            # Every consumer group (delivery, the audit, the dashboard, webhooks) works off its share.
            await quiesce(pids, idle, params.settle_timeout)
        judged = _judge_w1(rate, generated, consumer.arrived)
        judged["cpu"] = meter.stop(len(keys))
        print(f"  W1 {rate:>6.0f}/s: p50 {judged['p50_ms']} ms, p99 {judged['p99_ms']} ms, "
              f"failed {judged['failed']}, missing {judged['missing_events']}, achieved {judged['achieved_rate']}/s, "
              f"CPU {judged['cpu']['total_ms_per_case']} ms/case (net {judged['cpu']['net_total_ms_per_case']}) "
              f"{judged['cpu']['ms_per_case']}, Kafka/PostgreSQL {judged['cpu']['infrastructure_ms_per_case']} "
              f"(net {judged['cpu']['infrastructure_net_ms_per_case']}), "
              f"load {judged['cpu']['loadavg']}", flush=True)
        runs.append(judged)
        return judged

    async def raw_at(rate: float, seconds: float) -> dict[str, Any]:
        assert consumer.sample is not None
        value_size, _key_size, headers = consumer.sample
        await settle(bench, params.settle_timeout)
        raw_consumer.clear()
        spec = {"bootstrap": bench.broker.bootstrap, "topic": raw_topic, "value_size": value_size,
                "headers": headers, "rate": rate, "duration": seconds}
        generated = await in_child("bench.load:kafka_open_loop", spec)
        await raw_consumer.wait_for({r[0] for r in generated["results"] if r[2] == 1}, within=10)
        judged = _judge_raw(rate, generated, raw_consumer.arrived)
        print(f"  raw {rate:>5.0f}/s: p50 {judged['p50_ms']} ms, p99 {judged['p99_ms']} ms", flush=True)
        raw_runs.append(judged)
        return judged

    try:
        # A first short run gives the size of a real CaseSubmitted record for the baseline.
        await system_at(20, 1.0)
        runs.clear()
        rates: list[dict[str, Any]] = []
        for rate in params.w1_rates:
            raw = await raw_at(rate, params.w1_seconds)
            judged = await system_at(rate, params.w1_seconds)
            rates.append({"rate": rate, "system": judged, "raw": raw,
                          "p50_ratio": _ratio(judged["p50_ms"], raw["p50_ms"]),
                          "p99_ratio": _ratio(judged["p99_ms"], raw["p99_ms"])})
        search = await _search(params, system_at, [dict(r["system"]) for r in rates])
    finally:
        await consumer.stop()
        await raw_consumer.stop()
    assert consumer.sample is not None
    return {"item": item["code"], "from": ACCEPTING, "to_topic_of": OWNING,
            "record_value_bytes": consumer.sample[0], "rates": rates, "search": search}


async def _search(params: Params, run: Callable[[float, float], Any], fixed: list[dict[str, Any]]) -> dict[str, Any]:
    """The highest offered rate whose p99 stays under 250 ms (every request taken, every event read)."""
    passing = [r["offered_rate"] for r in fixed if r["sustained"]]
    failing = [r["offered_rate"] for r in fixed if not r["sustained"]]
    lo = max(passing, default=0.0)
    hi = min([f for f in failing if f > lo], default=None)
    steps: list[dict[str, Any]] = []
    for _ in range(params.search_steps):
        if hi is None:
            rate = min(params.search_ceiling, max(lo, 50) * 1.5)
            if rate <= lo:
                break
        else:
            if hi / max(lo, 1) < 1.15:
                break
            rate = (lo + hi) / 2 if lo else hi / 2
        judged = await run(round(rate), params.search_seconds)
        steps.append({k: judged[k] for k in ("offered_rate", "achieved_rate", "p50_ms", "p99_ms", "failed",
                                             "missing_events", "sustained", "cpu")})
        if judged["sustained"]:
            lo = judged["offered_rate"]
        else:
            hi = judged["offered_rate"]
    return {"max_sustained_rate": lo, "first_failing_rate": hi, "steps": steps,
            "criterion": "p99 < 250 ms, every request 201, every event read, >= 95% of the rate offered"}

