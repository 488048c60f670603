"""The read model's rules. Pure: no I/O.

Cases and their funnel, deadlines, deliveries in exception, agreements, the event rate and consumer
lag: what each event changes in the dashboard's read model, and the panels computed from it.
"""


from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from services.dashboard.domain.handling import handling_marks
from services.dashboard.domain.records import (
    AGREEMENT_TYPE,
    CASE_PREFIX,
    DEADLINE_SET_PREFIX,
    DELIVERY_PREFIX,
    DUE_SOON_PREFIX,
    OVERDUE_PREFIX,
    base_type,
)
from shared.masking import mask_text as mask_text

# --------------------------------------------------------------------------- cases and their funnel

FUNNEL = (
    "submitted", "accepted", "forwarded", "received", "under_review", "supplement_requested", "supplemented",
    "approved", "rejected", "result_issued", "result_delivered", "closed", "withdrawn",
)
"""The statuses of a case's life cycle in the order the funnel shows them."""
DEADLINE_DONE = frozenset({"result_issued", "result_delivered", "closed", "withdrawn", "rejected", "result_revoked",
                           "terminated"})
"""Statuses after which a case's handling deadline no longer runs."""


@dataclass(frozen=True)
class CaseState:
    """What the dashboard knows of a case."""

    case_id: str
    status: str = "submitted"
    item_code: str | None = None
    mode: str | None = None
    accepting_locality: str | None = None
    owning_localities: tuple[str, ...] = ()
    sequence: int = 0
    updated_at: datetime | None = None
    accepted_at: datetime | None = None
    handled_at: datetime | None = None
    handled_status: str | None = None
    """When the case was accepted and decided (``result_issued`` or ``rejected``): its handling time."""
    files_in: int = 0
    """How many files the case's file holds (routing's material and result events say)."""
    files_complete: bool | None = None
    """Whether every declared electronic material is in (None until a file event came)."""

    @property
    def localities(self) -> set[str]:
        """The localities the case concerns."""
        return {c for c in (self.accepting_locality, *self.owning_localities) if c}


def _owners(data: Mapping[str, Any]) -> tuple[str, ...]:
    owners: list[str] = []
    for key in ("owning_localities", "owners"):
        value = data.get(key)
        if isinstance(value, list):
            owners += [str(v) for v in value]
    for key in ("owning_locality", "owner"):
        if isinstance(data.get(key), str):
            owners.append(str(data[key]))
    return tuple(dict.fromkeys(owners))


def needs_case(ce_type: str) -> bool:
    """Whether folding an event reads its case first: routing's case events (the deadline events among them).

    Other events that name a case (an attestation, a decision's audit line) change nothing of it,
    and skipping their read spares the dashboard a query per event.
    """
    return ce_type.startswith(CASE_PREFIX)


def needs_waybill(ce_type: str) -> bool:
    """Whether folding an event reads the waybill it names: delivery's events only."""
    return ce_type.startswith(DELIVERY_PREFIX)


def needs_agreement(ce_type: str) -> bool:
    """Whether folding an event reads the agreement it names: ``agreement.changed`` only (a delegation
    decision names its agreement too, and changes nothing of it)."""
    return base_type(ce_type) == AGREEMENT_TYPE


def apply_case_event(state: CaseState | None, ce_type: str, data: Mapping[str, Any], at: datetime) -> CaseState | None:
    """The case after one routing event (None when the event is about no case)."""
    if not needs_case(ce_type):
        return state
    case_id = data.get("case_id")
    if not isinstance(case_id, str):
        return state
    case = state or CaseState(case_id)
    kind = base_type(ce_type)[len(CASE_PREFIX):]
    owners = tuple(dict.fromkeys((*case.owning_localities, *_owners(data))))
    accepting = data.get("accepting_locality") if isinstance(data.get("accepting_locality"), str) else None
    case = replace(case, owning_localities=owners, accepting_locality=accepting or case.accepting_locality,
                   updated_at=at)
    if kind == "submitted":
        status = case.status if case.sequence > 1 else "submitted"
        return replace(case, status=status, item_code=data.get("item_code") or case.item_code,
                       mode=data.get("mode") or case.mode, sequence=max(case.sequence, 1))
    if kind in ("material_added", "result_document_issued", "files_purged"):
        count = data.get("files_in")
        files_in = 0 if kind == "files_purged" else count if isinstance(count, int) else case.files_in
        complete = data.get("complete")
        return replace(case, files_in=max(files_in, 0),
                       files_complete=complete if isinstance(complete, bool) else case.files_complete)
    if kind == "status_changed":
        to_status = data.get("to_status")
        accepted_at, handled_at, handled_status = handling_marks(
            case.accepted_at, case.handled_at, case.handled_status, str(to_status) if to_status else None, at)
        case = replace(case, accepted_at=accepted_at, handled_at=handled_at, handled_status=handled_status)
        sequence = data.get("sequence")
        if isinstance(sequence, int) and sequence <= case.sequence:
            return case  # an older change arriving late: the status stays (its times still count)
        return replace(case, status=str(to_status) if to_status else case.status,
                       mode=data.get("mode") or case.mode,
                       sequence=sequence if isinstance(sequence, int) else case.sequence + 1)
    return case


def funnel(counts: Mapping[str, int]) -> list[dict[str, Any]]:
    """Case counts by status in life-cycle order, zero where none; unknown statuses at the end."""
    rows = [{"status": s, "count": int(counts.get(s, 0))} for s in FUNNEL]
    rows += [{"status": s, "count": int(n)} for s, n in sorted(counts.items()) if s not in FUNNEL]
    return rows


# --------------------------------------------------------------------------- deadlines


@dataclass(frozen=True)
class DeadlineState:
    """One owner's deadline of a case: on track, due soon or overdue."""

    case_id: str
    owner: str
    state: str
    due_on: str | None = None
    provisional: bool = False


def deadline_kind(ce_type: str) -> str | None:
    """``due_soon``, ``overdue`` or ``on_track`` (a deadline set) for deadline events; None otherwise."""
    if ce_type.startswith(DUE_SOON_PREFIX):
        return "due_soon"
    if ce_type.startswith(OVERDUE_PREFIX):
        return "overdue"
    if ce_type.startswith(DEADLINE_SET_PREFIX):
        return "on_track"
    return None


def deadline_updates(
    ce_type: str, data: Mapping[str, Any], case: CaseState | None
) -> list[DeadlineState]:
    """The deadline rows one event sets (one per owner it names; the case's owners otherwise)."""
    kind = deadline_kind(ce_type)
    case_id = data.get("case_id")
    if kind is None or not isinstance(case_id, str):
        return []
    owners = _owners(data) or (case.owning_localities if case else ())
    due = data.get("due_on") or data.get("due_at") or data.get("deadline")
    provisional = bool(data.get("provisional", False))
    return [DeadlineState(case_id, owner, kind, str(due) if due else None, provisional) for owner in owners]


def deadline_panel(
    rows: Iterable[tuple[str, str, bool, str | None]], owners: Sequence[str]
) -> list[dict[str, Any]]:
    """Per owner: cases due soon, overdue and with a provisional deadline (open cases only).

    ``rows`` are (owner, state, provisional, case status); every one of ``owners`` appears, with zeros.
    """
    table: dict[str, dict[str, int]] = {o: {"due_soon": 0, "overdue": 0, "provisional": 0} for o in owners}
    for owner, state, provisional, status in rows:
        if status in DEADLINE_DONE:
            continue
        entry = table.setdefault(owner, {"due_soon": 0, "overdue": 0, "provisional": 0})
        if state in ("due_soon", "overdue"):
            entry[state] += 1
        if provisional:
            entry["provisional"] += 1
    return [{"locality": owner, **counts} for owner, counts in table.items()]


# --------------------------------------------------------------------------- deliveries


@dataclass(frozen=True)
class WaybillState:
    """What the dashboard knows of a waybill."""

    waybill_number: str
    case_id: str | None = None
    flow: str | None = None
    sender_locality: str | None = None
    receiver_locality: str | None = None
    status: str = "created"
    exception: bool = False
    reason: str | None = None
    late: bool = False
    mismatch: bool = False
    updated_at: datetime | None = None

    @property
    def localities(self) -> set[str]:
        """The localities the waybill concerns."""
        return {c for c in (self.sender_locality, self.receiver_locality) if c}


EXCEPTION_STATUSES = frozenset({"exception", "returned"})
"""Waybill statuses an operator must look at: the carrier's exception, and items returned to the sender."""


def is_exception_event(ce_type: str, data: Mapping[str, Any]) -> bool:
    """Whether a delivery event reports an exception: by its type, a receipt mismatch, or its status."""
    if "exception" in base_type(ce_type).lower() or "mismatch" in base_type(ce_type).lower():
        return True
    return any(data.get(k) in EXCEPTION_STATUSES for k in ("status", "to_status"))


def apply_delivery_event(
    state: WaybillState | None, ce_type: str, data: Mapping[str, Any], at: datetime
) -> WaybillState | None:
    """The waybill after one delivery event (None for events about no waybill)."""
    if not needs_waybill(ce_type):
        return state
    number = data.get("waybill_number")
    if not isinstance(number, str):
        return state
    bill = state or WaybillState(number)

    def text(key: str, current: str | None) -> str | None:
        value = data.get(key)
        return str(value) if isinstance(value, str) and value else current

    bill = replace(
        bill,
        case_id=text("case_id", bill.case_id),
        flow=text("flow", bill.flow),
        sender_locality=text("sender_locality", bill.sender_locality),
        receiver_locality=text("receiver_locality", bill.receiver_locality),
        updated_at=at,
    )
    status = data.get("to_status") or data.get("status")
    if isinstance(status, str) and status:
        bill = replace(bill, status=status)
    kind = base_type(ce_type)
    if is_exception_event(ce_type, data):
        reason = data.get("reason") or ("receipt mismatch" if "mismatch" in kind else None)
        return replace(bill, exception=True, mismatch=bill.mismatch or "mismatch" in kind,
                       reason=mask_text(str(reason)) if reason else bill.reason)
    if kind.endswith(".late"):
        return replace(bill, late=data.get("delivered_at") is None)
    if isinstance(status, str) and status:
        # A status after an exception (back in transit, delivered) ends it; a receipt mismatch stays.
        return replace(bill, exception=bill.mismatch, reason=bill.reason if bill.mismatch else None,
                       late=bill.late and status != "delivered")
    return bill


# --------------------------------------------------------------------------- agreements


@dataclass(frozen=True)
class AgreementState:
    """An agreement and where its signatures stand."""

    agreement_id: str
    status: str
    parties: tuple[str, ...]
    unsigned_parties: tuple[str, ...]
    last_change: str
    last_party: str
    reason: str = ""
    updated_at: datetime | None = None

    @property
    def signed_parties(self) -> tuple[str, ...]:
        """The parties that have signed."""
        return tuple(p for p in self.parties if p not in self.unsigned_parties)


def apply_agreement_event(
    state: AgreementState | None, ce_type: str, data: Mapping[str, Any], at: datetime
) -> AgreementState | None:
    """The agreement after an ``agreement.changed`` event."""
    if not needs_agreement(ce_type) or not isinstance(data.get("agreement_id"), str):
        return state
    parties = tuple(str(p) for p in data.get("parties") or (state.parties if state else ()))
    return AgreementState(
        agreement_id=str(data["agreement_id"]),
        status=str(data.get("status", state.status if state else "unknown")),
        parties=parties,
        unsigned_parties=tuple(str(p) for p in data.get("unsigned_parties") or ()),
        last_change=str(data.get("change", "")),
        last_party=str(data.get("party", "")),
        reason=mask_text(str(data.get("reason", ""))),
        updated_at=at,
    )


# --------------------------------------------------------------------------- event rate


def rate_series(
    rows: Iterable[tuple[int, str, str, int]], now_minute: int, localities: Sequence[str], minutes: int = 60
) -> dict[str, Any]:
    """Events per minute and locality over the last ``minutes``, and per type and locality in total.

    ``rows`` are (epoch minute, locality, event type, count); older or future minutes are left out.
    """
    first = now_minute - minutes + 1
    series = {code: [0] * minutes for code in localities}
    by_type: dict[str, dict[str, int]] = {}
    total = 0
    for minute, locality, ce_type, count in rows:
        if not first <= minute <= now_minute:
            continue
        series.setdefault(locality, [0] * minutes)[minute - first] += count
        by_type.setdefault(ce_type, {})
        by_type[ce_type][locality] = by_type[ce_type].get(locality, 0) + count
        total += count
    ordered = sorted(by_type.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    types = [{"type": t, "count": sum(c.values()), "by_locality": c} for t, c in ordered]
    return {
        "minutes": [first + i for i in range(minutes)],
        "series": [{"locality": code, "counts": counts} for code, counts in series.items()],
        "types": types,
        "total": total,
    }


# --------------------------------------------------------------------------- consumer lag


@dataclass(frozen=True)
class LagRow:
    """How far one consumer group is behind on one topic."""

    group: str
    topic: str
    lag: int
    partitions: int
    committed: int
    end: int


def consumer_lag(
    groups: Iterable[str],
    end_offsets: Mapping[tuple[str, int], int],
    committed: Mapping[tuple[str, str, int], int | None],
    start_offsets: Mapping[tuple[str, int], int] | None = None,
) -> list[LagRow]:
    """Lag per group and topic: the sum over partitions of end offset minus committed offset.

    A partition that a group has committed nothing on counts from its first offset (0, or what
    ``start_offsets`` says), since a group without offsets starts at the earliest record.
    """
    starts = start_offsets or {}
    topics: dict[str, list[int]] = {}
    for topic, partition in sorted(end_offsets):
        topics.setdefault(topic, []).append(partition)
    rows = []
    for group in sorted(set(groups)):
        for topic, partitions in topics.items():
            lag = done = end_sum = 0
            for p in partitions:
                end = end_offsets[(topic, p)]
                position = committed.get((group, topic, p))
                if position is None or position < 0:
                    position = starts.get((topic, p), 0)
                lag += max(end - position, 0)
                done += min(position, end)
                end_sum += end
            rows.append(LagRow(group, topic, lag, len(partitions), done, end_sum))
    return rows

