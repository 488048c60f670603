"""The capacity model of docs/operations.md, from a bench run's CPU per case.

    python -m bench.capacity bench/results/latest.json [--rate 50] [--peak 200 --peak 2000]

For each Tongban process: its CPU milliseconds per W1 case (net of its idle polling) at the chosen
fixed rate, the cases per second one core of it carries, and the cores (and so replicas of one
core each) it needs for each peak rate at the chosen utilisation; then the same for Kafka and
PostgreSQL (whole process trees, measured over the same run), outside the Tongban total.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any


def model(report: dict[str, Any], rate: int, peaks: list[int], utilisation: float) -> dict[str, Any]:
    """Per process: ms per case, cases/s per core, cores for each peak."""
    entry = next((e for e in report["workloads"]["W1"]["rates"] if e["rate"] == rate), None)
    if entry is None or "cpu" not in entry["system"]:
        raise LookupError(f"the run has no W1 CPU figures at {rate}/s")
    cpu = entry["system"]["cpu"]
    rows = {}
    for name, ms in cpu["net_ms_per_case"].items():
        per_core = 1000 / ms if ms > 0 else math.inf
        rows[name] = {"ms_per_case": ms, "cases_per_second_per_core": round(per_core, 1),
                      "cores": {str(p): math.ceil(p * ms / 1000 / utilisation) for p in peaks}}
    total = cpu["net_total_ms_per_case"]
    infra = {}
    for name, ms in cpu.get("infrastructure_net_ms_per_case", cpu.get("infrastructure_ms_per_case", {})).items():
        infra[name] = {"ms_per_case": ms, "cases_per_second_per_core": round(1000 / ms, 1) if ms > 0 else math.inf,
                       "cores": {str(p): math.ceil(p * ms / 1000 / utilisation) for p in peaks}}
    return {"rate": rate, "loadavg": cpu["loadavg"], "utilisation": utilisation, "processes": rows,
            "infrastructure": infra,
            "total": {"ms_per_case": total, "cases_per_second_per_core": round(1000 / total, 1) if total else None,
                      "cores": {str(p): math.ceil(p * total / 1000 / utilisation) for p in peaks}}}


def render(result: dict[str, Any]) -> str:
    """The model as a Markdown table."""
    peaks = list(result["total"]["cores"])
    head = "| process | CPU per case (ms) | cases/s per core | " + " | ".join(f"cores at {p}/s" for p in peaks) + " |"
    lines = [head, "|---" * (3 + len(peaks)) + "|"]
    for name, row in [*result["processes"].items(), ("all Tongban processes", result["total"]),
                      *result.get("infrastructure", {}).items()]:
        cores = " | ".join(str(row["cores"][p]) for p in peaks)
        lines.append(f"| {name} | {row['ms_per_case']:g} | {row['cases_per_second_per_core']:g} | {cores} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path)
    parser.add_argument("--rate", type=int, default=50, help="the fixed W1 rate whose CPU figures to use")
    parser.add_argument("--peak", type=int, action="append", help="peak cases/s to size for (repeatable)")
    parser.add_argument("--utilisation", type=float, default=0.6, help="share of a core to plan for")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text(encoding="utf-8"))
    print(render(model(report, args.rate, args.peak or [200, 2000], args.utilisation)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
