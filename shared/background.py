"""Background tasks that a service starts with the frame and stops with it.

Every long-running loop of a service (routing's deadline scan, the authorization service's audit
chainer and checkpoints, the dashboard's pruning, the webhooks service's dispatching, the outbox
relay) is a :class:`BackgroundTask`: started once, and stopped by cancelling it and waiting until
it has ended, so that nothing runs on a database or a client that shutdown is about to close. A
service starts its own in ``on_startup`` with ``ctx.tasks.start(...)``; the frame stops them all
(the last started first) before it calls ``on_shutdown``. :func:`every` is the loop most of them are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger("tongban.background")

Runner = Callable[[], Coroutine[Any, Any, None]]


class BackgroundTask:
    """One coroutine run in the background: :meth:`start` once, :meth:`stop` (cancel and wait) at the end."""

    def __init__(self, name: str, run: Runner) -> None:
        self.name = name
        self._run = run
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Started and not ended."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Run it in the background (a second call while it runs does nothing)."""
        if not self.running:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Cancel it and wait until it has ended (nothing to do if it was never started)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class BackgroundTasks:
    """The background tasks of one running service, stopped together, the last started first."""

    def __init__(self) -> None:
        self._tasks: list[BackgroundTask] = []

    def start(self, name: str, run: Runner) -> BackgroundTask:
        """Start ``run()`` in the background under ``name``; it is stopped by :meth:`stop_all`."""
        task = BackgroundTask(name, run)
        self._tasks = [t for t in self._tasks if t.running]  # short-lived ones (a simulated journey) ended
        self._tasks.append(task)
        task.start()
        return task

    @property
    def names(self) -> list[str]:
        """The tasks started, in order."""
        return [t.name for t in self._tasks]

    async def stop_all(self) -> None:
        """Stop every task, the last started first."""
        while self._tasks:
            await self._tasks.pop().stop()


def every(seconds: Callable[[], float] | float, step: Callable[[], Awaitable[object]], what: str,
          *, first_after: bool = False) -> Runner:
    """A loop running ``step`` every ``seconds`` (a number, or a function read each time), for a task.

    A step that fails is logged as ``<what> failed`` and the loop goes on; ``first_after`` waits
    before the first step instead of after it.
    """
    def interval() -> float:
        return seconds() if callable(seconds) else seconds

    async def loop() -> None:
        if first_after:
            await asyncio.sleep(interval())
        while True:
            try:
                await step()
            except Exception as exc:
                log.warning(f"{what} failed", extra={"error": repr(exc)})
            await asyncio.sleep(interval())

    return loop
