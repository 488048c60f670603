"""How the dashboard reads the bus.

- The record observer sees every raw record (a fetch at a time, counted in one transaction), of the
  locality topics and of the dead-letter topics: it feeds the live stream, counts each event once per
  locality topic (the event rate and what a locality's operator may see) and keeps the dead letters
  with their reasons.
- The catch-all handler ``"*"`` gets each valid event once (the inbox drops copies read on other
  topics and redeliveries) and folds it into cases, deadlines, waybills, agreements and webhook health.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from services.dashboard.domain import (
    CLIENT_REVOKED_TYPE,
    apply_agreement_event,
    apply_case_event,
    apply_delivery_event,
    base_type,
    case_id_of,
    deadline_updates,
    describe_record,
    epoch_minute,
    event_time,
    header_map,
    mask_text,
    mask_value,
    needs_agreement,
    needs_case,
    needs_waybill,
    parse_topic,
    reason_class,
)
from services.dashboard.domain.evaluations import EVALUATION_TYPES
from services.dashboard.domain.webhook_health import WEBHOOK_TYPES
from services.dashboard.store_evaluations import fold_evaluation_event
from services.dashboard.store_read_model import ReadModel
from services.dashboard.store_webhooks import fold_webhook_event
from services.dashboard.stream import Broadcaster
from shared.consumer import EventHandler
from shared.db import is_transient
from shared.envelope import Envelope, Record
from shared.service import ServiceContext
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.dashboard")


def broadcaster(ctx: ServiceContext) -> Broadcaster:
    """The service's broadcaster (made at start)."""
    found: Broadcaster = ctx.state["broadcaster"]
    return found


async def observe_records(ctx: ServiceContext, records: Sequence[Record]) -> None:
    """Stream the records of a fetch to the browsers, then count them (or keep the dead letters), together.

    It never raises: a failure here must not stop the consumer. A database that is away is
    waited for, as the handlers do.
    """
    now = datetime.now(UTC)
    seen: list[tuple[Record, dict[str, Any]]] = []
    for record in records:
        ref = parse_topic(record.topic, ctx.localities.topic_prefix)
        if ref is None:
            continue
        try:
            message = describe_record(record.topic, record.partition, record.offset, record.headers, record.value,
                                      ref, now)
            broadcaster(ctx).publish(message)
        except Exception:
            log.exception("record not streamed", extra={"topic": record.topic, "offset": record.offset})
            continue
        seen.append((record, message))
    if not seen:
        return
    delay = 0.2
    while True:
        try:
            await _count(ctx, seen, now)
            return
        except Exception as exc:
            if not is_transient(exc):
                if len(seen) > 1:  # one at a time: only the record that cannot be counted is left out
                    for one in seen:
                        await _count_alone(ctx, one, now)
                    return
                log.exception("record not counted", extra={"topic": seen[0][0].topic, "offset": seen[0][0].offset})
                return
            log.warning("dashboard waits for its database", extra={"error": repr(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _count_alone(ctx: ServiceContext, one: tuple[Record, dict[str, Any]], now: datetime) -> None:
    try:
        await _count(ctx, [one], now)
    except Exception:
        log.exception("record not counted", extra={"topic": one[0].topic, "offset": one[0].offset})


async def _count(ctx: ServiceContext, seen: Sequence[tuple[Record, dict[str, Any]]], now: datetime) -> None:
    async with ctx.sessionmaker() as session:
        model = ReadModel(session)
        sightings: list[dict[str, Any]] = []
        for record, message in seen:
            await _count_one(model, record, message, now, sightings)
        await model.add_sightings(sightings)
        await session.commit()


async def _count_one(model: ReadModel, record: Record, message: dict[str, Any], now: datetime,
                     sightings: list[dict[str, Any]]) -> None:
    attrs = header_map(record.headers)
    if message["dead_letter"] is not None:
        reason = message["dead_letter"]["reason"]
        await model.add_dead_letter({
            "topic": record.topic, "partition": record.partition, "offset": max(record.offset, 0),
            "locality": message["locality"], "reason": reason[:2000], "reason_class": reason_class(reason),
            "consumer_group": message["dead_letter"]["group"][:128] or "unknown",
            "event_type": (attrs.get("ce_type") or None), "event_id": (attrs.get("ce_id") or None),
            "seen_at": now,
        })
    elif attrs.get("ce_id"):
        moment = event_time(attrs.get("ce_time"), now)
        sightings.append({
            "event_id": attrs["ce_id"][:255], "locality": message["locality"],
            "type": (attrs.get("ce_type") or "(no type)")[:255], "minute": epoch_minute(moment),
            "topic": record.topic, "partition": record.partition, "offset": max(record.offset, 0),
            "seen_at": now,
        })


async def on_any_event(uow: UnitOfWork, envelope: Envelope, _event: Any) -> None:
    """Fold one event into the read model (once per event, whatever topic it came on)."""
    model = ReadModel(uow.session)
    now = datetime.now(UTC)
    data = envelope.data
    at = envelope.time if envelope.time.tzinfo else envelope.time.replace(tzinfo=UTC)
    subject = mask_text(envelope.subject)
    await model.add_event({
        "event_id": envelope.id[:255], "type": envelope.type[:255], "source": envelope.source[:255],
        "subject": subject[:255], "time": at, "case_id": case_id_of(envelope.type, subject, data),
        "traceparent": envelope.traceparent, "data": mask_value(data), "received_at": now,
    })
    case_id = data.get("case_id") if isinstance(data.get("case_id"), str) else None
    case = await model.case(case_id) if case_id and needs_case(envelope.type) else None
    updated = apply_case_event(case, envelope.type, data, at)
    if updated is not None and updated != case:
        await model.save_case(updated, case.localities if case else frozenset())
    for deadline in deadline_updates(envelope.type, data, updated):
        await model.save_deadline(deadline, at)
    number = data.get("waybill_number")
    if isinstance(number, str) and needs_waybill(envelope.type):
        bill = await model.waybill(number)
        changed = apply_delivery_event(bill, envelope.type, data, at)
        if changed is not None and changed != bill:
            await model.save_waybill(changed)
    agreement_id = data.get("agreement_id")
    if isinstance(agreement_id, str) and needs_agreement(envelope.type):
        agreement = await model.agreement(agreement_id)
        moved = apply_agreement_event(agreement, envelope.type, data, at)
        if moved is not None and moved != agreement:
            await model.save_agreement(moved)
    if base_type(envelope.type) == CLIENT_REVOKED_TYPE and isinstance(data.get("client_id"), str):
        await model.end_sessions_of(data["client_id"])
    if base_type(envelope.type) in WEBHOOK_TYPES:
        await fold_webhook_event(uow.session, base_type(envelope.type), data, at)
    if base_type(envelope.type) in EVALUATION_TYPES:
        await fold_evaluation_event(uow.session, base_type(envelope.type), data)


HANDLERS: dict[str, EventHandler] = {"*": on_any_event}
"""Every event type goes to the catch-all handler."""
