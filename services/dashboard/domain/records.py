"""Rules of the operators' dashboard. Pure: no I/O, no clock, no randomness.

The dashboard folds the events of every locality topic into a small read model (cases, waybills,
agreements, deadlines, dead letters, event counts per minute) and streams what it reads to the
browsers of operators. This module holds the rules of that folding, of masking personal data, of
who may see what, and of the figures the panels show.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.masking import mask_text as mask_text

# --------------------------------------------------------------------------- event types

_VERSION = re.compile(r"\.v\d+$")


def base_type(ce_type: str) -> str:
    """The event type without its version suffix: ``cn.tongban.routing.case.submitted``."""
    return _VERSION.sub("", ce_type)


def producer_of(ce_type: str) -> str:
    """The service that publishes a type (``routing`` of ``cn.tongban.routing.case.submitted.v1``)."""
    parts = ce_type.split(".")
    return parts[2] if len(parts) > 3 and parts[0] == "cn" and parts[1] == "tongban" else "other"


CASE_PREFIX = "cn.tongban.routing.case."
DELIVERY_PREFIX = "cn.tongban.delivery."
AGREEMENT_TYPE = "cn.tongban.authorization.agreement.changed"
CLIENT_REVOKED_TYPE = "cn.tongban.authorization.client.revoked"
DUE_SOON_PREFIX = "cn.tongban.routing.case.due_soon"
OVERDUE_PREFIX = "cn.tongban.routing.case.overdue"
DEADLINE_SET_PREFIX = "cn.tongban.routing.case.deadline_set"

# --------------------------------------------------------------------------- topics


@dataclass(frozen=True)
class TopicRef:
    """What a topic name says: the locality it belongs to and whether it holds dead letters."""

    locality: str
    dead_letters: bool


def parse_topic(topic: str, prefix: str) -> TopicRef | None:
    """``<prefix>.locality.<code>[.dlt]`` as a :class:`TopicRef`; None for any other topic."""
    head = f"{prefix}.locality."
    if not topic.startswith(head):
        return None
    rest = topic[len(head):]
    dead = rest.endswith(".dlt")
    code = rest[: -len(".dlt")] if dead else rest
    if not re.fullmatch(r"\d{6}", code):
        return None
    return TopicRef(code, dead)


# --------------------------------------------------------------------------- masking personal data

PERSONAL_KEYS = re.compile(r"(phone|mobile|telephone|tel$|id_number|id_card|identity_number|applicant_id|"
                           r"applicant_name|person_name|contact)", re.IGNORECASE)
"""Keys whose values are personal data whatever they look like."""


def mask_whole(value: str) -> str:
    """A personal value masked whole: its first and last characters kept at most."""
    if len(value) <= 2:
        return "*" * len(value)
    keep = 1 if len(value) < 11 else 3
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def mask_value(value: Any, key: str = "") -> Any:
    """A JSON value with personal data masked, recursively (keys kept, values masked)."""
    if isinstance(value, Mapping):
        return {str(k): mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(v, key) for v in value]
    if isinstance(value, str):
        if key and PERSONAL_KEYS.search(key) and not key.endswith("_masked"):
            return mask_whole(value)
        return mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and key and PERSONAL_KEYS.search(key):
        return mask_whole(str(value))
    return value


# --------------------------------------------------------------------------- who sees what


@dataclass(frozen=True)
class Viewer:
    """An operator: of one locality, or regional (every locality)."""

    client_id: str
    locality: str
    regional: bool

    def sees(self, localities: Iterable[str]) -> bool:
        """Whether something that concerns ``localities`` is visible to this operator."""
        return self.regional or self.locality in set(localities)

    def visible(self, known: Sequence[str]) -> list[str]:
        """The localities among ``known`` this operator sees."""
        return list(known) if self.regional else [c for c in known if c == self.locality]


REGIONAL_ROLE = "regional_operator"
"""The joint office's role that opens the regional view (every locality). No locality's client holds it."""
LOCALITY_ROLE = "operator"
"""The role that opens a locality's own view."""


def viewer_of(client_id: str, locality: str, roles: Iterable[str], want_regional: bool) -> Viewer:
    """The operator a verified token makes; :class:`PermissionError` when it may not be one.

    A locality's view needs the ``operator`` role. The regional view (every locality, the cases and
    waybills of pairs the operator's locality is no party to) needs the joint office's
    ``regional_operator`` role, which only ``tongban clients register`` grants; ``operator`` and
    ``supervisor`` of a locality do not open it.
    """
    held = set(roles)
    if want_regional:
        if REGIONAL_ROLE not in held:
            raise PermissionError("the regional view needs the regional_operator role")
    elif LOCALITY_ROLE not in held:
        raise PermissionError("the dashboard needs the operator role")
    return Viewer(client_id, locality, want_regional)


def session_digest(session_id: str) -> str:
    """What the database keeps of a session id: its SHA-256 (a stolen table opens no session)."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- records for the live stream

MAX_RAW = 2000


def header_map(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """Headers as text (undecodable bytes replaced)."""
    return {k: v.decode("utf-8", errors="replace") for k, v in headers}


def localities_in(data: Any) -> set[str]:
    """Locality codes named by an event's data (accepting, owning, sender, receiver, parties, ...)."""
    found: set[str] = set()
    if not isinstance(data, Mapping):
        return found
    for key, value in data.items():
        if not re.search(r"localit|party|parties|owner|requester|holder|issuer", str(key)):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and re.fullmatch(r"[1-8]\d{5}", item):
                found.add(item)
    return found


def case_id_of(ce_type: str, subject: str, data: Any) -> str | None:
    """The case an event concerns, if any: ``case_id`` in its data, else a case event's subject."""
    if isinstance(data, Mapping) and isinstance(data.get("case_id"), str):
        return str(data["case_id"])
    if ce_type.startswith(CASE_PREFIX):
        return subject
    return None


def describe_record(
    topic: str, partition: int, offset: int, headers: Iterable[tuple[str, bytes]], value: bytes,
    ref: TopicRef, received_at: datetime,
) -> dict[str, Any]:
    """A record as the live stream shows it: envelope attributes, masked data, where it was read."""
    attrs = header_map(headers)
    data: Any = None
    raw: str | None = None
    try:
        data = mask_value(json.loads(value))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raw = mask_text(value[:MAX_RAW].decode("utf-8", errors="replace"))
    ce_type = attrs.get("ce_type", "")
    subject = mask_text(attrs.get("ce_subject", ""))
    message: dict[str, Any] = {
        "id": attrs.get("ce_id") or f"{topic}:{partition}:{offset}",
        "type": ce_type or "(no type)",
        "source": attrs.get("ce_source", ""),
        "subject": subject,
        "time": attrs.get("ce_time") or received_at.isoformat(),
        "specversion": attrs.get("ce_specversion", ""),
        "datacontenttype": attrs.get("content-type", ""),
        "traceparent": attrs.get("traceparent"),
        "data": data,
        "raw": raw,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "locality": ref.locality,
        "localities": [ref.locality],
        "case_id": case_id_of(ce_type, subject, data),
        "received_at": received_at.isoformat(),
        "dead_letter": None,
    }
    if ref.dead_letters:
        message["id"] = f"dlt:{topic}:{partition}:{offset}"
        message["dead_letter"] = {
            "reason": mask_text(attrs.get("tongban_dlt_reason", "")),
            "group": attrs.get("tongban_dlt_group", ""),
            "topic": attrs.get("tongban_dlt_topic", ""),
            "partition": attrs.get("tongban_dlt_partition", ""),
            "offset": attrs.get("tongban_dlt_offset", ""),
            "event_id": attrs.get("ce_id"),
        }
    return message


def event_time(raw: str | None, fallback: datetime) -> datetime:
    """The ``ce_time`` of a record in UTC, or ``fallback`` when it is missing or unreadable."""
    if raw:
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            return fallback
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return fallback


def epoch_minute(moment: datetime) -> int:
    """Minutes since the Unix epoch: the bucket of the event-rate chart."""
    return int(moment.timestamp() // 60)


# --------------------------------------------------------------------------- dead letters

_REASON_CLASSES = (
    ("missing CloudEvents headers", "missing-headers"),
    ("structured content mode", "structured-mode"),
    ("unsupported specversion", "bad-specversion"),
    ("unsupported content-type", "bad-content-type"),
    ("ce_time is not", "bad-time"),
    ("data is not JSON", "not-json"),
    ("data is not a JSON object", "not-json-object"),
    ("unknown event type", "unknown-type"),
    ("invalid data for", "invalid-data"),
    ("header ", "bad-header"),
    ("handler failed", "handler-failed"),
)


def reason_class(reason: str) -> str:
    """The kind of a dead letter's reason, so that counts group well (``unknown-type``, ``not-json``...)."""
    for start, name in _REASON_CLASSES:
        if reason.startswith(start):
            return name
    return "other" if reason else "unknown"
