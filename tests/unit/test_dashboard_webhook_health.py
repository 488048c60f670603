"""Webhook health on the dashboard: failing and resumed events and health reports folded, in any order, per viewer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from services.dashboard.domain import Viewer
from services.dashboard.domain.webhook_health import FAILING_TYPE, REPORT_TYPE, RESUMED_TYPE, webhook_panel
from services.dashboard.store_webhooks import fold_webhook_event, webhook_figures
from shared.db import create_engine
from shared.migrations import upgrade
from tongban.registry import definition

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SUZHOU, YANGPU = "320505", "310110"
CODES = ["310110", "320505", "331000", "341600"]
REGIONAL = Viewer("office", "310110", True)


def failing(sid: str, locality: str, at: datetime, error: str = "retries ran out: HTTP 500") -> dict[str, Any]:
    return {"subscription_id": sid, "locality": locality, "url": "https://window.example/hooks",
            "failing_since": at.isoformat(), "undelivered": 2, "last_error": error}


def resumed(sid: str, locality: str) -> dict[str, Any]:
    return {"subscription_id": sid, "locality": locality, "url": "https://window.example/hooks",
            "resumed_by": "ops", "failing_since": AT.isoformat(), "undelivered": 2}


def report(locality: str, at: datetime, failing_ids: list[str], **figures: Any) -> dict[str, Any]:
    return {"locality": locality, "reported_at": at.isoformat(), "heartbeat_seconds": 60.0, "active": 1,
            "failing": [{"subscription_id": s, "url": "https://window.example/hooks", "failing_since": AT.isoformat(),
                         "last_error": "retries ran out", "undelivered": 5} for s in failing_ids],
            "undelivered": 5, "oldest_undelivered_at": (AT - timedelta(minutes=10)).isoformat(),
            "window_seconds": 900.0, "delivered": 12, "latency_p50_seconds": 0.4, "latency_p95_seconds": 2.5,
            **figures}


async def test_events_and_reports_in_any_order_raise_and_clear_the_alert(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'dashboard.db'}")
    await upgrade(engine, definition("dashboard").migrations)
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    async def fold(ce_type: str, data: dict[str, Any], at: datetime) -> None:
        async with sessions() as session:
            await fold_webhook_event(session, ce_type, data, at)
            await session.commit()

    async def panel(viewer: Viewer, now: datetime) -> dict[str, Any]:
        async with sessions() as session:
            codes, reports, subs = await webhook_figures(session, viewer, CODES)
        return webhook_panel(codes, reports, subs, now)

    # A Suzhou subscription fails; an older report (taken before) arrives after the event: the alert stays.
    await fold(FAILING_TYPE, failing("sub_a", SUZHOU, AT, "HTTP 500: call 13812345678"), AT)
    await fold(REPORT_TYPE, report(SUZHOU, AT - timedelta(seconds=5), []), AT - timedelta(seconds=5))
    now = AT + timedelta(seconds=30)
    seen = await panel(REGIONAL, now)
    assert [f["subscription_id"] for f in seen["failing"]] == ["sub_a"]
    assert "13812345678" not in seen["failing"][0]["last_error"], "personal data masked"
    suzhou = next(row for row in seen["localities"] if row["locality"] == SUZHOU)
    assert suzhou["failing"] == 1 and suzhou["undelivered"] == 5
    assert suzhou["active"] == 0, "the report's one active subscription failed since it was taken"
    assert suzhou["oldest_undelivered_seconds"] == 10 * 60 + 30, "the age from the report's time, counted now"
    assert (suzhou["latency_p50_seconds"], suzhou["latency_p95_seconds"], suzhou["delivered"]) == (0.4, 2.5, 12)
    assert not suzhou["stale"]
    assert [row["locality"] for row in seen["localities"]] == CODES, "every locality, zeros without a report"
    yangpu = next(row for row in seen["localities"] if row["locality"] == YANGPU)
    assert yangpu["reported_at"] is None and yangpu["failing"] == 0

    # Isolation: Yangpu's operator sees nothing of Suzhou's; Suzhou's sees its own only.
    mine = await panel(Viewer("y", YANGPU, False), now)
    assert mine["failing"] == [] and [row["locality"] for row in mine["localities"]] == [YANGPU]
    theirs = await panel(Viewer("s", SUZHOU, False), now)
    assert [f["subscription_id"] for f in theirs["failing"]] == ["sub_a"]

    # A newer report still names it failing (with its current backlog); then a resume clears the alert,
    # and a report taken before the resume, arriving late, does not bring it back.
    await fold(REPORT_TYPE, report(SUZHOU, AT + timedelta(seconds=10), ["sub_a"]), AT + timedelta(seconds=10))
    assert (await panel(REGIONAL, now))["failing"][0]["undelivered"] == 5
    assert next(r for r in (await panel(REGIONAL, now))["localities"] if r["locality"] == SUZHOU)["active"] == 1
    await fold(RESUMED_TYPE, resumed("sub_a", SUZHOU), AT + timedelta(seconds=20))
    assert (await panel(REGIONAL, now))["failing"] == []
    assert next(r for r in (await panel(REGIONAL, now))["localities"] if r["locality"] == SUZHOU)["active"] == 2, \
        "resumed since the report: active again"
    await fold(REPORT_TYPE, report(SUZHOU, AT + timedelta(seconds=15), ["sub_a"]), AT + timedelta(seconds=15))
    assert (await panel(REGIONAL, now))["failing"] == [], "an older report does not undo the resume"
    # ... nor does a failing event older than the resume, redelivered.
    await fold(FAILING_TYPE, failing("sub_a", SUZHOU, AT), AT)
    assert (await panel(REGIONAL, now))["failing"] == []

    # A subscription deleted while failing publishes nothing: the next report, not naming it, clears it.
    await fold(FAILING_TYPE, failing("sub_b", SUZHOU, AT + timedelta(seconds=40)), AT + timedelta(seconds=40))
    assert [f["subscription_id"] for f in (await panel(REGIONAL, now))["failing"]] == ["sub_b"]
    later = AT + timedelta(seconds=50)
    await fold(REPORT_TYPE, report(SUZHOU, later, [], undelivered=0, oldest_undelivered_at=None), later)
    cleared = await panel(REGIONAL, later)
    assert cleared["failing"] == []
    suzhou = next(row for row in cleared["localities"] if row["locality"] == SUZHOU)
    assert (suzhou["undelivered"], suzhou["oldest_undelivered_seconds"]) == (0, 0.0)

    # A failing subscription the dashboard heard of only through a report (it started after the event).
    await fold(REPORT_TYPE, report(SUZHOU, later + timedelta(seconds=5), ["sub_c"]), later)
    assert [f["subscription_id"] for f in (await panel(REGIONAL, later))["failing"]] == ["sub_c"]

    # No report for more than twice the heartbeat: the figures are marked stale.
    stale = await panel(REGIONAL, later + timedelta(seconds=5 + 2 * 60 + 31))
    assert next(row for row in stale["localities"] if row["locality"] == SUZHOU)["stale"]
    await engine.dispose()
