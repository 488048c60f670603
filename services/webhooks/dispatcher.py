"""The dispatcher: sends due deliveries over HTTPS, signed the Standard Webhooks way, and settles them.

Up to ``webhook_concurrency`` attempts are in flight side by side; as each ends, the next due
deliveries start. A delivery is due when its time has come, its subscription is active and no
earlier delivery of the same subject (case) still waits, so each case's events go out in order.
Before each request the endpoint's host is resolved once and every address checked against the
address policy; the request then goes to an address that was checked (the first that takes the
connection; the host name stays in ``Host`` and in TLS's SNI and certificate check), so a name that
resolves differently a moment later (DNS rebinding) gains nothing. Certificates are checked against
httpx's default CAs plus the operator's ``TONGBAN_WEBHOOK_CA_FILE``. Redirects are not followed;
a 2xx answer within the timeout counts, anything else is a failed attempt with its reason.

On PostgreSQL one replica dispatches at a time: the one holding a session advisory lock, checked
on its connection at every turn (if the connection dies, so does the lead, and another replica takes it).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from standardwebhooks import Webhook

from services.webhooks.domain import Attempt, Delivery, Endpoint, EndpointRefused, Subscription, parse_endpoint
from services.webhooks.domain.endpoints import IPAddress
from services.webhooks.service import Rules, settle
from services.webhooks.store import FeedRepository, SubscriptionRepository, utc
from services.webhooks.store_deliveries import DeliveryRepository
from shared.background import BackgroundTask
from shared.db import is_postgres
from shared.service import ServiceContext

log = logging.getLogger("tongban.webhooks")

_DISPATCH_LOCK = 7_402_338_913
USER_AGENT = "Tongban-Webhooks/1"
RESOLVE_SECONDS = 5.0


def tls_context(ca_file: str | None) -> ssl.SSLContext | bool:
    """What HTTPS endpoints' certificates are checked against: httpx's default CAs, plus the operator's bundle.

    A locality whose system presents a certificate of its own CA (or a test receiver's self-signed
    one) is trusted by listing that CA in ``TONGBAN_WEBHOOK_CA_FILE``; nothing is ever unverified.
    """
    if not ca_file:
        return True
    context = httpx.create_ssl_context(trust_env=False)
    try:
        context.load_verify_locations(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise RuntimeError(f"TONGBAN_WEBHOOK_CA_FILE {ca_file} cannot be loaded: {exc}") from exc
    return context


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (EndpointRefused when it resolves to none)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise EndpointRefused(f"{host} does not resolve: {exc.strerror}") from None
    except TimeoutError:
        raise EndpointRefused(f"{host} did not resolve within {RESOLVE_SECONDS:g} s") from None
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


def signature(sub: Subscription, webhook_id: str, at: datetime, body: str) -> str:
    """``webhook-signature``: one ``v1,`` signature per valid secret (two during a rotation's overlap)."""
    return " ".join(Webhook(secret).sign(webhook_id, at, body) for secret in sub.signing_secrets(at))


class Dispatcher:
    """Sends due deliveries until stopped; woken at once when new deliveries are queued."""

    def __init__(self, ctx: ServiceContext, rules: Rules, clock: Callable[[], datetime]) -> None:
        settings = ctx.settings
        self.ctx, self.rules, self.clock = ctx, rules, clock
        self.timeout = settings.webhook_timeout_seconds
        self.concurrency = settings.webhook_concurrency
        self.poll = settings.webhook_dispatch_poll_seconds
        self.rng = random.Random()
        self._wake = asyncio.Event()
        self._task = BackgroundTask("webhooks-dispatcher", self._run)
        # No keep-alive: each request connects to the address just checked, with its own SNI.
        self.http = httpx.AsyncClient(follow_redirects=False, timeout=httpx.Timeout(self.timeout),
                                      limits=httpx.Limits(max_keepalive_connections=0), trust_env=False,
                                      verify=tls_context(settings.webhook_ca_file))

    def notify(self) -> None:
        """New deliveries are waiting."""
        self._wake.set()

    def start(self) -> None:
        """Dispatch in the background."""
        self._task.start()

    async def stop(self) -> None:
        """Stop dispatching (attempts in flight are abandoned and retried later)."""
        await self._task.stop()
        await self.http.aclose()

    async def _run(self) -> None:
        while True:
            try:
                await self._lead()
            except Exception as exc:
                log.warning("dispatcher stopped; starting again", extra={"error": repr(exc)})
                await asyncio.sleep(1.0)

    async def _lead(self) -> None:
        """Dispatch while this replica holds the dispatch lock (PostgreSQL); SQLite has one process."""
        if not is_postgres(self.ctx.engine):
            await self._serve(None)
            return
        async with self.ctx.engine.connect() as conn:
            while not (await conn.execute(text(f"SELECT pg_try_advisory_lock({_DISPATCH_LOCK})"))).scalar():
                await conn.commit()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll * 5)
            await conn.commit()
            try:
                await self._serve(conn)
            finally:
                with contextlib.suppress(Exception):
                    await conn.execute(text(f"SELECT pg_advisory_unlock({_DISPATCH_LOCK})"))
                    await conn.commit()

    async def _serve(self, lock: AsyncConnection | None) -> None:
        """Keep up to ``concurrency`` attempts in flight; start the next due ones as attempts end.

        An attempt in flight is left out of the look for due deliveries (its row still waits), and
        the next delivery of its subject stays behind it, so order per subject holds.
        """
        inflight: dict[str, asyncio.Task[None]] = {}
        try:
            while True:
                if lock is not None:  # still the leader: the lock's connection is alive
                    await lock.execute(text("SELECT 1"))
                    await lock.commit()
                started = await self._start_due(inflight)
                self._wake.clear()
                if started and len(inflight) < self.concurrency:
                    continue
                wake = asyncio.ensure_future(self._wake.wait())
                waiting: set[asyncio.Future[Any]] = {wake, *inflight.values()}
                idle = await self._idle_seconds(set(inflight))
                await asyncio.wait(waiting, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
                wake.cancel()
                for delivery_id in [d for d, task in inflight.items() if task.done()]:
                    inflight.pop(delivery_id)
        finally:
            for task in inflight.values():
                task.cancel()
            if inflight:
                await asyncio.gather(*inflight.values(), return_exceptions=True)

    async def _start_due(self, inflight: dict[str, asyncio.Task[None]]) -> int:
        """Start attempts of the deliveries due now (not already in flight); how many started."""
        free = self.concurrency - len(inflight)
        if free <= 0:
            return 0
        async with self.ctx.sessionmaker() as session:
            due = await DeliveryRepository(session).due(self.clock(), free, set(inflight))
            subs = await SubscriptionRepository(session, self.rules.sealer).many(
                list({d.subscription_id for d in due}))
            bodies = await FeedRepository(session).bodies([(d.locality, d.position) for d in due])
        started = 0
        for d in due:
            if d.subscription_id in subs and (d.locality, d.position) in bodies:
                inflight[d.id] = asyncio.create_task(
                    self._attempt(subs[d.subscription_id], d, bodies[(d.locality, d.position)].body))
                started += 1
        return started

    async def _idle_seconds(self, inflight: set[str]) -> float:
        try:
            async with self.ctx.sessionmaker() as session:
                due = await DeliveryRepository(session).next_due_at(inflight)
        except Exception:
            return self.poll
        if due is None:
            return self.poll
        return max(0.01, min(self.poll, (utc(due) - self.clock()).total_seconds()))

    async def _attempt(self, sub: Subscription, delivery: Delivery, body: str) -> None:
        at = self.clock()
        started = time.perf_counter()
        status, error = await self.send(sub, delivery, body, at)
        latency_ms = (time.perf_counter() - started) * 1000
        attempt = Attempt(delivery.attempts + 1, at, status, latency_ms, error)
        metrics = self.ctx.state["webhook_metrics"]
        metrics.attempt(sub.locality, attempt)
        delay = 0.2
        while True:
            try:
                async with self.ctx.uow() as uow:
                    settled, failing = await settle(uow, self.rules, delivery.id, attempt, self.rng)
                break
            except Exception as exc:
                log.warning("delivery not settled yet", extra={"delivery_id": delivery.id, "error": repr(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        if settled is not None and settled.delivered_at is not None and attempt.succeeded:
            async with self.ctx.sessionmaker() as session:
                received = await DeliveryRepository(session).received_at(delivery.id)
            if received is not None:
                received = received if received.tzinfo else received.replace(tzinfo=UTC)
                metrics.delivered(sub.locality, (settled.delivered_at - received).total_seconds())
        if failing:
            log.warning("subscription failing", extra={"subscription_id": sub.id, "locality": sub.locality})

    async def send(self, sub: Subscription, delivery: Delivery, body: str, at: datetime) -> tuple[int | None, str]:
        """POST the delivery to the addresses its host resolves to now, once checked; (status code or None, error)."""
        try:
            endpoint = parse_endpoint(sub.url)
            self.rules.policy.check_scheme(endpoint)
            addresses = [endpoint.literal_address] if endpoint.literal_address else await self.rules.resolver(
                endpoint.host, endpoint.port)
            checked = [a for a in addresses if a is not None]
            self.rules.policy.check_addresses(endpoint, checked)
        except EndpointRefused as exc:
            return None, f"refused: {exc}"
        default_port = 443 if endpoint.scheme == "https" else 80
        host = endpoint.host if endpoint.port == default_port else f"{endpoint.host}:{endpoint.port}"
        headers = {
            "Host": host, "Content-Type": "application/cloudevents+json; charset=utf-8", "User-Agent": USER_AGENT,
            "webhook-id": delivery.webhook_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature(sub, delivery.webhook_id, at, body),
        }
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._post(endpoint, checked, body.encode("utf-8"), headers)
        except (TimeoutError, httpx.TimeoutException):
            return None, f"no answer within {self.timeout:g} s"
        except Exception as exc:  # any other failure to talk to the endpoint is a failed attempt too
            return None, f"{type(exc).__name__}: {exc}"[:1000]
        if 200 <= response.status_code < 300:
            return response.status_code, ""
        if 300 <= response.status_code < 400:
            return response.status_code, f"redirect to {response.headers.get('location', '?')} (not followed)"[:1000]
        return response.status_code, f"HTTP {response.status_code}: {response.text[:300]}"

    async def _post(self, endpoint: Endpoint, addresses: list[IPAddress], body: bytes,
                    headers: dict[str, str]) -> httpx.Response:
        """POST to the checked addresses in turn until one takes the connection; never to any other address.

        The URL names the address, so nothing resolves the host again (no DNS rebinding between the
        check and the connection); the host name stays in ``Host`` and, for HTTPS, in the SNI and the
        certificate check.
        """
        extensions = {"sni_hostname": endpoint.host} if endpoint.scheme == "https" else {}
        for n, address in enumerate(addresses):
            netloc = f"[{address}]" if address.version == 6 else str(address)
            url = f"{endpoint.scheme}://{netloc}:{endpoint.port}{endpoint.target}"
            try:
                return await self.http.post(url, content=body, headers=headers, extensions=extensions)
            except httpx.ConnectError:
                if n == len(addresses) - 1:
                    raise
        raise EndpointRefused(f"{endpoint.host} resolves to no address")
