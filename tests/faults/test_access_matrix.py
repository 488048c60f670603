"""The access matrix: every operation of every service, for every locality and every role.

Six worlds are built, one per pair of localities: a case accepted at the first and forwarded by
post to the second, its waybill, their bilateral agreement, the acceptance attestation, a consent
recorded at the second locality's window (it asks to query records the first holds), and a spare
client of the first. Twenty-three callers, each a token of one locality's bootstrap client narrowed to
one role, or of the joint office's client narrowed to one regional role, then call every operation the
four OpenAPI documents list, as ``tests/faults/access_rules.py`` says: once per world for the
operations on a world's resources, once per locality for the operations on one locality's part of
shared data, once for the shared ones. Each answer is judged:

- a caller without the role gets 403 (a stranger to the resource may get 404 instead);
- a caller holding the role, aiming at another locality's part of shared data without a regional
  role, gets 403;
- a stranger to a world's resource gets 403 or 404, or a success that names neither the resource
  nor any id of a world its locality is no party to;
- a party holding the role gets past the access checks (not 401, 403 or 404) and, on a read, finds
  the resource's id in the answer;
- no success names an id of a world the caller's locality is no party to; no answer is a 5xx; every
  error is problem+json.

Afterwards the worlds are exactly as before: nobody changed anything.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from shared.settings import SERVICE_NAMES
from tests.faults.access_rules import DEFAULT_VALUES, REGIONAL_ROLES, ROLES, RULES, Access
from tests.integration.conftest import REGIONAL, System, SystemFactory
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.world import (
    ITEM_CODE,
    LOCALITIES,
    SCAN,
    SCAN_SHA256,
    B,
    S,
    T,
    Y,
    figures_line,
    prepare,
    query,
    submission,
)

WORLD_PAIRS = ((Y, S), (Y, T), (Y, B), (S, T), (S, B), (T, B))
"""Accepting locality, owning locality: each pair of the four once."""
World = dict[str, str]


async def _world(system: System, http: httpx.AsyncClient, acceptor: str, owner: str) -> World:
    """The resources of one pair, created through the APIs by their own localities."""
    headers = await system.headers(acceptor)
    agreement = await activate(system, [acceptor, owner], title=f"matrix {acceptor}-{owner}")
    routing = system.url("routing")
    created = await http.post(routing + "/v1/cases", json=submission(owner, "accepted_here_handled_there"),
                              headers=headers)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    for action in ("accept", "forward"):
        moved = await http.post(routing + f"/v1/cases/{case_id}/transitions", json={"action": action},
                                headers=headers)
        assert moved.status_code == 200, moved.text
    scan = await http.put(routing + f"/v1/cases/{case_id}/files/{SCAN_SHA256}", content=SCAN, headers=headers)
    assert scan.status_code == 201, scan.text
    case: dict[str, Any] = {}

    async def waybill_attached() -> bool:
        case.update((await http.get(routing + f"/v1/cases/{case_id}", headers=headers)).json())
        return bool(case["waybill_numbers"])

    await wait_for(waybill_attached, timeout=60, interval=0.3)
    auth = system.url("authorization")
    subject_ref = f"matrix-{acceptor}-{owner}"
    consent = await http.post(auth + "/v1/consents", headers=await system.headers(owner), json={
        "subject_ref": subject_ref, "item_code": ITEM_CODE, "data_kind": "social_security_records",
        "requester": owner, "holder": acceptor, "purpose": "inheritance",
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat()})
    assert consent.status_code == 201, consent.text
    spare = await http.post(auth + "/v1/clients", headers=headers, json={
        "locality": acceptor, "name": f"matrix spare for {owner}", "roles": ["window_clerk"]})
    assert spare.status_code == 201, spare.text
    keys = (await http.get(auth + "/v1/keys", headers=headers)).json()
    # A subscription of the acceptor whose filter matches no event: nothing is ever sent to its address.
    subscription = await http.post(system.url("webhooks") + "/v1/subscriptions", headers=headers, json={
        "url": "https://93.184.216.34/matrix", "event_types": ["cn.tongban.none.*"]})
    assert subscription.status_code == 201, subscription.text
    return {"acceptor": acceptor, "owner": owner, "locality": acceptor, "case_id": case_id,
            "number": case["waybill_numbers"][0], "agreement_id": agreement["id"],
            "attestation_id": case["attestation_id"], "consent_id": consent.json()["id"],
            "client_id": spare.json()["client_id"], "subject_ref": subject_ref, "sha256": SCAN_SHA256,
            "kid": next(k["kid"] for k in keys if k["owner"] == acceptor and k["status"] == "active"),
            "subscription_id": subscription.json()["id"]}


def _secrets(world: World, locality: str) -> set[str]:
    """The ids of a world that a locality may never see."""
    hidden = set()
    if locality not in (world["acceptor"], world["owner"]):
        hidden |= {world[k] for k in ("case_id", "number", "agreement_id", "attestation_id", "consent_id")}
    if locality != world["acceptor"]:
        hidden |= {world["client_id"], world["subscription_id"]}
    return hidden


@dataclass
class Cell:
    """One request of the matrix: an operation, a world (None for shared operations), a caller."""

    service: str
    method: str
    path: str
    rule: Access
    world: World | None
    locality: str
    role: str
    target: str | None = None
    """The locality whose part of shared data a ``locality``-scoped request names."""

    @property
    def kind(self) -> str:
        """How the caller stands to the request: lacks the role, holds it (shared), party or stranger."""
        if self.rule.roles and self.role not in self.rule.roles:
            return "lacks role"
        if self.target is not None:
            return "holder" if self.role in self.rule.regional or self.target == self.locality else "other locality"
        if self.world is None:
            return "holder"
        return "party" if self.locality in _parties(self.rule, self.world) else "stranger"

    def request(self) -> tuple[str, dict[str, str], Any]:
        """The URL path, query and body, placeholders filled."""
        base = {**DEFAULT_VALUES, **(self.world or {}), "target": self.target or "",
                "period": f"2026-{(*ROLES, *REGIONAL_ROLES).index(self.role) + 1:02d}"}
        fill_base = lambda text: re.sub(r"\{(\w+)\}", lambda m: base[m.group(1)], text)  # noqa: E731
        values = {**base, **{k: fill_base(v) for k, v in self.rule.values.items()}}
        fill = lambda text: re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], text)  # noqa: E731
        body = self.rule.body
        if body is not None:
            body = _fill(body, fill)
        return fill(self.path), {k: fill(v) for k, v in self.rule.query.items()}, body

    def label(self) -> str:
        """How a violation names the cell."""
        where = (f" [{self.world['acceptor']}->{self.world['owner']}]" if self.world
                 else f" [for {self.target}]" if self.target else "")
        return f"{self.service} {self.method} {self.path}{where} as {self.locality}/{self.role} ({self.kind})"


def _fill(value: Any, fill: Any) -> Any:
    if isinstance(value, str):
        return fill(value)
    if isinstance(value, list):
        return [_fill(v, fill) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, fill) for k, v in value.items()}
    return value


def judge(cell: Cell, response: httpx.Response, forbidden: set[str]) -> str | None:
    """What is wrong with the answer to a cell, if anything."""
    status, kind = response.status_code, cell.kind
    if status >= 500:
        return f"answered {status}: {response.text[:200]}"
    if status >= 400 and not response.headers.get("content-type", "").startswith("application/problem+json"):
        return f"error {status} is not problem+json"
    if 200 <= status < 300:
        leaked = sorted(s for s in forbidden if s in response.text)
        if leaked:
            return f"answered {status} naming {leaked} of a world it is no party to"
    if kind == "lacks role":
        stranger = cell.world is not None and cell.locality not in _parties(cell.rule, cell.world)
        allowed = (403, 404) if stranger else (403,)
        return None if status in allowed else f"answered {status} to a caller without the role (want {allowed})"
    if kind == "other locality":
        return None if status == 403 else f"answered {status} to a caller of another locality (want 403)"
    if kind == "holder":
        if cell.rule.authorized:
            return None if status in cell.rule.authorized else f"answered {status}, want {cell.rule.authorized}"
        return None if status not in (401, 403) else f"refused a caller holding the role: {status}"
    if kind == "stranger":
        assert cell.world is not None
        if 200 <= status < 300 and cell.rule.sees and cell.world[cell.rule.sees] in response.text:
            return f"showed {cell.rule.sees} {cell.world[cell.rule.sees]} to a stranger"
        return None if status in (403, 404) or 200 <= status < 300 else f"answered {status} to a stranger"
    if status in (401, 403, 404):
        return f"refused a party holding the role: {status} {response.text[:160]}"
    assert cell.world is not None
    if cell.rule.sees and cell.method == "GET" and cell.world[cell.rule.sees] not in response.text:
        return f"answered {status} without {cell.rule.sees} {cell.world[cell.rule.sees]}"
    return None


def _parties(rule: Access, world: World) -> tuple[str, ...]:
    """The localities a world's resource belongs to, under a rule."""
    return {"both": (world["acceptor"], world["owner"]), "acceptor": (world["acceptor"],),
            "owner": (world["owner"],)}[rule.parties]


async def _snapshot(system: System) -> dict[str, list[Any]]:
    """Everything a caller could have changed, read from the services' databases."""
    urls = system.database_urls
    statements = {
        "cases": ("routing", "SELECT id, status, sequence, waybill_numbers::text FROM cases ORDER BY id"),
        "steps": ("routing", "SELECT count(*) FROM case_timeline"),
        "waybills": ("delivery", "SELECT number, status, deliver_to, receipt FROM waybills ORDER BY number"),
        "agreements": ("authorization", "SELECT id, status, signatures::text, acts::text FROM agreements ORDER BY id"),
        "consents": ("authorization", "SELECT id, revoked_at FROM consents ORDER BY id"),
        "attestations": ("authorization", "SELECT count(*) FROM attestations"),
        "keys": ("authorization", "SELECT kid, status FROM signing_keys ORDER BY kid"),
        "clients": ("authorization", "SELECT client_id, revoked FROM clients ORDER BY client_id"),
        "items": ("catalogue", "SELECT code, revision, status FROM items ORDER BY code"),
        "areas": ("catalogue", "SELECT key, name_en FROM areas ORDER BY key"),
        "windows": ("catalogue", "SELECT count(*) FROM windows"),
        "lists": ("catalogue", "SELECT count(*) FROM lists"),
        "subscriptions": ("webhooks", "SELECT id, url, status, event_types::text, secrets::text FROM subscriptions "
                                      "ORDER BY id"),
        "deliveries": ("webhooks", "SELECT count(*) FROM deliveries"),
    }
    return {name: [tuple(r) for r in await query(urls[service], sql)] for name, (service, sql) in statements.items()}


async def test_every_operation_for_every_locality_and_role(start_system: SystemFactory) -> None:
    system = await start_system()
    await prepare(system)
    async with httpx.AsyncClient(timeout=20) as http:
        worlds = list(await asyncio.gather(*(_world(system, http, a, o) for a, o in WORLD_PAIRS)))
        documents = {name: (await http.get(system.url(name) + "/openapi.json")).json() for name in SERVICE_NAMES}
        operations = {(name, method.upper(), path) for name, doc in documents.items()
                      for path, methods in doc["paths"].items() for method in methods}
        unruled, stale = sorted(operations - set(RULES)), sorted(set(RULES) - operations)
        assert not unruled, f"operations without a row in tests/faults/access_rules.py: {unruled}"
        assert not stale, f"rows of tests/faults/access_rules.py whose operation no longer exists: {stale}"

        callers = [(loc, role) for loc in LOCALITIES for role in ROLES]
        tokens = {c: await system.headers(*c) for c in callers}
        office = system.credentials[REGIONAL]["locality"]
        for role in REGIONAL_ROLES:  # the joint office's client, registered under its host locality
            callers.append((office, role))
            tokens[(office, role)] = await system.headers(REGIONAL, role)
        forbidden = {loc: set().union(*(_secrets(w, loc) for w in worlds)) for loc in LOCALITIES}
        cells, withheld = [], 0
        for (service, method, path), rule in sorted(RULES.items()):
            if rule.scope == "public":
                continue
            targets: list[str | None] = list(LOCALITIES) if rule.scope == "locality" else [None]
            for world, target in [(w, None) for w in worlds] if rule.scope == "world" else [(None, t) for t in targets]:
                for locality, role in callers:
                    cell = Cell(service, method, path, rule, world, locality, role, target)
                    if rule.mutates and cell.kind == "party":
                        withheld += 1  # an authorized party would change the world
                        continue
                    cells.append(cell)

        before = await _snapshot(system)
        limit = asyncio.Semaphore(12)
        started = time.monotonic()

        async def ask(cell: Cell) -> tuple[Cell, int, str | None]:
            url_path, params, body = cell.request()
            for attempt in (1, 2):
                try:
                    async with limit:
                        response = await http.request(cell.method, system.url(cell.service) + url_path,
                                                      params=params, json=body,
                                                      headers=tokens[(cell.locality, cell.role)])
                    return cell, response.status_code, judge(cell, response, forbidden[cell.locality])
                except httpx.TransportError as exc:
                    # uvicorn closes a kept-alive connection after an unhandled error: the next request on
                    # it meets a closed socket. Asked once more; the unhandled error is a cell of its own.
                    if attempt == 2:
                        return cell, 0, f"no answer: {type(exc).__name__}"
            raise AssertionError("unreachable")

        answers = await asyncio.gather(*(ask(c) for c in cells))
        seconds = time.monotonic() - started
        after = await _snapshot(system)

    violations = [f"{cell.label()}: {problem}" for cell, _status, problem in answers if problem]
    kinds: dict[str, int] = {}
    for cell, _status, _problem in answers:
        kinds[cell.kind] = kinds.get(cell.kind, 0) + 1
    print(figures_line("access matrix", operations=len(operations), public=sum(r.scope == "public"
                       for r in RULES.values()), worlds=len(worlds), callers=len(callers), requests=len(cells),
                       withheld_mutations=withheld, by_kind=kinds, seconds=round(seconds, 1),
                       violations=len(violations)))
    assert not violations, f"{len(violations)} violations:\n" + "\n".join(violations[:60])
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"the matrix changed the worlds: {changed}"
