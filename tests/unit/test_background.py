"""The frame's background tasks: started once, stopped by cancelling and waiting, a failing step logged and retried."""

from __future__ import annotations

import asyncio
import logging

import pytest

from shared.background import BackgroundTask, BackgroundTasks, every


async def test_a_task_runs_until_stopped_and_stop_waits_for_its_end() -> None:
    ended: list[str] = []
    started = asyncio.Event()

    async def run() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # its clean-up runs before stop() returns
            ended.append("cleaned up")

    task = BackgroundTask("t", run)
    task.start()
    task.start()  # a second start while it runs does nothing
    await started.wait()
    assert task.running
    await task.stop()
    assert ended == ["cleaned up"] and not task.running
    await task.stop()  # stopping twice, or a task never started, is harmless
    await BackgroundTask("never", run).stop()


async def test_the_tasks_of_a_service_stop_the_last_started_first() -> None:
    stopped: list[str] = []

    def forever(name: str) -> object:
        async def run() -> None:
            try:
                await asyncio.Event().wait()
            finally:
                stopped.append(name)
        return run

    tasks = BackgroundTasks()
    for name in ("relay", "scan", "prune"):
        tasks.start(name, forever(name))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert tasks.names == ["relay", "scan", "prune"]
    await tasks.stop_all()
    assert stopped == ["prune", "scan", "relay"] and tasks.names == []


async def test_every_logs_a_failing_step_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    done = asyncio.Event()

    async def step() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("database away")
        if len(calls) == 3:
            done.set()

    tasks = BackgroundTasks()
    with caplog.at_level(logging.WARNING, logger="tongban.background"):
        tasks.start("scan", every(0, step, "deadline scan"))
        await asyncio.wait_for(done.wait(), timeout=30)
        await tasks.stop_all()
    assert len(calls) >= 3
    assert [r.getMessage() for r in caplog.records] == ["deadline scan failed"]


async def test_every_may_wait_before_its_first_step() -> None:
    calls: list[int] = []

    async def step() -> None:
        calls.append(1)

    task = BackgroundTask("late", every(3600, step, "late check", first_after=True))
    task.start()
    for _ in range(5):
        await asyncio.sleep(0)
    await task.stop()
    assert calls == []
