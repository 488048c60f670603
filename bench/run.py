"""Run every workload beside its baseline, print the table and write bench/results/latest.json.

    python -m bench.run                 # the full run (about 15 minutes)
    python -m bench.run --smoke         # a few seconds per workload (what CI runs)
    python -m bench.run --profile       # also py-spy profiles of every service under W1 (and of two under W2)
    python -m bench.run --only W1 --w1-rates 20,50 --w1-seconds 8 --search-steps 3 --profile
                                        # the short W1-only variant: CPU per case, latencies, profiles

It starts its own Kafka broker and PostgreSQL cluster (``tongban/testbed/infra.py``), every service
as its own process (``tongban serve``), bootstraps credentials, activates a four-party agreement
and publishes the first list, then measures W1 to W5, case files through routing beside raw S3 on the same
SeaweedFS (W6, which the harness starts too), and the resident memory of each service.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import sys
import time
import traceback
import uuid
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.carrier_load import carrier_secret, w5_webhook
from bench.files import w6_files
from bench.handoff import w1_handoff
from bench.signatures import w4_signatures
from bench.system import (
    busy_processes,
    launch,
    load_average,
    machine,
    prepare,
    rss_mb,
    start_infrastructure,
)
from bench.workloads import (
    SMOKE,
    Baseline,
    MemoryWatch,
    Params,
    profile_under_w1,
    profile_under_w2,
    scratch_dir,
    settle,
    w2_acceptance,
    w3_catalogue,
)
from shared.settings import SERVICE_NAMES
from tongban.testbed.infra import KafkaBroker, PostgresServer, SeaweedFS
from tongban.testbed.processes import free_port

RESULTS = Path(__file__).resolve().parent / "results"
MEMORY_TARGET_MB = 400.0
CPU_TARGET_MS = 5.0
P50_TARGET_RATE = 20
CPU_DETAIL_RATE = 50
"""The fixed W1 rate whose CPU per case the table shows per process (the others show the total)."""


ALL = ("W1", "W2", "W3", "W4", "W5", "W6")


async def run_bench(params: Params, *, work_dir: Path | None = None, broker: KafkaBroker | None = None,
                    postgres: PostgresServer | None = None, out: Path | None = None,
                    only: tuple[str, ...] = ALL, seaweedfs: SeaweedFS | None = None) -> dict[str, Any]:
    """The whole run (or the workloads ``only`` names); the report (also written as JSON to ``out``)."""
    started = time.monotonic()
    work = work_dir or scratch_dir()
    owns = broker is None or postgres is None
    load_at_start = load_average()
    others_at_start = busy_processes(exclude={os.getpid()})
    if owns:
        print(f"starting Kafka and PostgreSQL under {work}", flush=True)
        broker, postgres = await asyncio.to_thread(start_infrastructure, work)
    assert broker is not None and postgres is not None
    owns_store = seaweedfs is None and "W6" in only
    if owns_store:
        print("starting SeaweedFS", flush=True)
        seaweedfs = SeaweedFS(port=free_port(span=9), state_dir=work / "seaweedfs")
        await asyncio.to_thread(seaweedfs.start)
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    print("starting the services", flush=True)
    try:
        bench = await launch(work, broker, postgres, owns, env=seaweedfs.service_env(bucket) if seaweedfs else None)
    except BaseException:
        if owns_store and seaweedfs is not None:
            seaweedfs.stop()
        raise
    report: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                              "params": asdict(params), "workloads": {}, "errors": {}}
    baseline = Baseline(bench, carrier_secret())
    try:
        report["machine"] = await machine(bench)
        print("activating the agreement and publishing the first list", flush=True)
        await prepare(bench)
        await settle(bench, params.settle_timeout)
        pids = bench.pids()
        report["memory"] = {"at_rest": {name: rss_mb(pid) for name, pid in pids.items()}}
        await baseline.start()
        assert baseline.process is not None and baseline.process.process is not None
        report["memory"]["baseline_process_at_rest"] = rss_mb(baseline.process.process.pid)
        watch = MemoryWatch(pids)
        if "W1" in only:
            await _workload(report, "W1", lambda: w1_handoff(bench, params, watch))
            report["memory"]["under_w1"] = dict(watch.peak)
        if "W2" in only:
            await _workload(report, "W2", lambda: w2_acceptance(bench, params, baseline))
        if params.profile and "W1" in only:
            await _workload(report, "profile_w1", lambda: profile_under_w1(bench, params, RESULTS))
        if params.profile and "W2" in only:
            await _workload(report, "profile", lambda: profile_under_w2(bench, params, RESULTS))
        if "W3" in only:
            await _workload(report, "W3", lambda: w3_catalogue(bench, params, work))
        if "W4" in only:
            await _workload(report, "W4", lambda: w4_signatures(bench, params))
        if "W5" in only:
            await _workload(report, "W5", lambda: w5_webhook(bench, params, baseline, carrier_secret()))
        if "W6" in only and seaweedfs is not None:
            store = seaweedfs
            await _workload(report, "W6", lambda: w6_files(bench, store, bucket, params.w6_small, params.w6_large))
        report["memory"]["after_all"] = {name: rss_mb(pid) for name, pid in pids.items()}
    finally:
        baseline.stop()
        bench.stop()
        if owns_store and seaweedfs is not None:
            seaweedfs.stop()
        if owns and not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)
    report["load"] = {"loadavg_at_start": load_at_start, "loadavg_at_end": load_average(),
                      "other_busy_processes_at_start": others_at_start}
    report["notes"] = bench.notes
    report["seconds"] = round(time.monotonic() - started, 1)
    report["figures"] = figures(report)
    target = out or RESULTS / ("latest.json" if only == ALL else "partial.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
    return report


def _json_default(value: Any) -> Any:
    return str(value)


async def _workload(report: dict[str, Any], name: str, run: Any) -> None:
    print(f"{name} ...", flush=True)
    began = time.monotonic()
    try:
        report["workloads"][name] = await run()
    except Exception as exc:
        report["errors"][name] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    else:
        report["workloads"][name]["seconds"] = round(time.monotonic() - began, 1)


# --------------------------------------------------------------------------- the table


def _row(workload: str, figure: str, value: float | None, unit: str, baseline: float | None = None,
         baseline_label: str = "", target: str = "", met: bool | None = None) -> dict[str, Any]:
    ratio = None
    if value is not None and baseline and not math.isinf(value):
        ratio = float(f"{value / baseline:.3g}")
    return {"workload": workload, "figure": figure, "value": value, "unit": unit, "baseline": baseline,
            "baseline_label": baseline_label, "ratio": ratio, "target": target, "met": met}


def _cpu_rows(rate: int, cpu: dict[str, Any] | None) -> list[dict[str, Any]]:
    """CPU milliseconds per case: the total at every rate, each process at ``CPU_DETAIL_RATE``."""
    if not cpu:
        return []
    load = "/".join(f"{x:g}" for x in cpu["loadavg"])
    rows = [_row("W1 CPU", f"CPU per case, all processes, at {rate}/s (net of idle "
                 f"{cpu['net_total_ms_per_case']:g} ms; load {load})", cpu["total_ms_per_case"], "ms",
                 target=f"<= {CPU_TARGET_MS:g} ms", met=cpu["total_ms_per_case"] <= CPU_TARGET_MS)]
    if rate == CPU_DETAIL_RATE:
        for name, ms in cpu["ms_per_case"].items():
            rows.append(_row("W1 CPU", f"CPU per case, {name}, at {rate}/s (net {cpu['net_ms_per_case'][name]:g})",
                             ms, "ms"))
        net = cpu.get("infrastructure_net_ms_per_case", {})
        for name, ms in cpu.get("infrastructure_ms_per_case", {}).items():
            rows.append(_row("W1 CPU", f"CPU per case, {name} (outside the Tongban total), at {rate}/s "
                             f"(net {net.get(name, ms):g})", ms, "ms"))
    return rows


def figures(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The table: each figure, its baseline of the same run, the ratio, the target and whether it is met."""
    rows: list[dict[str, Any]] = []
    w = report.get("workloads", {})
    if "W1" in w:
        for entry in w["W1"]["rates"]:
            s, raw, rate = entry["system"], entry["raw"], entry["rate"]
            for p in ("p50", "p95", "p99"):
                target, met = "", None
                if p == "p50" and rate == P50_TARGET_RATE:
                    target, met = "<= 3x raw", s["p50_ms"] <= 3 * raw["p50_ms"]
                rows.append(_row("W1 handoff", f"{p} at {rate}/s offered", s[f"{p}_ms"], "ms", raw[f"{p}_ms"],
                                 "raw aiokafka produce->consume", target, met))
            rows.extend(_cpu_rows(rate, s.get("cpu")))
        best = w["W1"]["search"]["max_sustained_rate"]
        rows.append(_row("W1 handoff", "max sustained rate (p99 < 250 ms)", best, "cases/s", None, "",
                         ">= 200/s (aim 500)", best >= 200))
    if "W2" in w:
        rows.append(_row("W2 acceptance", f"cases accepted (closed loop, {w['W2']['system']['concurrency']} "
                         "in flight)", w["W2"]["system"]["per_second"], "cases/s", w["W2"]["raw"]["per_second"],
                         "bare FastAPI+asyncpg insert"))
    if "W3" in w:
        w3 = w["W3"]
        for name, fig in w3.get("shipped_over_http", {}).items():
            rows.append(_row("W3 catalogue", f"72 shipped, over HTTP: {name} p99", fig["p99_ms"], "ms"))
        if w3.get("status") == "run":
            small, large = w3["headline"]["small"], w3["headline"]["large"]
            n_small, n_large = w3["small"]["items"], w3["large"]["items"]
            for key, label in (("search_p50_ms", "search p50 (median of kinds)"),
                               ("search_worst_p99_ms", "search p99 (worst kind)"),
                               ("fetch_p50_ms", "item fetch p50"), ("fetch_p99_ms", "item fetch p99")):
                is_p99 = "p99" in key
                rows.append(_row("W3 catalogue", f"{n_large} items: {label}", large[key], "ms", small[key],
                                 f"same at {n_small} items", "<= 10 ms" if is_p99 else "",
                                 (large[key] <= 10) if is_p99 and large[key] is not None else None))
        else:
            rows.append(_row("W3 catalogue", "10,000 items: " + w3.get("status", "not run"), None, "",
                             target=w3.get("note", "")))
    if "W4" in w:
        w4 = w["W4"]
        rows.append(_row("W4 signatures", "attestations issued via API", w4["issued"]["per_second"], "/s",
                         w4["raw"]["sign_per_second"], "raw Ed25519 sign, 1 core", ">= 0.5x raw",
                         w4["issued"]["per_second"] >= 0.5 * w4["raw"]["sign_per_second"]))
        rows.append(_row("W4 signatures", "attestations verified via API", w4["verified"]["per_second"], "/s",
                         w4["raw"]["verify_per_second"], "raw Ed25519 verify, 1 core", ">= 0.5x raw",
                         w4["verified"]["per_second"] >= 0.5 * w4["raw"]["verify_per_second"]))
        if "sm2" in w4:
            sm2 = w4["sm2"]
            rows.append(_row("W4 signatures", "SM2 attestations issued via API", sm2["issued"]["per_second"], "/s",
                             sm2["raw"]["sign_per_second"], "raw SM2 sign (OpenSSL binding), 1 core"))
            rows.append(_row("W4 signatures", "SM2 attestations verified via API", sm2["verified"]["per_second"],
                             "/s", sm2["raw"]["verify_per_second"], "raw SM2 verify (OpenSSL binding), 1 core"))
            speeds = w4.get("openssl_speed") or {}
            for name, label, raw in (("sm2", "SM2", sm2["raw"]), ("ed25519", "Ed25519", w4["raw"])):
                for kind in ("sign", "verify"):
                    if speeds.get(name):
                        rows.append(_row("W4 signatures", f"raw {label} {kind} from Python", raw[f"{kind}_per_second"],
                                         "/s", speeds[name][f"{kind}_per_second"], f"openssl speed {name}, C"))
    if "W5" in w:
        w5 = w["W5"]
        rows.append(_row("W5 webhook", f"carrier events ingested ({int(w5['duplicate_share'] * 100)}% repeated)",
                         w5["system"]["events_per_second"], "events/s", w5["raw"]["events_per_second"],
                         "bare HMAC check + idempotent insert"))
    for size, entry in w.get("W6", {}).get("sizes", {}).items():
        system, raw = entry["system"], entry["raw"]
        for way, base in (("upload", "put"), ("download", "get")):
            label = f"raw S3 {base.upper()} on the same SeaweedFS"
            rows.append(_row("W6 case files", f"{size} {way} throughput", system[way]["mb_per_second"], "MB/s",
                             raw[base]["mb_per_second"], label))
            rows.append(_row("W6 case files", f"{size} {way} p50", system[way]["p50_ms"], "ms", raw[base]["p50_ms"],
                             label))
    memory = report.get("memory", {})
    bare = memory.get("baseline_process_at_rest")
    for phase in ("at_rest", "under_w1"):
        values = memory.get(phase, {})
        for name, mb in values.items():
            rows.append(_row("memory", f"{name} RSS {phase.replace('_', ' ')}", mb, "MB", bare,
                             "bare FastAPI+asyncpg process"))
        four = round(sum(values.get(n, 0.0) for n in SERVICE_NAMES), 1)
        if values:
            n = len(SERVICE_NAMES)
            rows.append(_row("memory", f"the {n} services together {phase.replace('_', ' ')}", four, "MB",
                             bare and round(n * bare, 1), f"{n} bare processes", "<= 400 MB",
                             four <= MEMORY_TARGET_MB))
    return rows


def render(report: dict[str, Any]) -> str:
    """The table as Markdown."""
    def num(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float) and math.isinf(value):
            return "inf"
        return f"{value:,.1f}" if isinstance(value, float) and value >= 100 else f"{value:g}"

    lines = ["| workload | figure | value | baseline | ratio | target |", "|---|---|---|---|---|---|"]
    for r in report["figures"]:
        mark = "" if r["met"] is None else (" ✓" if r["met"] else " ✗")
        value = f"{num(r['value'])} {r['unit']}".strip()
        base = f"{num(r['baseline'])} ({r['baseline_label']})" if r["baseline"] is not None else ""
        lines.append(f"| {r['workload']} | {r['figure']} | {value} | {base} | {num(r['ratio'])} | "
                     f"{r['target']}{mark} |")
    m = report.get("machine", {})
    lines.append("")
    load = report.get("load", {})
    lines.append(f"Machine: {m.get('nproc')} CPUs ({m.get('cpu_model')}), {m.get('memory_mb')} MB, "
                 f"Python {m.get('python')}, Kafka {m.get('kafka')} (aiokafka {m.get('aiokafka')}), "
                 f"PostgreSQL {m.get('postgresql')} (fsync={m.get('postgresql_fsync')}); load average at start "
                 f"{load.get('loadavg_at_start')}, at end {load.get('loadavg_at_end')}.")
    if report.get("errors"):
        lines.append("Errors: " + "; ".join(f"{k}: {v}" for k, v in report["errors"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="a few seconds per workload")
    parser.add_argument("--profile", action="store_true", help="py-spy profiles of routing and authorization under W2")
    parser.add_argument("--out", type=Path, default=None, help="where the JSON goes (bench/results/latest.json)")
    parser.add_argument("--w3-items", type=int, default=None, help="items of W3's large catalogue")
    parser.add_argument("--only", default=",".join(ALL), help="the workloads to run, e.g. W1,W2")
    parser.add_argument("--w1-rates", default=None, help="W1's fixed offered rates, e.g. 20,50,200")
    parser.add_argument("--w1-seconds", type=float, default=None, help="seconds of each fixed W1 rate")
    parser.add_argument("--search-steps", type=int, default=None, help="steps of W1's sustained-rate search")
    parser.add_argument("--profile-rate", type=float, default=None, help="W1 rate while every service is profiled")
    args = parser.parse_args(argv)
    params = SMOKE if args.smoke else Params()
    params = replace(params, profile=args.profile)
    if args.w1_rates:
        params = replace(params, w1_rates=tuple(int(r) for r in args.w1_rates.split(",") if r.strip()))
    if args.w1_seconds:
        params = replace(params, w1_seconds=args.w1_seconds, search_seconds=min(params.search_seconds,
                                                                                 args.w1_seconds))
    if args.search_steps is not None:
        params = replace(params, search_steps=args.search_steps)
    if args.profile_rate:
        params = replace(params, profile_rate=args.profile_rate)
    if args.w3_items:
        params = replace(params, w3_items=args.w3_items)
    only = tuple(w.strip().upper() for w in args.only.split(",") if w.strip())
    report = asyncio.run(run_bench(params, out=args.out, only=only))
    print()
    print(render(report))
    print(f"\nwritten to {args.out or RESULTS / 'latest.json'} ({report['seconds']} s)")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
