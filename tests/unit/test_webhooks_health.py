"""The webhooks service's health figures: percentiles, and when a locality's report is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.webhooks.domain.health import LATENCY_WINDOW, HealthFigures, percentile, report_due
from shared.contracts.webhooks import FailingSubscription, WebhookHealthReported

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
HEARTBEAT = timedelta(minutes=5)


def test_percentiles_are_nearest_rank_and_none_without_values() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0], 0.95) == 3.0
    values = [float(n) for n in range(1, 101)]  # 1 .. 100
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(list(reversed(values)), 0.95) == 95.0, "order does not matter"
    assert percentile([0.2, 9.0], 0.5) == 0.2


def test_a_report_carries_the_figures_and_the_time_the_oldest_waiting_event_was_read() -> None:
    failing = FailingSubscription(subscription_id="sub_1", url="https://a.example/h", failing_since=AT,
                                  last_error="retries ran out: HTTP 500", undelivered=3)
    oldest = AT - timedelta(hours=2)
    figures = HealthFigures("320505", active=2, failing=(failing,), undelivered=4, oldest_undelivered_at=oldest,
                            latencies=(0.5, 0.1, 2.0, 0.3))
    event = figures.report(AT, HEARTBEAT)
    assert isinstance(event, WebhookHealthReported) and event.subject() == "320505"
    assert (event.active, event.undelivered, event.delivered) == (2, 4, 4)
    assert event.oldest_undelivered_at == oldest and event.failing == [failing]
    assert (event.latency_p50_seconds, event.latency_p95_seconds) == (0.3, 2.0)
    assert event.window_seconds == LATENCY_WINDOW.total_seconds() and event.heartbeat_seconds == 300
    assert event.ce_type() == "cn.tongban.webhooks.health.reported.v1"


def test_reports_go_out_when_figures_change_and_every_heartbeat_while_something_is_watched() -> None:
    quiet = HealthFigures("310110")
    assert not report_due(quiet, None, None, AT, HEARTBEAT), "a locality that never had a subscription: silence"
    watched = HealthFigures("320505", active=1)
    assert report_due(watched, None, None, AT, HEARTBEAT), "the first report"
    last = watched.summary()
    assert not report_due(watched, last, AT, AT + timedelta(seconds=15), HEARTBEAT), "nothing changed"
    assert report_due(watched, last, AT, AT + HEARTBEAT, HEARTBEAT), "the heartbeat"
    backlog = HealthFigures("320505", active=1, undelivered=1, oldest_undelivered_at=AT)
    assert report_due(backlog, last, AT, AT + timedelta(seconds=1), HEARTBEAT), "a delivery waits"
    faster = HealthFigures("320505", active=1, latencies=(0.2,))
    assert report_due(faster, last, AT, AT + timedelta(seconds=1), HEARTBEAT), "latency moved"
    same_ms = HealthFigures("320505", active=1, latencies=(0.2001,))
    assert not report_due(same_ms, faster.summary(), AT, AT + timedelta(seconds=1), HEARTBEAT), \
        "latencies are compared to the millisecond"
    # The last subscription deleted: one report says so, then silence (no heartbeat for nothing).
    gone = HealthFigures("320505")
    assert report_due(gone, last, AT, AT + timedelta(seconds=1), HEARTBEAT)
    assert not report_due(gone, gone.summary(), AT, AT + 10 * HEARTBEAT, HEARTBEAT)
