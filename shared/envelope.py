"""CloudEvents 1.0 envelopes in the Kafka protocol binding's binary content mode.

A record's value is the event's JSON data; ``content-type`` carries ``datacontenttype``; every
other attribute is a ``ce_``-prefixed header. The record key is the event's subject, the id of
the aggregate it concerns, so that one aggregate's events keep their order in one partition.
A W3C ``traceparent`` header carries the trace through the bus.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

SPECVERSION = "1.0"
JSON = "application/json"


class Event(BaseModel):
    """Base of every event's data: a versioned pydantic model.

    Subclasses set ``type_name`` (``cn.tongban.<service>.<aggregate>.<what>``) and ``version``;
    the CloudEvents ``type`` is ``<type_name>.v<version>``. ``subject`` names the aggregate.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type_name: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def ce_type(cls) -> str:
        """The CloudEvents type of this event class."""
        return f"{cls.type_name}.v{cls.version}"

    def subject(self) -> str:
        """The id of the aggregate this event concerns; the record key."""
        raise NotImplementedError


EVENT_TYPES: dict[str, type[Event]] = {}
"""Every known event class by CloudEvents type."""

E = TypeVar("E", bound=type[Event])


def event_type(cls: E) -> E:
    """Class decorator: register an event class under its CloudEvents type."""
    key = cls.ce_type()
    if key in EVENT_TYPES and EVENT_TYPES[key] is not cls:
        raise ValueError(f"event type {key} is registered twice")
    EVENT_TYPES[key] = cls
    return cls


class MalformedEvent(ValueError):
    """A record that is not a valid, known Tongban event; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Record:
    """A record as read from or written to a topic, whatever the bus backend."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int = 0
    offset: int = -1

    def header(self, name: str) -> str | None:
        """A header's value as text, or None."""
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", errors="replace")
        return None


@dataclass(frozen=True)
class Envelope:
    """A CloudEvent: attributes plus JSON data."""

    id: str
    source: str
    type: str
    subject: str
    data: dict[str, Any]
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    traceparent: str | None = None
    specversion: str = SPECVERSION
    datacontenttype: str = JSON

    @classmethod
    def wrap(cls, event: Event, source: str, traceparent: str | None = None) -> Envelope:
        """An envelope around ``event``, with a fresh id and the current time."""
        return cls(
            id=str(uuid.uuid4()),
            source=source,
            type=event.ce_type(),
            subject=event.subject(),
            data=event.model_dump(mode="json"),
            traceparent=traceparent,
        )

    def headers(self) -> tuple[tuple[str, bytes], ...]:
        """The Kafka headers of binary content mode."""
        headers = [
            ("ce_specversion", self.specversion),
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_time", self.time.isoformat()),
            ("ce_subject", self.subject),
            ("content-type", self.datacontenttype),
        ]
        if self.traceparent:
            headers.append(("traceparent", self.traceparent))
        return tuple((k, v.encode("utf-8")) for k, v in headers)

    def value(self) -> bytes:
        """The record value: the data as compact UTF-8 JSON."""
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def to_record(self, topic: str) -> Record:
        """This envelope as a record for ``topic``, keyed by its subject."""
        return Record(topic, self.subject.encode("utf-8"), self.value(), self.headers())

    def event(self) -> Event:
        """The data decoded into its registered event class; :class:`MalformedEvent` if not."""
        cls = EVENT_TYPES.get(self.type)
        if cls is None:
            import shared.contracts  # noqa: F401  (registers the published language on first use)

            cls = EVENT_TYPES.get(self.type)
        if cls is None:
            raise MalformedEvent(f"unknown event type {self.type!r}")
        try:
            return cls.model_validate(self.data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "data"
            raise MalformedEvent(f"invalid data for {self.type}: {where}: {first['msg']}") from exc


_REQUIRED = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject")


def parse_record(record: Record) -> tuple[Envelope, Event]:
    """Decode and validate a record; :class:`MalformedEvent` says what is wrong with it."""
    attrs: dict[str, str] = {}
    for key, raw in record.headers:
        try:
            attrs[key] = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedEvent(f"header {key} is not UTF-8") from None
    content_type = attrs.get("content-type", "")
    if content_type.startswith("application/cloudevents"):
        raise MalformedEvent("structured content mode is not accepted; use binary mode")
    missing = [name for name in _REQUIRED if not attrs.get(name)]
    if missing:
        raise MalformedEvent("missing CloudEvents headers: " + ", ".join(missing))
    if attrs["ce_specversion"] != SPECVERSION:
        raise MalformedEvent(f"unsupported specversion {attrs['ce_specversion']!r}")
    if content_type.split(";")[0].strip() != JSON:
        raise MalformedEvent(f"unsupported content-type {content_type!r}")
    try:
        time = datetime.fromisoformat(attrs["ce_time"])
    except ValueError:
        raise MalformedEvent(f"ce_time is not RFC 3339: {attrs['ce_time']!r}") from None
    try:
        data = json.loads(record.value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedEvent(f"data is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedEvent("data is not a JSON object")
    envelope = Envelope(
        id=attrs["ce_id"],
        source=attrs["ce_source"],
        type=attrs["ce_type"],
        subject=attrs["ce_subject"],
        data=data,
        time=time,
        traceparent=attrs.get("traceparent"),
        datacontenttype=content_type,
    )
    return envelope, envelope.event()
