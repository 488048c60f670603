"""How the webhooks service reads the bus: every record of every locality topic, per topic.

An event published to two localities' topics belongs to both feeds, so the service reads raw
records (a record observer) rather than once-per-event handlers. The valid records of a fetch go into their
localities' feeds with their deliveries in one transaction; a record read again (a redelivery) finds
its event already there and changes nothing. The observer raises when it cannot store a record, so
the consumer reads it again: nothing a topic carried is skipped. A record that is not a valid event
is left to the consumer, which dead-letters it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from services.webhooks.service import Rules, ingest_many
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


async def observe_records(ctx: ServiceContext, records: Sequence[Record]) -> None:
    """Keep the locality topics' events of a fetch in their feeds and queue their deliveries, in one transaction."""
    items = []
    for record in records:
        locality = locality_of(ctx, record.topic)
        if locality is None:
            continue
        try:
            envelope, _event = parse_record(record)
        except MalformedEvent:
            continue
        items.append((locality, envelope, record))
    if not items:
        return
    rules: Rules = ctx.state["rules"]
    delay = 0.2
    while True:
        try:
            async with ctx.uow() as uow:
                queued = await ingest_many(uow, rules, items, ctx.state["clock"]())
            break
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.warning("webhooks waits for its database", extra={"error": repr(exc)})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
    if queued:  # the dispatcher looks for due deliveries only when there are new ones
        ctx.state["dispatcher"].notify()


HANDLERS: dict[str, EventHandler] = {}
"""No once-per-event handlers: everything is read per topic by :func:`observe_records`."""
