"""Request and response models of the webhooks API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AnyUrl, BaseModel, ConfigDict, Field

from services.webhooks.domain import Delivery, Subscription
from services.webhooks.store import AttemptRow
from shared.api_types import CursorPage, Timestamp, TimestampIn

TYPES_DOC = ("CloudEvents types to deliver: exact types (`cn.tongban.routing.case.status_changed.v1`), "
             "prefixes ending in `.*` (`cn.tongban.routing.*`), or `*` for every event of the locality's topic.")


class SubscriptionIn(BaseModel):
    """A new subscription of the caller's locality."""

    model_config = ConfigDict(extra="forbid")

    url: AnyUrl = Field(description="HTTPS endpoint (plain HTTP only to loopback where the operator allows it).",
                        examples=["https://window.suzhou.example/tongban/webhooks"])
    event_types: list[str] = Field(min_length=1, max_length=50, description=TYPES_DOC, examples=[["*"]])
    description: str = Field(default="", max_length=500)


class SubscriptionChange(BaseModel):
    """What to change; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    url: AnyUrl | None = None
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=50, description=TYPES_DOC)
    description: str | None = Field(default=None, max_length=500)


class SecretInfo(BaseModel):
    """A secret's validity (never the secret itself)."""

    created_at: Timestamp
    expires_at: Timestamp | None = Field(description="None for the current secret.")


class SubscriptionOut(BaseModel):
    """A subscription as the API shows it."""

    id: str
    locality: str
    url: str
    event_types: list[str]
    description: str
    status: Literal["active", "failing"]
    failing_since: Timestamp | None
    last_error: str
    created_at: Timestamp
    secrets: list[SecretInfo]

    @classmethod
    def of(cls, sub: Subscription) -> SubscriptionOut:
        """The view of an aggregate."""
        return cls(id=sub.id, locality=sub.locality, url=sub.url, event_types=list(sub.event_types),
                   description=sub.description, status=sub.status,  # type: ignore[arg-type]
                   failing_since=sub.failing_since, last_error=sub.last_error, created_at=sub.created_at,
                   secrets=[SecretInfo(created_at=s.created_at, expires_at=s.expires_at) for s in sub.secrets])


class SubscriptionCreated(SubscriptionOut):
    """A new subscription with its secret, shown this once."""

    secret: str = Field(description="Standard Webhooks secret (`whsec_...`): verify each delivery with it.")


class SubscriptionList(BaseModel):
    """The caller's locality's subscriptions."""

    subscriptions: list[SubscriptionOut]


class RotationIn(BaseModel):
    """How long the current secret keeps signing beside the new one."""

    model_config = ConfigDict(extra="forbid")

    overlap_seconds: int | None = Field(default=None, ge=0, le=30 * 86400,
                                        description="Default: the service's setting (24 h).")


class SecretRotated(BaseModel):
    """The new secret (shown this once) and until when the previous one still signs."""

    secret: str
    previous_valid_until: Timestamp | None
    subscription: SubscriptionOut


class Resumed(BaseModel):
    """A resumed subscription and how many deliveries it now sends, in order."""

    subscription: SubscriptionOut
    waiting: int


class AttemptOut(BaseModel):
    """One attempt of a delivery."""

    number: int
    at: Timestamp
    status_code: int | None
    latency_ms: float
    error: str


class DeliveryOut(BaseModel):
    """One event's delivery with its attempts."""

    id: str
    webhook_id: str
    position: int
    event_id: str
    event_type: str
    subject: str
    state: Literal["pending", "delivered"]
    attempts: int
    next_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    last_status: int | None
    last_error: str
    last_latency_ms: float | None
    log: list[AttemptOut] = Field(default_factory=list)

    @classmethod
    def of(cls, d: Delivery, attempts: list[AttemptRow] | None = None) -> DeliveryOut:
        """The view of an aggregate and its log."""
        return cls(id=d.id, webhook_id=d.webhook_id, position=d.position, event_id=d.event_id,
                   event_type=d.event_type, subject=d.subject, state=d.state,  # type: ignore[arg-type]
                   attempts=d.attempts, next_attempt_at=d.next_attempt_at, delivered_at=d.delivered_at,
                   last_status=d.last_status, last_error=d.last_error, last_latency_ms=d.last_latency_ms,
                   log=[AttemptOut(number=a.number, at=a.at, status_code=a.status_code, latency_ms=a.latency_ms,
                                   error=a.error) for a in attempts or []])


class DeliveryLog(CursorPage):
    """A page of a subscription's deliveries, newest event first."""

    deliveries: list[DeliveryOut]


class ReplayIn(BaseModel):
    """Send again everything since a time."""

    model_config = ConfigDict(extra="forbid")

    since: TimestampIn = Field(description="CloudEvents `time` from which events are sent again (with a time zone).")


class ReplayQueued(BaseModel):
    """How many events were queued again."""

    queued: int


class StructuredEvent(BaseModel):
    """A CloudEvent in structured JSON mode (CloudEvents 1.0), as a webhook's body carries it."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"]
    id: str
    source: str
    type: str = Field(examples=["cn.tongban.routing.case.status_changed.v1"])
    subject: str
    time: str = Field(description="RFC 3339 with an offset, as the record's `ce_time` header carries it.")
    datacontenttype: Literal["application/json"]
    data: dict[str, Any] = Field(description="The event's data: the JSON Schema of its type is in `/asyncapi.json`.")
    traceparent: str | None = Field(default=None, description="W3C trace context, when the event carried one.")


class FeedItem(BaseModel):
    """One event of the locality's feed."""

    position: int
    received_at: Timestamp
    event: StructuredEvent = Field(description="The CloudEvent in structured JSON, as its webhook body.")


class FeedPage(BaseModel):
    """Events after a position, in order."""

    events: list[FeedItem]
    next_after: int = Field(description="Ask again with `after` set to this to continue (or to poll).")
    has_more: bool
    oldest_position: int | None = Field(description="The oldest position still kept (retention).")


class LocalityHealth(BaseModel):
    """Webhook health of the caller's locality."""

    locality: str
    subscriptions: int
    failing: list[SubscriptionOut]
    undelivered: int
    oldest_undelivered_seconds: float
    delivery_latency_p50_seconds: float | None
    delivery_latency_p95_seconds: float | None
