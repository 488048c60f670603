"""A steady load of cases, the way windows make it: every case a journey of requests, each with its
Idempotency-Key, so that a window that lost an answer may ask again without making a second case."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tongban.testbed.system import System
from tongban.testbed.world import PAIRS, submission

STEPS = {"fully_online": ("submit",), "accepted_here_handled_there": ("submit", "accept", "forward")}
"""The requests of one case: fully online needs no post; accepted here, handled there is forwarded by post."""


@dataclass
class Attempt:
    """One request and what came back (``status`` None: no answer at all: refused, reset or timed out)."""

    step: str
    status: int | None
    content_type: str = ""
    retry_after: str | None = None
    problem: str | None = None
    error: str | None = None
    at: float = 0.0
    seconds: float = 0.0


@dataclass
class Journey:
    """One case from one window to one owner."""

    number: int
    acceptor: str
    owner: str
    mode: str
    case_id: str | None = None
    done: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """Whether routing answered 201 to the submission."""
        return "submit" in self.done

    @property
    def complete(self) -> bool:
        """Whether every step of the journey was answered with success."""
        return tuple(self.done) == STEPS[self.mode]

    @property
    def involved(self) -> tuple[str, str]:
        """The localities whose topics the case's events go to."""
        return (self.acceptor, self.owner)


class CaseLoad:
    """Starts ``rate`` journeys a second, round robin over the twelve pairs of localities, until stopped.

    With ``retry`` a step that got no answer or a 5xx is asked again with the same Idempotency-Key
    (after ``Retry-After``, at most a second) until ``give_up_after`` seconds; without it a failed
    step ends its journey.
    """

    def __init__(self, system: System, *, rate: float, mode: str = "fully_online", retry: bool = False,
                 give_up_after: float = 120.0, max_in_flight: int = 24, label: str = "load") -> None:
        self.system, self.rate, self.mode, self.retry = system, rate, mode, retry
        self.give_up_after = give_up_after
        self.label = label
        self.journeys: list[Journey] = []
        self._limit = asyncio.Semaphore(max_in_flight)
        self._stop = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self.started_at = self.stopped_at = 0.0

    async def __aenter__(self) -> CaseLoad:
        self.started_at = time.monotonic()
        self._runner = asyncio.create_task(self._run(), name=f"case-load-{self.label}")
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Start no new journey; wait for those under way (they finish or give up)."""
        self._stop.set()
        if self._runner is not None:
            await self._runner
            self._runner = None

    async def _run(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        interval, next_at, number = 1.0 / self.rate, time.monotonic(), 0
        async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0)) as http:
            while not self._stop.is_set():
                acceptor, owner = PAIRS[number % len(PAIRS)]
                journey = Journey(number, acceptor, owner, self.mode)
                self.journeys.append(journey)
                task = asyncio.create_task(self._travel(http, journey))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                number += 1
                next_at += interval
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), max(next_at - time.monotonic(), 0))
            self.stopped_at = time.monotonic()
            await asyncio.gather(*tasks)

    async def _travel(self, http: httpx.AsyncClient, journey: Journey) -> None:
        headers = await self.system.headers(journey.acceptor)
        for step in STEPS[journey.mode]:
            if not await self._step(http, journey, step, headers):
                return

    async def _step(self, http: httpx.AsyncClient, journey: Journey, step: str, headers: dict[str, str]) -> bool:
        key = f"{self.system.topic_prefix}-{self.label}-{journey.number}-{step}"
        if step == "submit":
            path, body = "/v1/cases", submission(journey.owner, journey.mode)
        else:
            path, body = f"/v1/cases/{journey.case_id}/transitions", {"action": step}
        give_up_at = time.monotonic() + self.give_up_after
        while True:
            async with self._limit:
                attempt, answer = await self._ask(http, step, path, body, {**headers, "Idempotency-Key": key})
            journey.attempts.append(attempt)
            if attempt.status in (200, 201):
                if step == "submit":
                    journey.case_id = str(answer["id"])
                journey.done.append(step)
                return True
            if not self.retry or time.monotonic() > give_up_at or (attempt.status or 500) < 500:
                return False
            await asyncio.sleep(min(float(attempt.retry_after or 0.5), 1.0))

    async def _ask(self, http: httpx.AsyncClient, step: str, path: str, body: dict[str, Any],
                   headers: dict[str, str]) -> tuple[Attempt, dict[str, Any]]:
        at = time.monotonic()
        try:
            response = await http.post(self.system.url("routing") + path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return Attempt(step, None, error=type(exc).__name__, at=at, seconds=time.monotonic() - at), {}
        attempt = Attempt(step, response.status_code, response.headers.get("content-type", ""),
                          response.headers.get("retry-after"), at=at, seconds=time.monotonic() - at)
        answer: dict[str, Any] = {}
        if attempt.content_type.startswith(("application/json", "application/problem+json")):
            answer = response.json()
        if attempt.content_type.startswith("application/problem+json"):
            attempt.problem = str(answer.get("type", "")).rsplit("/", 1)[-1]
        return attempt, answer

    # --------------------------------------------------------------------------- figures

    def statuses(self) -> Counter[str]:
        """How many requests got each answer ("none" for no answer)."""
        return Counter(str(a.status) if a.status is not None else "none" for j in self.journeys for a in j.attempts)

    def accepted(self) -> list[Journey]:
        """The journeys whose submission routing accepted."""
        return [j for j in self.journeys if j.accepted]

    def figures(self) -> dict[str, Any]:
        """Load held: journeys, requests, answers, the rate actually achieved, latency of the answered ones."""
        seconds = max((self.stopped_at or time.monotonic()) - self.started_at, 1e-9)
        answered = sorted(a.seconds for j in self.journeys for a in j.attempts if a.status is not None)

        def percentile(p: float) -> float:
            return round(answered[min(int(p * len(answered)), len(answered) - 1)] * 1000, 1) if answered else 0.0

        return {"seconds": round(seconds, 1), "journeys": len(self.journeys), "accepted": len(self.accepted()),
                "complete": sum(j.complete for j in self.journeys),
                "requests": sum(len(j.attempts) for j in self.journeys),
                "cases_per_second": round(len(self.accepted()) / seconds, 2), "answers": dict(self.statuses()),
                "latency_ms": {"p50": percentile(0.5), "p95": percentile(0.95), "p99": percentile(0.99)}}
