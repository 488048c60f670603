"""How the webhooks service reads the bus: every record of every locality topic, per topic.

An event published to two localities' topics belongs to both feeds, so the service reads raw
records (a record observer) rather than once-per-event handlers. Each valid record goes into its
locality's feed with its deliveries in one transaction; a record read again (a redelivery) finds
its event already there and changes nothing. The observer raises when it cannot store a record, so
the consumer reads it again: nothing a topic carried is skipped. A record that is not a valid event
is left to the consumer, which dead-letters it.
"""

from __future__ import annotations

import asyncio
import logging

from services.webhooks.service import Rules, ingest
from shared.consumer import EventHandler
from shared.db import is_transient
from shared.envelope import MalformedEvent, Record, parse_record
from shared.service import ServiceContext

log = logging.getLogger("tongban.webhooks")


def locality_of(ctx: ServiceContext, topic: str) -> str | None:
    """The locality whose topic this is (None for a dead-letter or foreign topic)."""
    head = f"{ctx.localities.topic_prefix}.locality."
    code = topic[len(head):] if topic.startswith(head) else ""
    return code if code in ctx.localities else None


async def observe_record(ctx: ServiceContext, record: Record) -> None:
    """Keep a locality topic's event in its feed and queue its deliveries."""
    locality = locality_of(ctx, record.topic)
    if locality is None:
        return
    try:
        envelope, _event = parse_record(record)
    except MalformedEvent:
        return
    rules: Rules = ctx.state["rules"]
    delay = 0.2
    while True:
        try:
            async with ctx.uow() as uow:
                position = await ingest(uow, rules, locality, envelope, record, ctx.state["clock"]())
            break
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.warning("webhooks waits for its database", extra={"error": repr(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
    if position is not None:
        ctx.state["dispatcher"].notify()


HANDLERS: dict[str, EventHandler] = {}
"""No once-per-event handlers: everything is read per topic by :func:`observe_record`."""
