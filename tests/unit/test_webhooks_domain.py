"""The rules of the webhooks service without I/O: endpoints, secrets, retries, failing and resuming."""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from services.webhooks.dispatcher import signature
from services.webhooks.domain import (
    AddressPolicy,
    Attempt,
    Delivery,
    EndpointRefused,
    InvalidSubscription,
    NotAllowedNow,
    RetryPolicy,
    Subscription,
    parse_endpoint,
)
from services.webhooks.service import new_secret
from shared.contracts.webhooks import SubscriptionFailing, SubscriptionResumed

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ip = ipaddress.ip_address


def _check(url: str, addresses: list[str], policy: AddressPolicy | None = None) -> None:
    policy = policy or AddressPolicy()
    endpoint = parse_endpoint(url)
    policy.check_scheme(endpoint)
    policy.check_addresses(endpoint, [ip(a) for a in addresses])


@pytest.mark.parametrize("address", ["10.0.0.5", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254",
                                     "100.100.100.200", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1",
                                     "fd00::1", "::ffff:10.0.0.1", "fd00:ec2::254", "240.0.0.1"])
def test_endpoints_resolving_to_internal_addresses_are_refused(address: str) -> None:
    with pytest.raises(EndpointRefused):
        _check("https://hooks.example.com/x", [address])


def test_one_internal_address_among_public_ones_is_enough_to_refuse() -> None:
    with pytest.raises(EndpointRefused, match="private"):
        _check("https://hooks.example.com/x", ["93.184.216.34", "10.1.1.1"])
    _check("https://hooks.example.com/x", ["93.184.216.34", "2606:2800:220:1::248"])


def test_plain_http_only_to_loopback_and_only_where_allowed() -> None:
    with pytest.raises(EndpointRefused, match="https"):
        _check("http://127.0.0.1:9000/x", ["127.0.0.1"])
    loopback = AddressPolicy(allow_http_loopback=True)
    _check("http://127.0.0.1:9000/x", ["127.0.0.1"], loopback)
    with pytest.raises(EndpointRefused, match="loopback only"):
        _check("http://hooks.example.com/x", ["93.184.216.34"], loopback)


def test_listed_networks_are_allowed() -> None:
    policy = AddressPolicy.from_text(False, "10.20.0.0/16, fd12::/16")
    _check("https://window.internal/x", ["10.20.3.4"], policy)
    with pytest.raises(EndpointRefused):
        _check("https://window.internal/x", ["10.21.3.4"], policy)


@pytest.mark.parametrize("url", ["ftp://example.com/", "https://user:pw@example.com/", "https:///x",
                                 "https://example.com/#frag", "https://example.com:99999/", "x" * 2001])
def test_malformed_endpoints_are_refused(url: str) -> None:
    with pytest.raises(EndpointRefused):
        parse_endpoint(url)


def _subscription(types: list[str] | None = None) -> Subscription:
    return Subscription.create("sub_1", "320505", "https://h.example/x", types or ["*"], "", new_secret(), AT)


def test_filters_match_types_prefixes_or_everything() -> None:
    sub = _subscription(["cn.tongban.routing.*", "cn.tongban.delivery.waybill.created.v1"])
    assert sub.matches("cn.tongban.routing.case.submitted.v1")
    assert sub.matches("cn.tongban.delivery.waybill.created.v1")
    assert not sub.matches("cn.tongban.delivery.waybill.status_changed.v1")
    assert _subscription(["*"]).matches("anything.v1")
    for bad in ([], ["cn.tongban.*.case"], ["CN.Tongban"], ["x" * 201]):
        with pytest.raises(InvalidSubscription):
            _subscription(bad) if bad else Subscription.create("s", "320505", "u", bad, "", "k", AT)


def test_rotation_signs_with_both_secrets_during_the_overlap_only() -> None:
    sub = _subscription()
    old = sub.signing_secrets(AT)[0]
    new = new_secret()
    sub.rotate_secret(new, AT, timedelta(hours=1))
    assert sub.signing_secrets(AT + timedelta(minutes=59)) == [new, old]
    assert sub.signing_secrets(AT + timedelta(hours=1)) == [new]
    body = '{"id":"e1"}'
    moment = datetime.now(UTC)
    sub.rotate_secret(new, moment - timedelta(minutes=1), timedelta(hours=1))  # again: keeps the last one only
    header = signature(sub, "msg_1", moment, body)
    assert len(header.split(" ")) == 2
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(moment.timestamp())), "webhook-signature": header}
    assert Webhook(new).verify(body, headers) == {"id": "e1"}


def test_retries_back_off_with_jitter_until_the_horizon_then_the_subscription_fails() -> None:
    policy = RetryPolicy(first=timedelta(seconds=5), longest=timedelta(hours=6), horizon=timedelta(days=3))
    delivery = Delivery("d1", "sub_1", "320505", 1, "e1", "t.v1", "case-1", "msg_1", AT, next_attempt_at=AT)
    rng = random.Random(7)
    at, waits = AT, []
    while True:
        exhausted = delivery.record(Attempt(delivery.attempts + 1, at, 503, 12.0, "HTTP 503"), policy, rng)
        if exhausted:
            break
        assert delivery.next_attempt_at is not None
        waits.append(delivery.next_attempt_at - at)
        at = delivery.next_attempt_at
    assert at - AT >= timedelta(days=3), "retried for at least three days"
    assert waits[0] <= timedelta(seconds=5) and waits[1] > waits[0] / 2
    assert max(waits) <= timedelta(hours=6) and len(set(waits)) == len(waits), "jittered"
    sub = _subscription()
    assert sub.mark_failing(at, delivery.last_error, 3) and not sub.mark_failing(at, "again", 3)
    assert isinstance(sub.events[0], SubscriptionFailing) and sub.status == "failing"
    sub.resume("operator-1", 3)
    assert isinstance(sub.events[1], SubscriptionResumed) and sub.status == "active"
    with pytest.raises(NotAllowedNow):
        sub.resume("operator-1", 0)
    delivery.restart(at)
    assert delivery.record(Attempt(delivery.attempts + 1, at, 204, 3.0, ""), policy, rng) is False
    assert delivery.state == "delivered" and delivery.webhook_id == "msg_1"
