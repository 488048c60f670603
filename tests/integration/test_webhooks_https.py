"""HTTPS deliveries and the DNS-rebinding guard, against loopback receivers (issue 14).

In the dispatcher itself (real sockets, a resolver the test controls): the host is resolved once per
attempt, every address checked, and the request goes to a checked address with the name kept in
``Host``, SNI and the certificate check, so a name that answers a public address at subscription and
a metadata address at delivery gets nothing, and a name that no DNS knows is still reached at the
address that was checked. Certificates are verified against the CAs of ``TONGBAN_WEBHOOK_CA_FILE``.
Then the webhooks service as a process delivers over HTTPS to a receiver whose certificate its
setting trusts, and refuses one it does not.
"""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest

from services.webhooks.dispatcher import Dispatcher
from services.webhooks.domain import AddressPolicy, Delivery, EndpointRefused, RetryPolicy, Subscription
from services.webhooks.domain.endpoints import IPAddress
from services.webhooks.service import Rules, check_endpoint, new_secret
from services.webhooks.store import Sealer
from shared.keys import Key, KeySet
from shared.service import ServiceContext
from shared.settings import Settings
from tests.integration.conftest import SystemFactory
from tests.integration.test_webhooks import WEBHOOK_ENV, publish_item
from tests.support.cases import SUZHOU
from tests.support.tls import LocalAuthority
from tests.support.webhook_receiver import Receiver
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.processes import free_port

NAME = "hooks.suzhou.test"
"""A name no DNS resolves (``.test`` is reserved): only the test's resolver knows it."""


class Resolver:
    """Answers what the test says, in turn, and counts the questions."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers, self.asked = list(answers), 0

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.asked += 1
        if host != NAME:
            raise EndpointRefused(f"{host} does not resolve")
        answer = self.answers[min(self.asked, len(self.answers)) - 1]
        return [ipaddress.ip_address(a) for a in answer]


def dispatcher(resolver: Resolver, ca_file: Path | None = None) -> Dispatcher:
    """A dispatcher on its own: only the sending half is used (no database, no bus)."""
    rules = Rules(policy=AddressPolicy(allow_http_loopback=True), retry=RetryPolicy(), overlap=timedelta(hours=1),
                  sealer=Sealer(KeySet("secret-seal", (Key("k1", b"k" * 32),))), resolver=resolver)
    settings = Settings(webhook_ca_file=str(ca_file) if ca_file else None, webhook_timeout_seconds=5)
    return Dispatcher(cast(ServiceContext, SimpleNamespace(settings=settings)), rules, lambda: datetime.now(UTC))


def subscription(url: str, secret: str) -> tuple[Subscription, Delivery, str]:
    now = datetime.now(UTC)
    sub = Subscription.create("sub_t", SUZHOU, url, ["*"], "", secret, now)
    delivery = Delivery(id="dlv_t", subscription_id=sub.id, locality=SUZHOU, position=1, event_id="e-1",
                        event_type="cn.tongban.test.v1", subject="case-1", webhook_id="msg_t", created_at=now)
    body = Receiver.dumps({"specversion": "1.0", "id": "e-1", "type": "cn.tongban.test.v1", "subject": "case-1",
                           "source": "/tongban/test", "data": {}})
    return sub, delivery, body


async def test_a_name_rebound_to_a_metadata_or_private_address_after_the_check_gets_nothing(
        tmp_path: Path) -> None:
    authority = LocalAuthority(tmp_path / "ca")
    receiver = Receiver(free_port(), tls=authority.issue(NAME), name=NAME)
    await receiver.start()
    resolver = Resolver(["93.184.216.34"], ["169.254.169.254"], ["10.0.0.5"], ["127.0.0.1", "192.168.1.9"],
                        ["127.0.0.1"])
    rebound = dispatcher(resolver, authority.ca_file)
    try:
        # At subscription the name answers a public address: accepted.
        assert await check_endpoint(rebound.rules, receiver.url) == receiver.url
        secret = new_secret()
        receiver.secrets.append(secret)
        sub, delivery, body = subscription(receiver.url, secret)
        # At delivery it answers the metadata service, a private address, loopback beside a private one.
        for expected in ("cloud metadata address (169.254.169.254)", "private address (10.0.0.5)",
                         "private address (192.168.1.9)"):
            status, error = await rebound.send(sub, delivery, body, datetime.now(UTC))
            assert status is None and error.startswith("refused:") and expected in error, error
        assert receiver.hosts == [], "no request reached anything, not even the loopback receiver it also named"
        # The control: answering the receiver's address only, the same delivery arrives.
        assert await rebound.send(sub, delivery, body, datetime.now(UTC)) == (204, "")
        assert resolver.asked == 5, "resolved once per attempt, and the answer checked is the one used"
        assert receiver.hosts == [f"{NAME}:{receiver.port}"] and len(receiver.accepted) == 1
    finally:
        await receiver.stop()
        await rebound.http.aclose()


async def test_the_request_goes_to_the_checked_address_with_the_name_in_host_sni_and_the_certificate(
        tmp_path: Path) -> None:
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo(NAME, 443)  # the dispatcher cannot have asked DNS: DNS does not know the name
    authority = LocalAuthority(tmp_path / "ca")
    good = Receiver(free_port(), tls=authority.issue(NAME), name=NAME)
    wrong_name = Receiver(free_port(), tls=authority.issue("other.suzhou.test"), name=NAME)
    stranger = Receiver(free_port(), tls=LocalAuthority(tmp_path / "other-ca", "Another CA").issue(NAME), name=NAME)
    plain = Receiver(free_port(), name=NAME)
    receivers = (good, wrong_name, stranger, plain)
    trusting, default = dispatcher(Resolver(["127.0.0.1"]), authority.ca_file), dispatcher(Resolver(["127.0.0.1"]))
    try:
        for r in receivers:
            await r.start()
        secret = new_secret()
        for r in receivers:
            r.secrets.append(secret)

        # HTTPS to a certificate of the CA the setting lists: delivered, verified by the receiver.
        sub, delivery, body = subscription(good.url, secret)
        assert await trusting.send(sub, delivery, body, datetime.now(UTC)) == (204, "")
        assert good.hosts == [f"{NAME}:{good.port}"] and good.accepted[0].event["id"] == "e-1"
        # Without the setting the same certificate is not trusted; nor one of another CA, nor one for another name.
        status, error = await default.send(sub, delivery, body, datetime.now(UTC))
        assert status is None and "CERTIFICATE_VERIFY_FAILED" in error, error
        for receiver, reason in ((stranger, "unable to get local issuer"), (wrong_name, "Hostname mismatch")):
            sub, delivery, body = subscription(receiver.url, secret)
            status, error = await trusting.send(sub, delivery, body, datetime.now(UTC))
            assert status is None and reason in error, error
            assert receiver.accepted == []
        # Plain HTTP (loopback, allowed here): the request line names the address, Host the name.
        sub, delivery, body = subscription(plain.url, secret)
        assert await trusting.send(sub, delivery, body, datetime.now(UTC)) == (204, "")
        assert plain.hosts == [f"{NAME}:{plain.port}"]

        # A name with two addresses: one that refuses the connection, then the receiver's. Both checked.
        two = dispatcher(Resolver(["::1", "127.0.0.1"]), authority.ca_file)
        try:
            sub, delivery, body = subscription(good.url, secret)
            assert await two.send(sub, delivery, body, datetime.now(UTC)) == (204, "")
        finally:
            await two.http.aclose()
    finally:
        for r in receivers:
            await r.stop()
        await trusting.http.aclose()
        await default.http.aclose()


@pytest.mark.timeout(300)
async def test_the_service_delivers_over_https_to_a_certificate_its_setting_trusts(
        start_system: SystemFactory, tmp_path: Path) -> None:
    authority = LocalAuthority(tmp_path / "ca")
    trusted = Receiver(free_port(), tls=authority.issue("localhost"), name="localhost")
    other = LocalAuthority(tmp_path / "self", "Another CA")
    untrusted = Receiver(free_port(), tls=other.issue("localhost"), name="localhost")
    system = await start_system("catalogue", "webhooks",
                                env={**WEBHOOK_ENV, "TONGBAN_WEBHOOK_CA_FILE": str(authority.ca_file)})
    hooks = system.url("webhooks")
    try:
        for r in (trusted, untrusted):
            await r.start()
        async with httpx.AsyncClient(timeout=15, headers=await system.headers(SUZHOU)) as http:
            subs: list[dict[str, Any]] = []
            for r in (trusted, untrusted):
                created = await http.post(f"{hooks}/v1/subscriptions", json={
                    "url": r.url, "event_types": ["cn.tongban.catalogue.*"]})
                assert created.status_code == 201, created.text
                subs.append(created.json())
                r.secrets.append(subs[-1]["secret"])
            await publish_item(system, http)
            await wait_for(lambda: len(trusted.accepted) >= 1, timeout=60)
            assert trusted.accepted[0].event["type"] == "cn.tongban.catalogue.item.published.v1"
            assert trusted.hosts[0] == f"localhost:{trusted.port}"

            async def refused_by_certificate() -> bool:
                log = (await http.get(f"{hooks}/v1/subscriptions/{subs[1]['id']}/deliveries")).json()["deliveries"]
                return bool(log and log[0]["log"] and "CERTIFICATE_VERIFY_FAILED" in log[0]["last_error"])

            await wait_for(refused_by_certificate, timeout=60)
            assert untrusted.accepted == [] and untrusted.hosts == [], "no request over an unverified connection"
    finally:
        for r in (trusted, untrusted):
            await r.stop()
