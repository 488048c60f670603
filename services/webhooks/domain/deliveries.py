"""One event's delivery to one subscription, its attempts and the retry schedule.

At least once, in order per subject (a case): a delivery is retried with exponential backoff and
jitter until it succeeds or its retry horizon (three days by default) has passed since its first
attempt; then the subscription is marked failing and everything after it waits for an operator.
A redelivery keeps the delivery's ``webhook_id``, so a receiver can drop repeats.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.webhooks.domain.errors import NotAllowedNow

PENDING, DELIVERED = "pending", "delivered"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: ``first``, doubling, at most ``longest``, for ``horizon``."""

    first: timedelta = timedelta(seconds=5)
    longest: timedelta = timedelta(hours=6)
    horizon: timedelta = timedelta(days=3)

    def delay(self, failures: int, rng: random.Random) -> timedelta:
        """The wait after the ``failures``-th failed attempt: half fixed, half random ("equal jitter")."""
        base = min(self.longest.total_seconds(), self.first.total_seconds() * 2 ** min(failures - 1, 40))
        return timedelta(seconds=base / 2 + rng.uniform(0, base / 2))


@dataclass(frozen=True)
class Attempt:
    """What one attempt got: a status code (None when no answer came), its latency, an error."""

    number: int
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str

    @property
    def succeeded(self) -> bool:
        """A 2xx answer (within the timeout) counts; redirects are not followed and do not."""
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class Delivery:
    """The aggregate: its state follows its attempts."""

    id: str
    subscription_id: str
    locality: str
    position: int
    event_id: str
    event_type: str
    subject: str
    webhook_id: str
    created_at: datetime
    state: str = PENDING
    attempts: int = 0
    first_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str = ""
    last_latency_ms: float | None = None
    delivered_at: datetime | None = None
    round_start: int = 0
    """``attempts`` when the current round of retries began (a resume or a redelivery starts a new one)."""
    recorded: list[Attempt] = field(default_factory=list, compare=False, repr=False)
    """Attempts made on this load of the aggregate (the store appends them to the log)."""

    def record(self, attempt: Attempt, policy: RetryPolicy, rng: random.Random) -> bool:
        """Record an attempt; True when it failed and the retries have run out."""
        if self.state != PENDING:
            raise NotAllowedNow("the delivery is not waiting")
        self.attempts += 1
        self.recorded.append(attempt)
        self.first_attempt_at = self.first_attempt_at or attempt.at
        self.last_status, self.last_latency_ms = attempt.status_code, attempt.latency_ms
        if attempt.succeeded:
            self.state, self.delivered_at, self.next_attempt_at, self.last_error = DELIVERED, attempt.at, None, ""
            return False
        self.last_error = attempt.error[:1000]
        if attempt.at - self.first_attempt_at >= policy.horizon:
            self.next_attempt_at = None
            return True
        self.next_attempt_at = attempt.at + policy.delay(max(1, self.attempts - self.round_start), rng)
        return False

    def restart(self, now: datetime) -> None:
        """Try again from now with a fresh retry horizon (a redelivery, a replay, a resumed subscription)."""
        self.state, self.delivered_at = PENDING, None
        self.first_attempt_at, self.next_attempt_at, self.round_start = None, now, self.attempts
