"""The benchmark harness (``bench/``, ``make bench``) in miniature, so that it cannot rot.

A few seconds per workload on the session's Kafka and PostgreSQL, every service as its own process.
It asserts only that the harness runs and that every figure and every baseline is there and
positive: never that anything is fast (CI machines are shared and slow).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.run import ALL, render, run_bench
from bench.workloads import SMOKE
from tongban.testbed.infra import KafkaBroker, PostgresServer, SeaweedFS


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and value > 0 and not math.isinf(value)


@pytest.mark.timeout(900)
async def test_the_harness_runs_and_produces_every_figure(
    kafka: KafkaBroker, postgres: PostgresServer, seaweedfs: SeaweedFS, work_dir: Path, tmp_path: Path
) -> None:
    scratch = work_dir / f"bench-{tmp_path.name}"
    scratch.mkdir(mode=0o755)
    out = tmp_path / "bench.json"
    report = await run_bench(SMOKE, work_dir=scratch, broker=kafka, postgres=postgres, out=out, seaweedfs=seaweedfs)
    assert json.loads(out.read_text(encoding="utf-8"))["figures"] == report["figures"]
    assert report["errors"] == {}, report["errors"]
    assert set(report["workloads"]) == set(ALL)

    w1 = report["workloads"]["W1"]
    assert [r["rate"] for r in w1["rates"]] == list(SMOKE.w1_rates)
    for entry in w1["rates"]:
        for side in ("system", "raw"):
            assert all(_positive(entry[side][f"p{p}_ms"]) for p in (50, 95, 99)), entry
    assert w1["search"]["steps"], "the sustained-rate search ran"
    assert w1["record_value_bytes"] > 0

    w2 = report["workloads"]["W2"]
    assert _positive(w2["system"]["per_second"]) and _positive(w2["raw"]["per_second"])

    w3 = report["workloads"]["W3"]
    assert all(_positive(f["p99_ms"]) for f in w3["shipped_over_http"].values())
    assert w3["status"] == "run", w3.get("note")
    for size in ("small", "large"):
        assert all(_positive(v) for k, v in w3["headline"][size].items() if k.endswith("_ms")), w3["headline"]

    w4 = report["workloads"]["W4"]
    assert all(_positive(v) for v in (w4["issued"]["per_second"], w4["verified"]["per_second"],
                                      w4["raw"]["sign_per_second"], w4["raw"]["verify_per_second"]))
    sm2 = w4["sm2"]  # the same through the API after the accepting locality's key moved to SM2
    assert sm2["alg"] == "SM2SM3"
    assert all(_positive(v) for v in (sm2["issued"]["per_second"], sm2["verified"]["per_second"],
                                      sm2["raw"]["sign_per_second"], sm2["raw"]["verify_per_second"]))

    w5 = report["workloads"]["W5"]
    assert _positive(w5["system"]["events_per_second"]) and _positive(w5["raw"]["events_per_second"])
    assert w5["system"]["refused"] == 0 and w5["system"]["duplicates"] > 0, w5["system"]

    memory = report["memory"]
    for phase in ("at_rest", "under_w1"):
        assert set(memory[phase]) >= {"catalogue", "routing", "authorization", "delivery"}
        assert all(_positive(mb) for mb in memory[phase].values())
    assert all(k in report["machine"] for k in ("nproc", "memory_mb", "cpu_model", "python", "kafka", "postgresql"))

    # Every row of the table has a value; every row with a baseline has a ratio.
    for row in report["figures"]:
        assert row["value"] is not None, row
        if row["baseline"] is not None:
            assert _positive(row["ratio"]), row
    assert "| W1 handoff |" in render(report)

    w6 = report["workloads"]["W6"]["sizes"]
    for size in ("1MB", "20MB"):
        for side, way in (("system", "upload"), ("system", "download"), ("raw", "put"), ("raw", "get")):
            assert _positive(w6[size][side][way]["mb_per_second"]) and _positive(w6[size][side][way]["p50_ms"])
