"""A simulated carrier: plays realistic tracking journeys against the delivery service's webhook.

Each waybill gets a journey (posting, sorting centres, delivery office, out for delivery, delivery;
or failed attempts with their reasons; or a return to the sender) played with delays compressed by
``speed``. Events go out in batches like a carrier's, signed with HMAC-SHA256 over the timestamp and
the body, with a carrier client's access token; on request some are sent twice or held back to a
later batch, to show that duplicates count once and that the status follows event time. For
demonstrations and load tests: ``tongban carrier simulate EA000000015CN ...``.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import httpx
import typer

from services.delivery.domain import sign
from services.delivery.domain.journeys import SCENARIOS, pick_scenario, plan_journey
from shared.settings import Settings

Clock = Literal["compressed", "backdated"]


# --------------------------------------------------------------------------- the carrier's client


@dataclass
class CarrierCredentials:
    """Where the delivery service is and how the carrier proves who it is."""

    delivery_url: str
    hmac_secret: bytes
    carrier: str = "ems"
    token: str | None = None
    """A ready access token; otherwise one is fetched (and renewed) with the client credentials."""
    token_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


class CarrierClient:
    """Signs and posts event batches as a carrier does; fetches and renews its access token."""

    def __init__(self, credentials: CarrierCredentials, http: httpx.AsyncClient) -> None:
        self.credentials = credentials
        self.http = http
        self._token = credentials.token
        self._expires = float("inf") if credentials.token else 0.0
        self._lock = asyncio.Lock()

    async def token(self, renew: bool = False) -> str:
        """A valid access token of the carrier client."""
        async with self._lock:
            c = self.credentials
            if self._token and not renew and time.monotonic() < self._expires - 30:
                return self._token
            if not (c.token_url and c.client_id and c.client_secret):
                if self._token:
                    return self._token
                raise RuntimeError("no token and no client credentials to get one")
            response = await self.http.post(c.token_url, data={
                "grant_type": "client_credentials", "client_id": c.client_id, "client_secret": c.client_secret,
                "audience": "tongban-delivery"})
            response.raise_for_status()
            issued = response.json()
            self._token = str(issued["access_token"])
            self._expires = time.monotonic() + float(issued.get("expires_in", 300))
            return self._token

    def signed_headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        """The carrier headers of a request body: timestamp, signature, carrier."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "Content-Type": "application/json",
            "X-Tongban-Timestamp": stamp,
            "X-Tongban-Signature": sign(self.credentials.hmac_secret, stamp, body),
            "X-Tongban-Carrier": self.credentials.carrier,
        }

    async def post_events(self, events: Sequence[dict[str, Any]]) -> httpx.Response:
        """Post one signed batch; the token is renewed once if it was refused."""
        body = json.dumps({"events": list(events)}, ensure_ascii=False, separators=(",", ":")).encode()
        url = self.credentials.delivery_url.rstrip("/") + "/v1/carrier/events"
        for renew in (False, True):
            headers = {**self.signed_headers(body), "Authorization": f"Bearer {await self.token(renew)}"}
            response = await self.http.post(url, content=body, headers=headers)
            if response.status_code != 401 or "signature" in response.text:
                return response
        return response

    async def waybill(self, number: str) -> dict[str, Any] | None:
        """The delivery service's view of a waybill, if the carrier's locality may see it."""
        response = await self.http.get(
            self.credentials.delivery_url.rstrip("/") + f"/v1/waybills/{number}",
            headers={"Authorization": f"Bearer {await self.token()}"})
        return dict(response.json()) if response.status_code == 200 else None

    async def waybills_of_case(self, case_id: str) -> list[str]:
        """The numbers of a case's waybills."""
        response = await self.http.get(
            self.credentials.delivery_url.rstrip("/") + "/v1/waybills", params={"case_id": case_id},
            headers={"Authorization": f"Bearer {await self.token()}"})
        response.raise_for_status()
        return [str(w["number"]) for w in response.json()]


# --------------------------------------------------------------------------- simulation


@dataclass
class SimulationReport:
    """What a simulation sent and what the delivery service made of it."""

    scenarios: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    """The final status of each waybill as the service reports it."""
    events: int = 0
    requests: int = 0
    accepted: int = 0
    duplicates: int = 0
    refused: int = 0
    failed_requests: int = 0
    refusals: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary, with request latency percentiles in milliseconds."""
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 1) if lat else None

        return {
            "waybills": len(self.scenarios), "events": self.events, "requests": self.requests,
            "accepted": self.accepted, "duplicates": self.duplicates, "refused": self.refused,
            "failed_requests": self.failed_requests, "refusals": self.refusals[:20],
            "latency_ms": {"p50": pct(0.5), "p95": pct(0.95), "max": pct(1.0),
                           "mean": round(statistics.fmean(lat) * 1000, 1) if lat else None},
            "scenarios": self.scenarios, "statuses": self.statuses,
        }


@dataclass
class _Outgoing:
    event: dict[str, Any]
    resend: bool = False


async def simulate(
    client: CarrierClient,
    waybills: Sequence[str],
    *,
    scenario: str = "random",
    speed: float = 3600.0,
    clock: Clock = "compressed",
    late: bool = False,
    duplicates: float = 0.0,
    reorder: float = 0.0,
    batch_size: int = 50,
    flush_seconds: float = 0.2,
    seed: int | None = None,
) -> SimulationReport:
    """Play a journey for each waybill and report the outcome.

    ``speed``: simulated seconds per real second (3600: an hour a second). ``clock``: ``compressed``
    dates each event when it is sent; ``backdated`` dates it at its simulated time, the journey
    ending about now (so a ``late`` journey is flagged late). ``duplicates``: share of events sent a
    second time; ``reorder``: share held back to a later batch.
    """
    if scenario != "random" and scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}")
    rng = random.Random(seed)
    report = SimulationReport()
    queue: asyncio.Queue[_Outgoing] = asyncio.Queue()
    start = datetime.now(UTC)
    producers = []
    for number in dict.fromkeys(waybills):
        view = await client.waybill(number)
        chosen = scenario if scenario != "random" else pick_scenario(rng)
        report.scenarios[number] = chosen
        origin = (view or {}).get("sender_address") or {}
        destination = (view or {}).get("receiver_address") or {}
        plan = plan_journey(
            chosen, rng, origin.get("district", "寄件局 / origin office"),
            destination.get("district", "投递局 / delivery office"),
            int((view or {}).get("target_hours") or 48), late=late,
        )
        producers.append(asyncio.create_task(_produce(queue, number, plan, speed, clock, start)))
    flusher = asyncio.create_task(_flush(client, queue, report, rng, duplicates, reorder, batch_size, flush_seconds))
    try:
        await asyncio.gather(*producers)
        await queue.join()
    finally:
        flusher.cancel()
        for task in producers:
            task.cancel()
    for number in report.scenarios:
        view = await client.waybill(number)
        report.statuses[number] = str(view["status"]) if view else "unknown"
    return report


async def _produce(queue: asyncio.Queue[_Outgoing], number: str, plan: list[Any], speed: float, clock: Clock,
                   start: datetime) -> None:
    anchor = start - plan[-1].after
    last = datetime.min.replace(tzinfo=UTC)
    began = time.monotonic()
    for step in plan:
        wait = step.after.total_seconds() / speed - (time.monotonic() - began)
        if wait > 0:
            await asyncio.sleep(wait)
        moment = anchor + step.after if clock == "backdated" else datetime.now(UTC)
        moment = max(moment, last + timedelta(milliseconds=1))
        last = moment
        event = {"waybill_number": number, "code": step.code, "occurred_at": moment.isoformat(),
                 "location": step.location}
        if step.reason:
            event["reason"] = step.reason
        if step.action:
            event["action"] = step.action
        await queue.put(_Outgoing(event))


async def _flush(client: CarrierClient, queue: asyncio.Queue[_Outgoing], report: SimulationReport,
                 rng: random.Random, duplicates: float, reorder: float, batch_size: int, flush_seconds: float) -> None:
    """Send what the journeys produced, in batches; held-back events go after the next batch."""
    held: list[_Outgoing] = []
    while True:
        batch: list[_Outgoing] = []
        try:
            batch.append(await asyncio.wait_for(queue.get(), timeout=flush_seconds))
        except TimeoutError:
            pass
        while len(batch) < batch_size:
            try:
                batch.append(queue.get_nowait())
            except asyncio.QueueEmpty:
                break
        later = [item for item in batch if not item.resend and rng.random() < reorder]
        held_back = {id(item) for item in later}
        fresh = [item for item in batch if id(item) not in held_back]
        for group in (fresh, held):
            if not group:
                continue
            await _send(client, [item.event for item in group], report)
            for item in group:
                if not item.resend and rng.random() < duplicates:
                    await queue.put(_Outgoing(item.event, resend=True))
                queue.task_done()
        held = later


async def _send(client: CarrierClient, events: list[dict[str, Any]], report: SimulationReport) -> None:
    delay = 0.2
    for _attempt in range(6):
        started = time.perf_counter()
        try:
            response = await client.post_events(events)
        except httpx.HTTPError:
            response = None
        report.requests += 1
        report.latencies.append(time.perf_counter() - started)
        if response is not None and response.status_code in (200, 207):
            body = response.json()
            report.events += len(events)
            report.accepted += body["accepted"]
            report.duplicates += body["duplicates"]
            report.refused += body["refused"]
            report.refusals += [f"{r.get('waybill_number')} {r.get('code')}: {r.get('reason')}"
                                for r in body["results"] if r["outcome"] == "refused"]
            return
        report.failed_requests += 1
        if response is not None and response.status_code < 500 and response.status_code != 429:
            report.refusals.append(f"batch refused: HTTP {response.status_code} {response.text[:200]}")
            report.events += len(events)
            return
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)


# --------------------------------------------------------------------------- command line

carrier_app = typer.Typer(help="A simulated postal carrier, for demonstrations and load tests.",
                          no_args_is_help=True)


def hmac_secret_of(carrier: str, settings: Settings | None = None) -> bytes:
    """A carrier's current HMAC secret, from the delivery service's own keys (TONGBAN_KEYS_DIR or the data dir)."""
    return (settings or Settings()).keys_for("delivery").current("carrier-hmac-" + carrier).secret


@carrier_app.command("secret")
def secret_command(carrier: Annotated[str, typer.Argument(help="Carrier code, e.g. ems.")] = "ems") -> None:
    """Print a carrier's current HMAC secret (hex) from delivery's key file, to hand to the carrier."""
    typer.echo(hmac_secret_of(carrier).hex())


@carrier_app.command("simulate")
def simulate_command(
    waybills: Annotated[list[str] | None, typer.Argument(help="Waybill numbers (S10).")] = None,
    case_id: Annotated[list[str] | None, typer.Option("--case-id", help="Also every waybill of these cases.")] = None,
    client_id: Annotated[str, typer.Option(envvar="TONGBAN_CARRIER_CLIENT_ID",
                                           help="Client id of a client with the carrier role.")] = "",
    client_secret: Annotated[str, typer.Option(envvar="TONGBAN_CARRIER_CLIENT_SECRET")] = "",
    delivery_url: Annotated[str | None, typer.Option(help="Default: the local delivery service.")] = None,
    token_url: Annotated[str | None, typer.Option(help="Default: the local authorization service.")] = None,
    carrier: Annotated[str, typer.Option(help="Carrier code (X-Tongban-Carrier).")] = "ems",
    hmac_secret: Annotated[str | None, typer.Option(envvar="TONGBAN_CARRIER_HMAC_SECRET",
                                                    help="Hex; default: delivery's current key.")] = None,
    scenario: Annotated[str, typer.Option(help="random, delivered, failed_attempt or returned.")] = "random",
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 3600.0,
    clock: Annotated[str, typer.Option(help="compressed or backdated event times.")] = "compressed",
    late: Annotated[bool, typer.Option(help="Miss the delivery target (with --clock backdated).")] = False,
    duplicates: Annotated[float, typer.Option(help="Share of events sent twice.")] = 0.0,
    reorder: Annotated[float, typer.Option(help="Share of events held back to a later batch.")] = 0.0,
    batch_size: Annotated[int, typer.Option(help="Most events per request.")] = 50,
    seed: Annotated[int | None, typer.Option(help="Seed of the random journeys.")] = None,
) -> None:
    """Play carrier journeys for waybills and print a JSON summary (counts, latencies, final statuses)."""
    settings = Settings()
    if clock not in ("compressed", "backdated"):
        raise typer.BadParameter("compressed or backdated", param_hint="--clock")
    credentials = CarrierCredentials(
        delivery_url=delivery_url or f"http://127.0.0.1:{settings.default_port('delivery')}",
        hmac_secret=bytes.fromhex(hmac_secret) if hmac_secret else hmac_secret_of(carrier, settings),
        carrier=carrier,
        token_url=token_url or f"http://127.0.0.1:{settings.default_port('authorization')}/oauth/token",
        client_id=client_id, client_secret=client_secret,
    )
    if not client_id or not client_secret:
        raise typer.BadParameter("a carrier client's id and secret are needed", param_hint="--client-id")

    async def run() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=30) as http:
            client = CarrierClient(credentials, http)
            numbers = list(waybills or [])
            for case in case_id or []:
                numbers += await client.waybills_of_case(case)
            if not numbers:
                raise typer.BadParameter("name waybills or --case-id")
            result = await simulate(client, numbers, scenario=scenario, speed=speed,
                                    clock=clock,  # type: ignore[arg-type]
                                    late=late, duplicates=duplicates, reorder=reorder, batch_size=batch_size,
                                    seed=seed)
            return result.summary()

    typer.echo(json.dumps(asyncio.run(run()), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    carrier_app()
