"""Handling time and on-time rate per owner and week, end to end in one process.

The dashboard application runs in process on the in-process bus with its real database (SQLite, and
PostgreSQL), folds routing's events of cases handled over three weeks, and answers
``GET /api/panels/handling`` against an injected clock (the ``get_clock`` dependency).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.dashboard.api import COOKIE
from services.dashboard.api.handling import get_clock
from services.dashboard.domain import Viewer, session_digest
from services.dashboard.store_read_model import ReadModel
from shared.bus import MemoryBus
from shared.contracts.routing import CaseDeadlineSet, CaseStatusChanged, CaseSubmitted
from shared.envelope import Envelope, Event
from shared.service import ServiceContext, create_app
from shared.settings import Settings
from tongban.registry import definition
from tongban.testbed.kafka_io import wait_for

YANGPU, SUZHOU, BOZHOU = "310110", "320505", "341600"


@dataclass
class Dashboard:
    """The running application, its context and a clock the test sets."""

    app: FastAPI
    ctx: ServiceContext
    bus: MemoryBus
    now: datetime

    async def client(self, locality: str, regional: bool) -> httpx.AsyncClient:
        """An HTTP client with an operator's session (opened in the read model, as a login would)."""
        session_id = secrets.token_urlsafe(16)
        async with self.ctx.sessionmaker() as session:
            viewer = Viewer(f"ops-{locality}", locality, regional)
            digest = session_digest(session_id)
            await ReadModel(session).add_session(digest, viewer, datetime.now(UTC), timedelta(hours=1))
            await session.commit()
        return httpx.AsyncClient(transport=httpx.ASGITransport(self.app), base_url="http://dashboard",
                                 cookies={COOKIE: session_id}, timeout=30)

    async def publish(self, event: Event, at: datetime, *localities: str) -> None:
        """An event of routing, dated ``at``, on the topic of each locality it concerns."""
        envelope = Envelope.wrap(event, "/tongban/routing")
        envelope = Envelope(envelope.id, envelope.source, envelope.type, envelope.subject, envelope.data, time=at)
        await self.bus.publish([envelope.to_record(self.ctx.localities.topic(code)) for code in localities])


@pytest.fixture(params=["sqlite", "postgresql"])
async def dashboard(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Dashboard]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/dashboard.db"
    else:  # the session's PostgreSQL server, started only when this parameter runs
        url = await request.getfixturevalue("postgres").create_database()
    bus = MemoryBus()
    settings = Settings(data_dir=tmp_path / "data", outbox_poll_seconds=0.2)
    app = create_app(definition("dashboard"), settings, bus=bus, database_url=url)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        ctx: ServiceContext = app.state.ctx
        await wait_for(lambda: ctx.topics_ready, timeout=20)
        board = Dashboard(app, ctx, bus, datetime(2026, 12, 2, 4, 0, tzinfo=UTC))  # Wednesday noon in Beijing
        app.dependency_overrides[get_clock] = lambda: (lambda: board.now)
        yield board


async def play_case(board: Dashboard, case_id: str, accepting: str, owner: str, accepted: datetime,
                    decided: datetime, decision: str, due: date | None) -> None:
    """A case accepted at ``accepting`` for ``owner``: submitted, accepted, its deadline, decided."""
    both = (accepting, owner)
    await board.publish(CaseSubmitted(case_id=case_id, item_code="YRD-SB-0101", mode="accepted_here_handled_there",
                                      accepting_locality=accepting, owning_localities=[owner],
                                      applicant_masked="110105********002X", submitted_at=accepted), accepted, *both)
    await board.publish(CaseStatusChanged(case_id=case_id, from_status="submitted", to_status="accepted",
                                          by_locality=accepting, sequence=2), accepted, *both)
    if due is not None:
        await board.publish(CaseDeadlineSet(case_id=case_id, owners=[owner], due_on=due, provisional=False,
                                            committed_days=5), accepted, *both)
    await board.publish(CaseStatusChanged(case_id=case_id, from_status="under_review", to_status=decision,
                                          by_locality=owner, sequence=6), decided, *both)


def series(answer: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {s["locality"]: s["points"] for s in answer["series"]}


async def test_handling_time_and_on_time_rate_per_owner_and_week(dashboard: Dashboard) -> None:
    this_monday = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing
    three_weeks_ago = this_monday - timedelta(weeks=3)
    # Suzhou this week: 2 h on time, 78 h late (median 40 h); three weeks ago: 1 day, no deadline known.
    await play_case(dashboard, "c1", YANGPU, SUZHOU, this_monday, this_monday + timedelta(hours=2),
                    "result_issued", date(2026, 11, 30))
    await play_case(dashboard, "c2", BOZHOU, SUZHOU, this_monday - timedelta(days=3),
                    this_monday + timedelta(hours=6), "rejected", date(2026, 11, 27))
    await play_case(dashboard, "c3", BOZHOU, SUZHOU, three_weeks_ago, three_weeks_ago + timedelta(days=1),
                    "result_issued", None)
    # Bozhou: one case decided after the clock's "now" (not yet counted), one still open.
    await play_case(dashboard, "c4", SUZHOU, BOZHOU, this_monday, dashboard.now + timedelta(hours=3),
                    "result_issued", date(2026, 12, 4))
    await dashboard.publish(CaseStatusChanged(case_id="c5", from_status="submitted", to_status="accepted",
                                              by_locality=SUZHOU, sequence=2, owners=[BOZHOU]), this_monday,
                            SUZHOU, BOZHOU)

    async def folded() -> bool:  # every case's last event is in the read model
        async with dashboard.ctx.sessionmaker() as session:
            cases = [await ReadModel(session).case(f"c{n}") for n in range(1, 6)]
        return all(c is not None and c.accepted_at is not None for c in cases) and all(
            c is not None and c.handled_at is not None for c in cases[:4])

    await wait_for(folded, timeout=20)
    async with await dashboard.client(SUZHOU, regional=True) as http:
        answer = (await http.get("/api/panels/handling")).json()
        assert answer["weeks"] == [(date(2026, 10, 12) + timedelta(weeks=i)).isoformat() for i in range(8)]
        assert answer["now"].startswith("2026-12-02T04:00:00")
        points = series(answer)
        assert list(points) == [YANGPU, SUZHOU, "331000", BOZHOU]
        assert points[SUZHOU][-1] == {"week": "2026-11-30", "handled": 2, "median_seconds": 40 * 3600.0,
                                      "with_deadline": 2, "on_time": 1, "on_time_rate": 0.5}
        assert points[SUZHOU][-4] == {"week": "2026-11-09", "handled": 1, "median_seconds": 86400.0,
                                      "with_deadline": 0, "on_time": 0, "on_time_rate": None}
        assert all(p["handled"] == 0 for p in points[BOZHOU] + points[YANGPU])

        # The clock moves on a day: Bozhou's case decided "tomorrow" is now counted, on time.
        dashboard.now += timedelta(days=1)
        later = series((await http.get("/api/panels/handling")).json())
        assert later[BOZHOU][-1]["handled"] == 1 and later[BOZHOU][-1]["on_time_rate"] == 1.0
        # Two weeks asked for: the case of three weeks ago falls out.
        short = (await http.get("/api/panels/handling", params={"weeks": 2})).json()
        assert short["weeks"] == ["2026-11-23", "2026-11-30"]
        assert sum(p["handled"] for p in series(short)[SUZHOU]) == 2
        for bad in ("0", "27", "x"):
            refused = await http.get("/api/panels/handling", params={"weeks": bad})
            assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")

    # A locality's operator sees its own locality's handling only.
    async with await dashboard.client(YANGPU, regional=False) as http:
        mine = series((await http.get("/api/panels/handling")).json())
        assert list(mine) == [YANGPU] and all(p["handled"] == 0 for p in mine[YANGPU])
    async with await dashboard.client(BOZHOU, regional=False) as http:
        mine = series((await http.get("/api/panels/handling")).json())
        assert list(mine) == [BOZHOU] and mine[BOZHOU][-1]["handled"] == 1

    async with httpx.AsyncClient(transport=httpx.ASGITransport(dashboard.app), base_url="http://d") as anonymous:
        for path in ("/api/panels/handling", "/api/vocabulary"):
            refused = await anonymous.get(path)
            assert refused.status_code == 401 and refused.json()["type"].endswith("session-required"), path
