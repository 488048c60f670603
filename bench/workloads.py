"""The workloads W1 to W5 and the memory figures, each measured beside its baseline."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from bench.cpu import CpuMeter, cpu_seconds, idle_rate, quiesce
from bench.load import in_child, percentile, summary_ms
from bench.system import (
    ACCEPTING,
    CASE_SUBMITTED,
    FIRST_LIST,
    OWNING,
    WAYBILL_CREATED,
    BenchSystem,
    case_body,
    pick_item,
    rss_mb,
)
from tongban.testbed.infra import REPO
from tongban.testbed.keys import known_key
from tongban.testbed.processes import ServiceProcess, free_port


@dataclass
class Params:
    """How long and how hard each workload runs."""

    w1_rates: tuple[int, ...] = (20, 50, 200, 500)
    w1_seconds: float = 15.0
    search_seconds: float = 8.0
    search_steps: int = 5
    search_ceiling: int = 3000
    w2_seconds: float = 15.0
    w2_concurrency: int = 32
    w3_items: int = 10_000
    w3_localities: int = 41
    w3_small_items: int = 72
    w3_requests: int = 300
    w4_seconds: float = 10.0
    w4_concurrency: int = 16
    w5_waybills: int = 500
    w5_batch: int = 50
    w5_duplicates: float = 0.2
    w5_workers: int = 4
    w6_small: int = 20
    """1 MB files W6 uploads and downloads (through routing, then raw)."""
    w6_large: int = 5
    """20 MB files W6 uploads and downloads."""
    settle_timeout: float = 60.0
    profile: bool = False
    profile_seconds: float = 15.0
    profile_rate: float = 50.0
    """W1's offered rate while every service is profiled."""


SMOKE = Params(w1_rates=(20, 50, 200), w1_seconds=2, search_seconds=2, search_steps=1, w2_seconds=2,
               w2_concurrency=8, w3_items=200, w3_localities=4, w3_small_items=72, w3_requests=20, w4_seconds=2,
               w4_concurrency=4, w5_waybills=12, w5_batch=20, w5_workers=2, w6_small=2, w6_large=1,
               settle_timeout=20)


# --------------------------------------------------------------------------- helpers


async def settle(bench: BenchSystem, within: float, quiet: float = 0.15) -> float:
    """Wait until the services are nearly idle (backlogs of a previous workload worked off); seconds waited."""
    pids = list(bench.pids().values())
    started = time.monotonic()
    await asyncio.sleep(0.5)
    while time.monotonic() - started < within:
        before = sum(cpu_seconds(p) for p in pids)
        await asyncio.sleep(1.0)
        if sum(cpu_seconds(p) for p in pids) - before < quiet * len(pids):
            break
    return round(time.monotonic() - started, 1)


class MemoryWatch:
    """Samples the resident set size of every service while a workload runs; keeps the peak."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak: dict[str, float] = dict.fromkeys(pids, 0.0)
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], rss_mb(pid))
            await asyncio.sleep(0.5)

    def __enter__(self) -> MemoryWatch:
        self._task = asyncio.ensure_future(self._run())
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._task:
            self._task.cancel()


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


# --------------------------------------------------------------------------- W1 handoff latency


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
        meter = CpuMeter(pids, idle)
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
              f"{judged['cpu']['ms_per_case']}, load {judged['cpu']['loadavg']}", flush=True)
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


def _ratio(value: float, baseline: float) -> float | None:
    if not baseline or value in (float("inf"),):
        return None
    return float(f"{value / baseline:.3g}")


# --------------------------------------------------------------------------- W2 acceptance throughput


class Baseline:
    """The bare FastAPI + asyncpg application, as its own uvicorn process on the same PostgreSQL."""

    def __init__(self, bench: BenchSystem, hmac_secret: bytes) -> None:
        self.bench, self.hmac_secret = bench, hmac_secret
        self.process: ServiceProcess | None = None

    async def start(self) -> str:
        url = await self.bench.postgres.create_database("base")
        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        port = free_port()
        proc = ServiceProcess("baseline", port, {"BENCH_DSN": dsn, "BENCH_HMAC_SECRET": self.hmac_secret.hex()},
                              self.bench.work_dir / "logs" / "baseline.log")
        proc.process = _spawn(proc, ["-m", "bench.baseline_app", str(port)])
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                try:
                    if (await http.get(proc.url + "/docs")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"baseline did not start:\n{proc.tail()}")
        self.process = proc
        return proc.url

    def stop(self) -> None:
        if self.process:
            self.process.stop()


def _spawn(proc: ServiceProcess, args: list[str]) -> subprocess.Popen[bytes]:
    log = proc.log_path.open("ab")
    return subprocess.Popen([sys.executable, *args], cwd=REPO, env={**os.environ, **proc.env}, stdout=log,
                            stderr=subprocess.STDOUT)


async def w2_acceptance(bench: BenchSystem, params: Params, baseline: Baseline) -> dict[str, Any]:
    """Cases accepted per second by routing, closed loop; a bare insert endpoint beside it."""
    item = pick_item("fully_online")
    bodies = [json.dumps(case_body(item, "fully_online", n)) for n in range(200)]
    assert baseline.process is not None
    await settle(bench, params.settle_timeout)
    raw = await in_child("bench.load:http_closed_loop", {
        "base_url": baseline.process.url, "path": "/rows", "bodies": bodies, "headers": {},
        "concurrency": params.w2_concurrency, "duration": params.w2_seconds})
    print(f"  W2 baseline: {raw['per_second']}/s {raw['statuses']}", flush=True)
    await settle(bench, params.settle_timeout)
    system = await in_child("bench.load:http_closed_loop", {
        "base_url": bench.url("routing"), "path": "/v1/cases", "bodies": bodies,
        "headers": await bench.headers(ACCEPTING), "concurrency": params.w2_concurrency,
        "duration": params.w2_seconds})
    print(f"  W2 routing: {system['per_second']}/s {system['statuses']}", flush=True)
    return {"system": system, "raw": raw, "ratio": _ratio(system["per_second"], raw["per_second"])}


async def profile_under_w2(bench: BenchSystem, params: Params, out_dir: Path) -> dict[str, Any]:
    """py-spy samples of routing and authorization while W2's load runs (not a measured run)."""
    from bench.profiling import record, top_frames

    item = pick_item("fully_online")
    bodies = [json.dumps(case_body(item, "fully_online", n)) for n in range(200)]
    await settle(bench, params.settle_timeout)
    pids = bench.pids()
    targets = {name: pids[name] for name in ("routing", "authorization")}
    load = asyncio.ensure_future(in_child("bench.load:http_closed_loop", {
        "base_url": bench.url("routing"), "path": "/v1/cases", "bodies": bodies,
        "headers": await bench.headers(ACCEPTING), "concurrency": params.w2_concurrency,
        "duration": params.profile_seconds + 2}))
    await asyncio.sleep(1.5)
    files = await asyncio.gather(*(record(pid, params.profile_seconds, out_dir / f"profile-{name}")
                                   for name, pid in targets.items()))
    result = await load
    report: dict[str, Any] = {"load_per_second": result["per_second"]}
    for (name, _pid), path in zip(targets.items(), files, strict=True):
        report[name] = {"file": str(path), "top": top_frames(path)}
    return report


async def profile_under_w1(bench: BenchSystem, params: Params, out_dir: Path) -> dict[str, Any]:
    """py-spy samples of every service process while W1's open-loop load runs (not a measured run)."""
    from bench.profiling import record, top_frames

    item = pick_item("fully_online")
    bodies = [json.dumps(case_body(item, "fully_online", n)) for n in range(200)]
    await settle(bench, params.settle_timeout)
    pids = bench.pids()
    load = asyncio.ensure_future(in_child("bench.load:http_open_loop", {
        "base_url": bench.url("routing"), "path": "/v1/cases", "bodies": bodies, "rate": params.profile_rate,
        "duration": params.profile_seconds + 2, "headers": await bench.headers(ACCEPTING)}))
    await asyncio.sleep(1.5)
    meter = CpuMeter(pids)
    meter.start()
    files = await asyncio.gather(*(record(pid, params.profile_seconds, out_dir / f"profile-w1-{name}")
                                   for name, pid in pids.items()))
    cpu = meter.stop(max(1, round(params.profile_rate * params.profile_seconds)))
    result = await load
    report: dict[str, Any] = {"offered_rate": params.profile_rate, "achieved_rate": result["achieved_rate"],
                              "statuses": dict(Counter(str(r[2]) for r in result["results"])), "cpu": cpu}
    for (name, _pid), path in zip(pids.items(), files, strict=True):
        report[name] = {"file": str(path), "top": top_frames(path)}
    return report


# --------------------------------------------------------------------------- W3 catalogue


async def w3_catalogue(bench: BenchSystem, params: Params, out_dir: Path) -> dict[str, Any]:
    """Search and item fetch: the shipped 72 items over HTTP, and bench/catalogue_search.py at 72 and 10,000."""
    script = REPO / "bench" / "catalogue_search.py"
    result: dict[str, Any] = {"shipped_over_http": await _catalogue_over_http(bench, params)}
    if not script.exists():
        result["status"] = "not run"
        result["note"] = "bench/catalogue_search.py does not exist yet"
        return result
    runs = {}
    for label, items, localities in (("small", params.w3_small_items, 4),
                                     ("large", params.w3_items, params.w3_localities)):
        url = await bench.postgres.create_database("cat")
        out = out_dir / f"catalogue_search_{items}.json"
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(script), url, "--items", str(items), "--localities", str(localities),
            "--requests", str(params.w3_requests), "--out", str(out), cwd=REPO,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await proc.communicate()
        if proc.returncode != 0 or not out.exists():
            tail = output.decode(errors="replace").strip().splitlines()[-8:]
            result["status"] = "not run"
            result["note"] = (f"bench/catalogue_search.py --items {items} failed ({proc.returncode}): "
                              + " | ".join(tail))
            return result
        report = json.loads(out.read_text(encoding="utf-8"))
        report["wall_seconds"] = round(time.monotonic() - started, 1)
        runs[label] = report
        print(f"  W3 catalogue_search.py {items} items: done in {report['wall_seconds']} s", flush=True)
    result["status"] = "run"
    result["small"], result["large"] = runs["small"], runs["large"]
    result["headline"] = {label: _catalogue_headline(runs[label]["results"]) for label in runs}
    return result


def _catalogue_headline(results: list[dict[str, Any]]) -> dict[str, Any]:
    searches = [r for r in results if r["name"].startswith("search") or r["name"].startswith("list")]
    fetch = next((r for r in results if r["name"] == "item fetch"), None)
    worst = max(searches, key=lambda r: r["p99_ms"]) if searches else None
    return {
        "search_p50_ms": round(percentile([r["p50_ms"] for r in searches], 50), 2) if searches else None,
        "search_worst_p99_ms": worst["p99_ms"] if worst else None,
        "search_worst_kind": worst["name"] if worst else None,
        "fetch_p50_ms": fetch["p50_ms"] if fetch else None, "fetch_p99_ms": fetch["p99_ms"] if fetch else None,
    }


async def _catalogue_over_http(bench: BenchSystem, params: Params) -> dict[str, Any]:
    """Sequential requests to the running catalogue process (network, uvicorn, token, the shipped list)."""
    codes = [i["code"] for i in json.loads(FIRST_LIST.read_text(encoding="utf-8"))["items"]]
    rng = random.Random(7)
    async with httpx.AsyncClient(base_url=bench.url("catalogue"), headers=await bench.headers(ACCEPTING),
                                 timeout=30) as http:
        kinds: dict[str, Callable[[], Any]] = {
            "search 医保": lambda: http.get("/v1/items", params={"q": "医保"}),
            "search 社保卡": lambda: http.get("/v1/items", params={"q": "社保卡"}),
            "search business licence": lambda: http.get("/v1/items", params={"q": "business licence"}),
            "item fetch": lambda: http.get(f"/v1/items/{rng.choice(codes)}"),
        }
        out = {}
        for name, call in kinds.items():
            for _ in range(10):
                (await call()).raise_for_status()
            latencies = []
            for _ in range(params.w3_requests):
                started = time.perf_counter()
                response = await call()
                latencies.append(time.perf_counter() - started)
                response.raise_for_status()
            out[name] = summary_ms(latencies)
    return out


# --------------------------------------------------------------------------- W5 carrier webhook

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


@dataclass
class Memory:
    """Resident set sizes of the services, at rest and at their peak under W1."""

    at_rest: dict[str, float] = field(default_factory=dict)
    under_w1: dict[str, float] = field(default_factory=dict)


def scratch_dir() -> Path:
    """A scratch folder whose parents PostgreSQL can traverse."""
    path = Path(tempfile.mkdtemp(prefix="tongban-bench-", dir="/var/tmp"))
    path.chmod(0o755)
    return path
