"""The bench's CPU meter counts a process tree whole: live descendants and reaped children."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.capacity import model, render
from bench.cpu import cpu_seconds, tree_cpu_seconds

BURN = ("import time, sys\n"
        "start = time.process_time()\n"
        "while time.process_time() - start < 0.3: pass\n"
        "sys.stdout.write('burnt\\n'); sys.stdout.flush()\n"
        "sys.stdin.read()\n")


def test_a_live_child_and_a_reaped_one_both_count() -> None:
    before = tree_cpu_seconds(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "burnt\n"
    live = tree_cpu_seconds(os.getpid())
    assert live - before >= 0.25  # the running child's 0.3 s (ticks round down a little)
    assert cpu_seconds(os.getpid()) < live  # not our own time alone
    child.communicate("")  # it exits and we reap it: its time moves into our children's time
    assert tree_cpu_seconds(os.getpid()) - before >= 0.25


def test_a_vanished_process_costs_nothing() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert tree_cpu_seconds(child.pid) == 0.0


def test_the_capacity_model_sizes_kafka_and_postgresql_outside_the_total() -> None:
    cpu = {"net_ms_per_case": {"routing": 4.0, "delivery": 1.0}, "net_total_ms_per_case": 5.0,
           "infrastructure_net_ms_per_case": {"postgresql": 10.0}, "loadavg": [0.1, 0.1, 0.1]}
    report = {"workloads": {"W1": {"rates": [{"rate": 50, "system": {"cpu": cpu}}]}}}
    result = model(report, 50, [200], 0.5)
    assert result["total"]["cores"] == {"200": 2}  # 200/s × 5 ms = 1 core, at half a core each
    assert result["infrastructure"]["postgresql"]["cores"] == {"200": 4}
    table = render(result)
    assert "| postgresql | 10 | 100 | 4 |" in table
    assert table.index("all Tongban processes") < table.index("postgresql")
