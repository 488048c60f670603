"""A locality's webhook subscription: where its events go, which ones, signed with which secrets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.webhooks.domain.errors import InvalidSubscription, NotAllowedNow
from shared.contracts.webhooks import SubscriptionFailing, SubscriptionResumed
from shared.envelope import Event

TYPE_PATTERN = re.compile(r"^(\*|[a-z0-9]+(\.[a-z0-9_]+)*(\.\*)?)$")
"""An event type (``cn.tongban.routing.case.submitted.v1``), a prefix (``cn.tongban.routing.*``) or ``*``."""
MAX_TYPES = 50
MAX_SECRETS = 3
"""The current secret and at most two earlier ones still in their overlap."""


@dataclass(frozen=True)
class SigningSecret:
    """One secret of a subscription; an earlier one stays valid until ``expires_at``."""

    value: str
    created_at: datetime
    expires_at: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        """Whether deliveries made at ``now`` are signed with it."""
        return self.expires_at is None or now < self.expires_at


def check_event_types(types: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The filter, checked: one or more types, prefixes ending in ``.*``, or ``*`` for every type."""
    if not types:
        raise InvalidSubscription("event_types must name at least one type (or '*' for every type)")
    if len(types) > MAX_TYPES:
        raise InvalidSubscription(f"event_types names at most {MAX_TYPES} types")
    for t in types:
        if len(t) > 200 or not TYPE_PATTERN.match(t):
            raise InvalidSubscription(f"{t!r} is not an event type, a prefix ending in '.*', or '*'")
    return tuple(dict.fromkeys(types))


@dataclass
class Subscription:
    """The aggregate: its rules decide matching, signing secrets, failing and resuming."""

    id: str
    locality: str
    url: str
    event_types: tuple[str, ...]
    description: str
    secrets: tuple[SigningSecret, ...]
    created_at: datetime
    status: str = "active"
    failing_since: datetime | None = None
    last_error: str = ""
    events: list[Event] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def create(cls, id: str, locality: str, url: str, event_types: list[str], description: str, secret: str,
               now: datetime) -> Subscription:
        """A new active subscription with its first secret."""
        if len(description) > 500:
            raise InvalidSubscription("description is longer than 500 characters")
        return cls(id=id, locality=locality, url=url, event_types=check_event_types(event_types),
                   description=description, secrets=(SigningSecret(secret, now),), created_at=now)

    def matches(self, event_type: str) -> bool:
        """Whether an event of ``event_type`` is delivered to this subscription."""
        for t in self.event_types:
            if t == "*" or t == event_type or (t.endswith(".*") and event_type.startswith(t[:-1])):
                return True
        return False

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets a delivery made at ``now`` is signed with: the current one first."""
        return [s.value for s in self.secrets if s.valid_at(now)]

    def rotate_secret(self, new_secret: str, now: datetime, overlap: timedelta) -> None:
        """A new current secret; the one it replaces stays valid for ``overlap`` (both signatures sent)."""
        if overlap < timedelta(0):
            raise InvalidSubscription("the overlap cannot be negative")
        earlier = [replace(s, expires_at=now + overlap) if s.expires_at is None else s
                   for s in self.secrets if s.valid_at(now)]
        kept = [s for s in earlier if s.expires_at is not None and s.expires_at > now]
        self.secrets = (SigningSecret(new_secret, now), *kept[: MAX_SECRETS - 1])

    def change(self, url: str | None, event_types: list[str] | None, description: str | None) -> None:
        """Point the subscription elsewhere or change its filter; deliveries already made stay as they are."""
        if url is not None:
            self.url = url
        if event_types is not None:
            self.event_types = check_event_types(event_types)
        if description is not None:
            if len(description) > 500:
                raise InvalidSubscription("description is longer than 500 characters")
            self.description = description

    def mark_failing(self, now: datetime, error: str, undelivered: int) -> bool:
        """A delivery ran out of retries: later deliveries wait. False when it was failing already."""
        if self.status == "failing":
            return False
        self.status, self.failing_since, self.last_error = "failing", now, error[:1000]
        self.events.append(SubscriptionFailing(subscription_id=self.id, locality=self.locality, url=self.url,
                                               failing_since=now, undelivered=undelivered,
                                               last_error=self.last_error))
        return True

    def resume(self, by: str, undelivered: int) -> None:
        """An operator resumes a failing subscription; its waiting deliveries start again, in order."""
        if self.status != "failing":
            raise NotAllowedNow("the subscription is not failing; there is nothing to resume")
        since = self.failing_since
        self.status, self.failing_since = "active", None
        self.events.append(SubscriptionResumed(subscription_id=self.id, locality=self.locality, url=self.url,
                                               resumed_by=by, failing_since=since, undelivered=undelivered))
