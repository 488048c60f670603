"""A traffic generator: realistic cases across the localities, played against a running system.

``tongban traffic --rate N --duration S`` talks to the services' REST APIs on loopback only, with
the locality systems' client credentials (those ``tongban up`` wrote, or a file of the same
shape). It publishes demonstration items when the catalogue has none, submits cases with valid
applicant identifiers (GB 11643 resident identity numbers, GB 32100 credit codes for enterprises)
at the chosen rate, and moves most of them along their life cycle (accept, forward, receive,
review, supplement, approve or reject, issue, deliver, close; a few are withdrawn), each step
after a short pause, so that a dashboard has something to show. It stops after ``duration``
seconds or ``max_cases`` cases, whichever comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from shared.settings import Settings

# --------------------------------------------------------------------------- identifiers

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def resident_id_check(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def resident_id(rng: random.Random, region: str) -> str:
    """A resident identity number of someone registered in ``region``, with a valid check character."""
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    first17 = f"{region}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + resident_id_check(first17)


def uscc_check(first17: str) -> str:
    """The GB 32100 check character of a unified social credit code."""
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc(rng: random.Random, region: str) -> str:
    """A unified social credit code of an enterprise registered in ``region`` (9 = enterprise, 1 = company)."""
    body = "".join(rng.choice(USCC_CHARSET) for _ in range(9))
    first17 = f"91{region}{body}"
    return first17 + uscc_check(first17)


# --------------------------------------------------------------------------- what is played

DEMO_ITEMS: list[dict[str, Any]] = [
    {"code": "YRD-SB-0101", "name_zh": "社会保障卡申领", "name_en": "Social security card application",
     "area": "social_security", "modes": ["accepted_here_handled_there", "fully_online"],
     "ownership_rule": "insured_place", "committed_days": 5},
    {"code": "YRD-YB-0101", "name_zh": "基本医疗保险关系转移接续", "name_en": "Transfer of basic medical insurance",
     "area": "medical_insurance", "modes": ["accepted_here_handled_there", "fully_online"],
     "ownership_rule": "insured_place", "committed_days": 10},
    {"code": "YRD-MS-0101", "name_zh": "营业执照遗失补领", "name_en": "Replacement of a lost business licence",
     "area": "market_supervision", "modes": ["accepted_here_handled_there"],
     "ownership_rule": "enterprise_registration_place", "committed_days": 3},
    {"code": "YRD-DA-0101", "name_zh": "户籍档案查询", "name_en": "Household registration archive query",
     "area": "archive_query", "modes": ["accepted_here_handled_there", "fully_online"],
     "ownership_rule": "household_registration_place", "committed_days": 5},
]
"""Items published when the catalogue has none (areas of the embedded system's seeded agreement)."""

OWNERSHIP_RULES = ("household_registration_place", "insured_place", "enterprise_registration_place",
                   "property_location")
CROSS_MODES = ("accepted_here_handled_there", "fully_online")
ACCEPTING_SIDE = frozenset({"accept", "forward", "supplement", "close", "withdraw"})
"""Actions the accepting locality takes; the owner takes the others."""
REASONS = {"reject": "材料不全 / materials incomplete", "withdraw": "申请人撤回 / withdrawn by the applicant"}
MATERIALS = [("居民身份证复印件 / copy of the identity card", "paper"), ("申请表 / application form", "electronic")]


def life_cycle(rng: random.Random) -> list[str]:
    """The actions one case goes through, drawn so that cases spread over every status."""
    if rng.random() < 0.05:
        return ["withdraw"]
    steps = ["accept"]
    if rng.random() < 0.04:
        return [*steps, "withdraw"]
    steps.append("forward")
    steps += ["receive", "start_review"]
    if rng.random() < 0.15:
        steps += ["request_supplement", "supplement", "start_review"]
    steps.append("approve" if rng.random() < 0.88 else "reject")
    steps += ["issue_result", "deliver_result", "close"]
    # Many cases are still under way when the run ends: stop some part-way.
    stop = len(steps) if rng.random() < 0.55 else rng.randrange(1, len(steps))
    return steps[:stop]


@dataclass
class TrafficPlan:
    """How much to play."""

    rate: float = 2.0
    duration: float = 60.0
    max_cases: int | None = None
    seed: int | None = None
    step_delay: tuple[float, float] = (0.3, 2.5)
    """Seconds between two steps of one case (drawn uniformly)."""
    concurrency: int = 64

    @property
    def target(self) -> int:
        """How many cases at most."""
        return self.max_cases or max(1, round(self.rate * self.duration))


@dataclass
class Summary:
    """What a run did."""

    submitted: int = 0
    refused: int = 0
    transitions: int = 0
    conflicts: int = 0
    errors: int = 0
    simulated_journeys: int = 0
    items_published: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return {
            "submitted": self.submitted, "refused": self.refused, "transitions": self.transitions,
            "conflicts": self.conflicts, "errors": self.errors, "simulated_journeys": self.simulated_journeys,
            "items_published": self.items_published, "last_status": dict(self.statuses),
            "problems": dict(self.problems.most_common(8)), "seconds": round(self.seconds, 1),
        }


class TrafficError(RuntimeError):
    """The run cannot start: no credentials, a non-loopback address, a system that does not answer."""


def require_loopback(host: str) -> str:
    """``host`` if it is a loopback address (or ``localhost``); :class:`TrafficError` otherwise."""
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return host
    except ValueError:
        pass
    raise TrafficError(f"{host} is not a loopback address: the generator only talks to this machine")


def load_credentials(path: Path) -> dict[str, dict[str, Any]]:
    """Client credentials by locality, from the file ``tongban up`` writes (a list of objects)."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrafficError(f"cannot read credentials from {path}: {exc}") from exc
    found = {str(c["locality"]): c for c in stored if "client_id" in c and "client_secret" in c}
    if len(found) < 2:
        raise TrafficError(f"{path} holds credentials of fewer than two localities")
    return found


# --------------------------------------------------------------------------- talking to the system


class Client:
    """HTTP to the services with each locality's access token (fetched again before it expires)."""

    def __init__(self, base: dict[str, str], credentials: dict[str, dict[str, Any]], concurrency: int) -> None:
        self.base = base
        self.credentials = credentials
        self.http = httpx.AsyncClient(timeout=15, limits=httpx.Limits(max_connections=concurrency))
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        """Close the connections."""
        await self.http.aclose()

    async def token(self, locality: str) -> str:
        """A valid access token of the locality's client."""
        async with self._lock:
            held = self._tokens.get(locality)
            if held and held[1] - time.monotonic() > 30:
                return held[0]
            cred = self.credentials[locality]
            answer = await self.http.post(self.base["authorization"] + "/oauth/token", data={
                "grant_type": "client_credentials", "client_id": cred["client_id"],
                "client_secret": cred["client_secret"]})
            if answer.status_code != 200:
                raise TrafficError(f"no token for {locality}: {answer.status_code} {answer.text[:200]}")
            body = answer.json()
            self._tokens[locality] = (body["access_token"], time.monotonic() + float(body.get("expires_in", 300)))
            return str(body["access_token"])

    async def call(self, method: str, service: str, path: str, locality: str, **kwargs: Any) -> httpx.Response:
        """A request to ``service`` on behalf of ``locality``."""
        headers = {"Authorization": "Bearer " + await self.token(locality), **kwargs.pop("headers", {})}
        return await self.http.request(method, self.base[service] + path, headers=headers, **kwargs)


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def wait_ready(http: httpx.AsyncClient, base: dict[str, str], within: float = 30) -> None:
    """Wait until every service answers ``/readyz``."""
    deadline = time.monotonic() + within
    for name, url in base.items():
        while True:
            try:
                if (await http.get(url + "/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TrafficError(f"{name} does not answer at {url}: is the system running (tongban up)?")
            await asyncio.sleep(0.5)


async def published_items(client: Client, locality: str, summary: Summary) -> list[dict[str, Any]]:
    """The published items cases can be played with; demonstration items are published if none is."""
    answer = await client.call("GET", "catalogue", "/v1/items", locality, params={"status": "published", "limit": 200})
    items: list[dict[str, Any]] = []
    if answer.status_code == 200:
        body = answer.json()
        items = body.get("items", []) if isinstance(body, dict) else list(body)
    usable = [i for i in items if set(i.get("modes", ())) & set(CROSS_MODES)]
    if usable:
        return usable
    for item in DEMO_ITEMS:
        created = await client.call("POST", "catalogue", "/v1/items", locality, json=item)
        if created.status_code not in (201, 409):
            raise TrafficError(f"cannot create item {item['code']}: {created.status_code} {created.text[:300]}")
        published = await client.call("POST", "catalogue", f"/v1/items/{item['code']}/publish", locality)
        if published.status_code == 200:
            summary.items_published.append(item["code"])
        elif published.status_code != 409:
            raise TrafficError(f"cannot publish item {item['code']}: {published.status_code} {published.text[:300]}")
    return list(DEMO_ITEMS)


async def submission_shape(client: Client, locality: str) -> set[str]:
    """The fields routing's case submission takes (it names the owner, or the ownership places)."""
    answer = await client.call("GET", "routing", "/openapi.json", locality)
    schemas = answer.json().get("components", {}).get("schemas", {}) if answer.status_code == 200 else {}
    fields = set(schemas.get("CaseSubmission", {}).get("properties", {}))
    if "reason" in schemas.get("Transition", {}).get("properties", {}):
        fields.add("transition.reason")
    if "notice" in schemas.get("Transition", {}).get("properties", {}):
        fields.add("transition.notice")  # the one-time notice (issue 16)
    if "/v1/cases/{case_id}/files/{sha256}" in (answer.json().get("paths", {}) if answer.status_code == 200 else {}):
        fields.add("files")  # the window uploads its scans (docs/case-files.md)
    return fields or {"item_code", "mode", "owning_locality", "applicant_id"}


# --------------------------------------------------------------------------- one case


class Player:
    """Plays cases until the deadline."""

    def __init__(self, client: Client, items: list[dict[str, Any]], shape: set[str], plan: TrafficPlan,
                 summary: Summary, deadline: float) -> None:
        self.client, self.items, self.shape, self.plan = client, items, shape, plan
        self.summary, self.deadline = summary, deadline
        self.rng = random.Random(plan.seed)
        self.localities = sorted(client.credentials)
        self.simulate = True
        self.scans: dict[str, bytes] = {}
        """Scans of the electronic materials not uploaded yet, by SHA-256."""
        self.standards: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """The materials each owner's business standard requires, by item and owner (read once)."""

    async def required_materials(self, code: str, owner: str, locality: str) -> list[dict[str, Any]]:
        """What the owner's standard requires of the item: routing refuses acceptance without it (issue 16)."""
        if (code, owner) not in self.standards:
            answer = await self.client.call("GET", "catalogue", f"/v1/items/{code}/standards", locality,
                                            params={"locality": owner})
            standards = answer.json().get("standards", []) if answer.status_code == 200 else []
            self.standards[(code, owner)] = [m for s in standards for m in s.get("materials", [])]
        return self.standards[(code, owner)]

    async def with_standard(self, body: dict[str, Any], owner: str, accepting: str) -> dict[str, Any]:
        """The submission declaring what the owner's standard requires (electronic where it accepts that)."""
        if "transition.notice" not in self.shape or "materials" not in body:
            return body
        required = await self.required_materials(body["item_code"], owner, accepting)
        if not required:
            return body
        body["materials"] = [
            {"name": m["name"], "form": "electronic", "sha256": self.scan()} if m.get("electronic_accepted")
            else {"name": m["name"], "form": m.get("form", "original"), "count": int(m.get("count", 1))}
            for m in required]
        return body

    def submission(self, item: dict[str, Any], accepting: str, owner: str) -> dict[str, Any]:
        """A realistic case of ``item``, accepted at ``accepting`` for ``owner``."""
        rule = str(item.get("ownership_rule", "household_registration_place"))
        applicant = uscc(self.rng, owner) if rule == "enterprise_registration_place" else resident_id(self.rng, owner)
        modes = [m for m in CROSS_MODES if m in item.get("modes", ())]
        mode = "accepted_here_handled_there" if "accepted_here_handled_there" in modes and (
            len(modes) == 1 or self.rng.random() < 0.75) else modes[0]
        body: dict[str, Any] = {"item_code": item["code"], "mode": mode, "applicant_id": applicant}
        if "ownership" in self.shape:
            # The applicant's places, all in the owner's locality: routing reads the one the item's rule names.
            body["ownership"] = {name: [owner] for name in OWNERSHIP_RULES}
        else:
            body["owning_locality"] = owner
        if "materials" in self.shape:
            body["materials"] = [
                {"name": name, "form": form, **({"sha256": self.scan()} if form == "electronic" else {})}
                for name, form in MATERIALS
            ]
        return body

    def scan(self) -> str:
        """A small PDF, as the window's document camera would make; its SHA-256."""
        data = b"%PDF-1.4\n%" + self.rng.randbytes(2048) + b"\n%%EOF\n"
        digest = hashlib.sha256(data).hexdigest()
        self.scans[digest] = data
        return digest

    async def upload_scans(self, case_id: str, accepting: str, hashes: list[str]) -> None:
        """Hand the case's scans in (the owner reviews a fully-online case only once they are in)."""
        for digest in hashes:
            data = self.scans.pop(digest, None)
            if data is None or "files" not in self.shape:
                continue
            answer = await self.client.call("PUT", "routing", f"/v1/cases/{case_id}/files/{digest}", accepting,
                                            content=data, params={"name": "scan.pdf"})
            if answer.status_code not in (200, 201):
                self.summary.problems[str(_problem(answer).get("type", answer.status_code)).rsplit("/", 1)[-1]] += 1

    async def pause(self) -> bool:
        """Wait between two steps; False when the run's time is up."""
        low, high = self.plan.step_delay
        wait = self.rng.uniform(low, high)
        if time.monotonic() + wait > self.deadline:
            return False
        await asyncio.sleep(wait)
        return True

    async def play(self, steps: list[str] | None = None) -> str | None:
        """Submit one case and move it along its life cycle (drawn, or ``steps``); the case id, if accepted."""
        accepting, owner = self.rng.sample(self.localities, 2)
        item = self.rng.choice(self.items)
        body = await self.with_standard(self.submission(item, accepting, owner), owner, accepting)
        for _ in range(40):
            answer = await self.client.call("POST", "routing", "/v1/cases", accepting, json=body,
                                            headers={"Idempotency-Key": str(uuid.uuid4())})
            # Routing learns a newly published item from the catalogue's event a moment later.
            if answer.status_code != 422 or not str(_problem(answer).get("type", "")).endswith("item-not-published"):
                break
            if time.monotonic() + 0.5 > self.deadline:
                break
            await asyncio.sleep(0.5)
        if answer.status_code != 201:
            problem = _problem(answer)
            self.summary.refused += 1
            self.summary.problems[str(problem.get("type", answer.status_code)).rsplit("/", 1)[-1]] += 1
            return None
        self.summary.submitted += 1
        case = answer.json()
        case_id, status = case["id"], case.get("status", "submitted")
        hashes = sorted(m["sha256"] for m in body.get("materials", ()) if m.get("sha256"))
        await self.upload_scans(case_id, accepting, hashes)
        self.summary.statuses[status] += 1
        steps = list(steps) if steps is not None else life_cycle(self.rng)
        while steps:
            if not await self.pause():
                return case_id
            action = steps.pop(0)
            side = accepting if action in ACCEPTING_SIDE else owner
            payload: dict[str, Any] = {"action": action}
            if "transition.reason" in self.shape and action in ("reject", "withdraw"):
                payload["reason"] = REASONS[action]
            if action == "request_supplement" and "transition.notice" in self.shape:  # what is missing, and why
                payload["notice"] = [{"material": "户口簿", "reason": "复印件不清晰 / the copy is illegible"}]
            if action == "supplement" and "transition.notice" in self.shape:  # answered line by line
                payload["answers"] = [{"material": "户口簿", "answer": "已补交清晰复印件 / a clear copy handed in"}]
            if action == "receive":
                # The owner confirms the materials it received against those attested at acceptance.
                payload["material_hashes"] = hashes
                if body.get("mode") == "accepted_here_handled_there" and "transition.notice" in self.shape:
                    # The played journey may not have delivered the post yet: the demonstration says so.
                    payload["handover_reason"] = "演示：材料由窗口专人送达 / demonstration: handed over by courier"
            moved = await self.client.call("POST", "routing", f"/v1/cases/{case_id}/transitions", side, json=payload,
                                           headers={"Idempotency-Key": str(uuid.uuid4())})
            if moved.status_code == 200:
                self.summary.transitions += 1
                self.summary.statuses[status] -= 1
                status = moved.json().get("status", action)
                self.summary.statuses[status] += 1
                if action == "forward" and self.simulate:
                    await self.simulate_journey(case_id, accepting)
                continue
            problem = _problem(moved)
            if moved.status_code == 409:
                # Moved on by someone else (a delivered waybill receives the case): skip to what is allowed.
                self.summary.conflicts += 1
                allowed = set(problem.get("allowed", ()))
                while steps and steps[0] not in allowed:
                    steps.pop(0)
                continue
            self.summary.errors += 1
            self.summary.problems[str(problem.get("type", moved.status_code)).rsplit("/", 1)[-1]] += 1
            return case_id
        return case_id

    async def simulate_journey(self, case_id: str, accepting: str) -> None:
        """Have the embedded system's carrier simulator carry the materials (skipped elsewhere)."""
        for _ in range(6):
            found = await self.client.call("GET", "routing", f"/v1/cases/{case_id}", accepting)
            numbers = found.json().get("waybill_numbers", []) if found.status_code == 200 else []
            if numbers:
                break
            await asyncio.sleep(0.3)
        else:
            return
        scenario = self.rng.choices(["delivered", "failed_attempt", "returned"], [0.8, 0.14, 0.06])[0]
        answer = await self.client.call("POST", "delivery", "/v1/dev/carrier/simulate", accepting, json={
            "waybill_number": numbers[0], "scenario": scenario, "speed": 60_000, "seed": self.rng.randrange(1 << 30)})
        if answer.status_code in (404, 405, 422):
            self.simulate = False  # not the embedded system, or no simulator: carriers report for real
        elif answer.status_code < 300:
            self.summary.simulated_journeys += 1


# --------------------------------------------------------------------------- the run


async def run_traffic(settings: Settings, plan: TrafficPlan, host: str = "127.0.0.1",
                      credentials: Path | None = None, progress: bool = True) -> Summary:
    """Play ``plan`` against the system whose ports ``settings`` name; the summary of what happened."""
    require_loopback(host)
    creds = load_credentials(credentials or settings.data_dir / "credentials.json")
    base = {name: f"http://{host}:{settings.default_port(name)}"
            for name in ("catalogue", "routing", "authorization", "delivery")}
    client = Client(base, creds, plan.concurrency)
    summary = Summary()
    started = time.monotonic()
    deadline = started + plan.duration
    try:
        await wait_ready(client.http, base)
        first = sorted(creds)[0]
        items = await published_items(client, first, summary)
        shape = await submission_shape(client, first)
        player = Player(client, items, shape, plan, summary, deadline)
        await _play_all(player, plan, deadline, progress)
    finally:
        await client.close()
    summary.seconds = time.monotonic() - started
    return summary


async def _play_all(player: Player, plan: TrafficPlan, deadline: float, progress: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    target = plan.target
    tasks: set[asyncio.Task[None]] = set()
    gate = asyncio.Semaphore(plan.concurrency)
    summary = player.summary

    async def one() -> None:
        async with gate:
            try:
                await player.play()
            except (httpx.HTTPError, TrafficError) as exc:
                summary.errors += 1
                summary.problems[type(exc).__name__] += 1

    bar = Progress(TextColumn("[bold]cases"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("{task.fields[stats]}"), disable=not progress, transient=False)
    with bar:
        task = bar.add_task("cases", total=target, stats="")
        started = time.monotonic()
        for number in range(target):
            due = started + number / plan.rate
            now = time.monotonic()
            if due >= deadline:
                break
            if due > now:
                await asyncio.sleep(due - now)
            job = asyncio.create_task(one())
            tasks.add(job)
            job.add_done_callback(tasks.discard)
            bar.update(task, completed=number + 1, stats=_stats(summary))
        # Let the cases under way take their remaining steps until the time is up.
        while tasks and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            bar.update(task, stats=_stats(summary))
        for job in list(tasks):
            job.cancel()
        for job in list(tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await job
        bar.update(task, stats=_stats(summary))


def _stats(summary: Summary) -> str:
    return (f"submitted {summary.submitted} · steps {summary.transitions} · refused {summary.refused} · "
            f"errors {summary.errors}")
