"""The service layer of the webhooks service: load through the repositories, apply the rules, commit.

Each function takes a unit of work and commits it; events the aggregates record go to the outbox in
the same transaction (to the subscription's locality's topic).
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.webhooks.domain import (
    AddressPolicy,
    Attempt,
    Delivery,
    NotAllowedNow,
    RetryPolicy,
    Subscription,
    parse_endpoint,
)
from services.webhooks.domain.endpoints import IPAddress
from services.webhooks.domain.health import LATENCY_WINDOW, report_due
from services.webhooks.store import FeedRepository, Sealer, SubscriptionRepository, utc
from services.webhooks.store_deliveries import DeliveryRepository
from services.webhooks.store_health import HealthRepository
from shared.contracts.webhooks import WebhookHealthReported
from shared.envelope import Envelope, Record
from shared.problems import NotFound
from shared.uow import UnitOfWork

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
"""Resolves a host and port to the addresses a connection would go to."""


@dataclass(frozen=True)
class Rules:
    """What the settings decide for every subscription."""

    policy: AddressPolicy
    retry: RetryPolicy
    overlap: timedelta
    sealer: Sealer
    resolver: Resolver


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


async def check_endpoint(rules: Rules, url: str) -> str:
    """The URL, normalised, when the dispatcher may call it now; EndpointRefused otherwise."""
    endpoint = parse_endpoint(url)
    rules.policy.check_scheme(endpoint)
    addresses = [endpoint.literal_address] if endpoint.literal_address else await rules.resolver(
        endpoint.host, endpoint.port)
    rules.policy.check_addresses(endpoint, [a for a in addresses if a is not None])
    return endpoint.url


def publish_recorded(uow: UnitOfWork, sub: Subscription) -> None:
    """Send the events the subscription recorded to its locality's topic."""
    for event in sub.events:
        uow.publish(event, [sub.locality])
    sub.events.clear()


async def load_own(uow: UnitOfWork, rules: Rules, subscription_id: str, locality: str,
                   for_update: bool = False) -> Subscription:
    """A subscription of the caller's locality; another locality's is as absent as a missing one."""
    sub = await SubscriptionRepository(uow.session, rules.sealer).get(subscription_id, for_update)
    if sub is None or sub.locality != locality:
        raise NotFound(f"no subscription {subscription_id}")
    return sub


async def create_subscription(uow: UnitOfWork, rules: Rules, locality: str, url: str, event_types: list[str],
                              description: str, now: datetime) -> tuple[Subscription, str]:
    """A new subscription of ``locality`` and its first secret (shown once)."""
    checked = await check_endpoint(rules, url)
    secret = new_secret()
    sub = Subscription.create("sub_" + uuid.uuid4().hex, locality, checked, event_types, description, secret, now)
    await SubscriptionRepository(uow.session, rules.sealer).save(sub, now)
    await uow.commit()
    return sub, secret


async def change_subscription(uow: UnitOfWork, rules: Rules, sub: Subscription, url: str | None,
                              event_types: list[str] | None, description: str | None, now: datetime) -> None:
    """Point elsewhere, filter differently, or describe the subscription anew."""
    sub.change(await check_endpoint(rules, url) if url is not None else None, event_types, description)
    await SubscriptionRepository(uow.session, rules.sealer).save(sub, now)
    await uow.commit()


async def rotate_secret(uow: UnitOfWork, rules: Rules, sub: Subscription, overlap: timedelta | None,
                        now: datetime) -> str:
    """A new secret; the old one keeps signing (beside the new one) for the overlap."""
    secret = new_secret()
    sub.rotate_secret(secret, now, rules.overlap if overlap is None else overlap)
    await SubscriptionRepository(uow.session, rules.sealer).save(sub, now)
    await uow.commit()
    return secret


async def resume(uow: UnitOfWork, rules: Rules, sub: Subscription, by: str, now: datetime) -> int:
    """An operator resumes a failing subscription; its waiting deliveries start again. How many wait."""
    deliveries = DeliveryRepository(uow.session)
    waiting = await deliveries.pending_count(sub.id)
    sub.resume(by, waiting)
    await deliveries.restart_waiting(sub.id, now)
    await SubscriptionRepository(uow.session, rules.sealer).save(sub, now)
    publish_recorded(uow, sub)
    await uow.commit()
    return waiting


async def redeliver(uow: UnitOfWork, sub: Subscription, delivery_id: str, now: datetime) -> Delivery:
    """Send one delivery again (same ``webhook-id``), in its place among its subject's deliveries."""
    deliveries = DeliveryRepository(uow.session)
    delivery = await deliveries.get(delivery_id, for_update=True)
    if delivery is None or delivery.subscription_id != sub.id:
        raise NotFound(f"no delivery {delivery_id} of subscription {sub.id}")
    delivery.restart(now)
    await deliveries.save(delivery)
    await uow.commit()
    return delivery


async def replay(uow: UnitOfWork, sub: Subscription, since: datetime, now: datetime) -> int:
    """Send again every event of the feed since ``since`` that the filter matches; how many.

    An event delivered before keeps its ``webhook-id``; one the subscription never had (it came
    before the subscription, or the filter changed) gets a delivery of its own.
    """
    feed, deliveries = FeedRepository(uow.session), DeliveryRepository(uow.session)
    events = [e for e in await feed.since(sub.locality, since) if sub.matches(e.event_type)]
    known = await deliveries.of_positions(sub.id, [e.position for e in events])
    for event in events:
        delivery = known.get(event.position)
        if delivery is None:
            deliveries.add(_delivery_for(sub, event.locality, event.position, event.event_id, event.event_type,
                                         event.subject, now), event.received_at)
            continue
        delivery.restart(now)
        await deliveries.save(delivery)
    await uow.commit()
    return len(events)


def _delivery_for(sub: Subscription, locality: str, position: int, event_id: str, event_type: str, subject: str,
                  now: datetime) -> Delivery:
    return Delivery(id="dlv_" + uuid.uuid4().hex, subscription_id=sub.id, locality=locality, position=position,
                    event_id=event_id, event_type=event_type, subject=subject, webhook_id="msg_" + uuid.uuid4().hex,
                    created_at=now, next_attempt_at=now)


def structured_event(envelope: Envelope, record: Record) -> str:
    """The CloudEvent in structured JSON mode, with the data exactly as the topic carries it."""
    document: dict[str, object] = {
        "specversion": envelope.specversion, "id": envelope.id, "source": envelope.source, "type": envelope.type,
        "subject": envelope.subject, "time": record.header("ce_time") or envelope.time.isoformat(),
        "datacontenttype": "application/json", "data": json.loads(record.value),
    }
    if envelope.traceparent:
        document["traceparent"] = envelope.traceparent
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


async def ingest_many(uow: UnitOfWork, rules: Rules, items: Sequence[tuple[str, Envelope, Record]],
                      now: datetime) -> int:
    """Keep events of locality topics in their feeds and queue their deliveries, in one transaction.

    A record whose event its locality's feed holds already (a redelivery) changes nothing. How many
    deliveries were queued.
    """
    subscriptions: dict[str, list[Subscription]] = {}
    feed = FeedRepository(uow.session)
    held = await feed.held([(locality, e.id[:255]) for locality, e, _record in items])
    queued = 0
    for locality, envelope, record in items:
        _position, added = await _ingest_one(uow, rules, feed, locality, envelope, record, now, subscriptions,
                                             held)
        queued += added
    await feed.write()
    await uow.commit()
    return queued


async def _ingest_one(uow: UnitOfWork, rules: Rules, feed: FeedRepository, locality: str, envelope: Envelope,
                      record: Record, now: datetime, subscriptions: dict[str, list[Subscription]],
                      held: set[tuple[str, str]]) -> tuple[int | None, int]:
    if envelope.type == WebhookHealthReported.ce_type():
        return None, 0  # figures about the deliveries themselves: delivering them would feed the next report
    event_id, event_type, subject = envelope.id[:255], envelope.type[:255], envelope.subject[:255]
    if (locality, event_id) in held:
        return None, 0
    held.add((locality, event_id))  # a second copy in the same fetch
    moment = envelope.time if envelope.time.tzinfo else envelope.time.replace(tzinfo=UTC)
    position = await feed.append(locality, event_id, event_type, subject, moment, structured_event(envelope, record),
                                 now)
    deliveries = DeliveryRepository(uow.session)
    if locality not in subscriptions:
        subscriptions[locality] = await SubscriptionRepository(uow.session, rules.sealer).of_locality(locality)
    queued = 0
    for sub in subscriptions[locality]:
        if sub.matches(envelope.type):
            deliveries.add(_delivery_for(sub, locality, position, event_id, event_type, subject, now), now)
            queued += 1
    return position, queued


async def settle(uow: UnitOfWork, rules: Rules, delivery_id: str, attempt: Attempt,
                 rng: random.Random) -> tuple[Delivery | None, bool]:
    """Record an attempt; mark the subscription failing when the retries ran out. (delivery, now failing)."""
    deliveries = DeliveryRepository(uow.session)
    delivery = await deliveries.get(delivery_id, for_update=True)
    if delivery is None:
        return None, False  # the subscription was deleted meanwhile
    try:
        exhausted = delivery.record(attempt, rules.retry, rng)
    except NotAllowedNow:
        return delivery, False  # delivered already (another attempt won): nothing to record
    failing = False
    if exhausted:
        subs = SubscriptionRepository(uow.session, rules.sealer)
        sub = await subs.get(delivery.subscription_id, for_update=True)
        if sub is not None:
            failing = sub.mark_failing(attempt.at, f"retries ran out: {attempt.error}",
                                       await deliveries.pending_count(sub.id))
            await subs.save(sub, attempt.at)
            publish_recorded(uow, sub)
    await deliveries.save(delivery)
    await uow.commit()
    return delivery, failing


async def report_health(uow: UnitOfWork, localities: list[str], clock: Callable[[], datetime],
                        heartbeat: timedelta) -> list[str]:
    """Publish each locality's webhook health when it changed or its heartbeat is due; the localities reported.

    The time of the report is taken after the subscriptions were read under a share lock, so a
    failing or resumed event committed before it is in the figures and one committed after it is
    later than the report: a reader ordering them by time never undoes the newer one.
    """
    reports = HealthRepository(uow.session)
    await reports.lock()
    last = await reports.last_reports()
    figures = await reports.figures(localities, clock() - LATENCY_WINDOW)
    now = clock()
    reported = []
    for code, found in figures.items():
        previous = last.get(code)
        if not report_due(found, previous.summary if previous else None,
                          utc(previous.reported_at) if previous else None, now, heartbeat):
            continue
        uow.publish(found.report(now, heartbeat), [code])
        await reports.remember(code, found.summary(), now)
        reported.append(code)
    await uow.commit()
    return reported
