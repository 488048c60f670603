"""CPU time per case: user + system seconds of each Tongban process from ``/proc/<pid>/stat``.

The figure travels between machines better than rates do (issue 20): a W1 run's CPU seconds of
each service process, from just before the load starts until the backlog it caused has been worked
off, divided by the cases the run accepted. The processes' idle CPU (their polling loops, measured
over a quiet stretch just before) is reported beside it, and a net figure with it taken away.

Kafka's and PostgreSQL's CPU over the same stretch is reported beside the Tongban figures (not in
their total, which is what issue 20's target counts): the broker's JVM, and the postmaster with
every backend it forked (live ones read directly, exited ones through the postmaster's reaped
children's time).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process, its reaped children and every live descendant (0 when it is gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(f) for f in fields[11:15]) / tick
    if pid not in times:
        return 0.0
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == current)
    return total


def snapshot(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each named process now."""
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


async def idle_rate(pids: dict[str, int], seconds: float = 2.0, trees: bool = False) -> dict[str, float]:
    """CPU seconds per wall second of each process (each whole tree with ``trees``) while nothing is
    offered (its polling loops; the broker answering them)."""
    read = tree_cpu_seconds if trees else cpu_seconds
    before, began = {n: read(p) for n, p in pids.items()}, time.monotonic()
    await asyncio.sleep(seconds)
    after, took = {n: read(p) for n, p in pids.items()}, time.monotonic() - began
    return {name: max(0.0, (after[name] - before[name]) / took) for name in pids}


class CpuMeter:
    """CPU of each process across one run, per case accepted."""

    def __init__(self, pids: dict[str, int], idle: dict[str, float] | None = None,
                 infrastructure: dict[str, int] | None = None,
                 infrastructure_idle: dict[str, float] | None = None) -> None:
        self.pids = pids
        self.idle = idle or dict.fromkeys(pids, 0.0)
        self.infrastructure = infrastructure or {}
        """Root process of Kafka and of PostgreSQL: measured as whole trees, outside the total."""
        self.infrastructure_idle = infrastructure_idle or dict.fromkeys(self.infrastructure, 0.0)
        self._before: dict[str, float] = {}
        self._infra_before: dict[str, float] = {}
        self._began = 0.0

    def _infra(self) -> dict[str, float]:
        return {name: tree_cpu_seconds(pid) for name, pid in self.infrastructure.items()}

    def start(self) -> None:
        self._before, self._began = snapshot(self.pids), time.monotonic()
        self._infra_before = self._infra()

    def stop(self, cases: int) -> dict[str, Any]:
        """Milliseconds of CPU per case of each process and in total, gross and net of idle."""
        after, wall = snapshot(self.pids), time.monotonic() - self._began
        used = {name: after[name] - self._before.get(name, after[name]) for name in self.pids}
        per = max(cases, 1)
        gross = {name: round(1000 * s / per, 3) for name, s in used.items()}
        net = {name: round(1000 * max(0.0, s - self.idle[name] * wall) / per, 3) for name, s in used.items()}
        infra_used = {name: s - self._infra_before.get(name, s) for name, s in self._infra().items()}
        infra = {name: round(1000 * s / per, 3) for name, s in infra_used.items()}
        infra_net = {name: round(1000 * max(0.0, s - self.infrastructure_idle.get(name, 0.0) * wall) / per, 3)
                     for name, s in infra_used.items()}
        return {"infrastructure_ms_per_case": infra, "infrastructure_net_ms_per_case": infra_net,
                "cases": cases, "wall_seconds": round(wall, 2),
                "cpu_seconds": {name: round(s, 3) for name, s in used.items()},
                "ms_per_case": gross, "total_ms_per_case": round(sum(gross.values()), 3),
                "net_ms_per_case": net, "net_total_ms_per_case": round(sum(net.values()), 3),
                "idle_cpu_per_second": {name: round(v, 4) for name, v in self.idle.items()},
                "loadavg": [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]}


async def quiesce(pids: dict[str, int], idle: dict[str, float], within: float, margin: float = 0.03) -> float:
    """Wait until the processes use no more than their idle CPU (+ ``margin`` cores); seconds waited."""
    began = time.monotonic()
    floor = sum(idle.values()) + margin
    while time.monotonic() - began < within:
        rate = sum((await idle_rate(pids, 0.5)).values())
        if rate <= floor:
            break
    return round(time.monotonic() - began, 1)
