"""The workloads W1 to W5 and the memory figures, each measured beside its baseline."""

from __future__ import annotations

import asyncio
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
from pathlib import Path
from typing import Any

import httpx

from bench.cpu import CpuMeter, cpu_seconds
from bench.load import in_child, percentile, summary_ms
from bench.system import (
    ACCEPTING,
    FIRST_LIST,
    BenchSystem,
    case_body,
    pick_item,
    rss_mb,
)
from tongban.testbed.infra import REPO
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


# --------------------------------------------------------------------------- W1 handoff latency


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
