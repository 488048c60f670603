"""The fault suite's world: four localities that trust each other, one item, and what the topics hold.

Every helper reads the real thing: the services' own databases (as an auditor would, read-only) and
the locality topics from their beginning with a consumer group of its own.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from sqlalchemy import text

from shared.db import create_engine
from shared.envelope import Record
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.patience import deadline
from tongban.testbed.system import REGIONAL, System

Y, S, T, B = "310110", "320505", "331000", "341600"
LOCALITIES = (Y, S, T, B)
PAIRS = tuple((a, o) for a in LOCALITIES for o in LOCALITIES if a != o)
"""Every ordered pair (accepting window, owning locality): 12."""
APPLICANT = "11010519491231002X"
ITEM_CODE = "YRD-SB-0901"
ITEM = {"code": ITEM_CODE, "name_zh": "社会保障卡申领", "name_en": "Social security card application",
        "area": "social_security", "modes": ["fully_online", "accepted_here_handled_there"],
        "ownership_rule": "insured_place", "committed_days": 5}


async def prepare(system: System) -> None:
    """Publish the item and let every locality accept for every other, in every mode."""
    await activate(system, list(LOCALITIES), title="长三角四地通办协议 (fault suite)")
    catalogue = system.url("catalogue")
    async with httpx.AsyncClient(timeout=15, headers=await system.headers(REGIONAL)) as http:
        created = await http.post(catalogue + "/v1/items", json=ITEM)
        assert created.status_code == 201, created.text
        published = await http.post(catalogue + f"/v1/items/{ITEM_CODE}/publish")
        assert published.status_code == 200, published.text


SCAN = b"%PDF-1.4\n% the applicant's identity card, scanned at the window (fault suite)\n%%EOF\n"
"""The electronic material's file (docs/case-files.md); its SHA-256 is the one declared."""
SCAN_SHA256 = hashlib.sha256(SCAN).hexdigest()


def submission(owner: str, mode: str = "fully_online") -> dict[str, Any]:
    """A case of the item owned by ``owner`` (the applicant is insured there)."""
    materials = [{"name": "身份证", "form": "electronic", "sha256": SCAN_SHA256}, {"name": "申请表", "form": "paper"}]
    return {"item_code": ITEM_CODE, "mode": mode, "applicant_id": APPLICANT,
            "ownership": {"insured_place": [owner]}, "materials": materials}


async def query(url: str, sql: str, **params: Any) -> list[Any]:
    """Rows of a read-only query on a service's database."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())
    finally:
        await engine.dispose()


async def scalar(url: str, sql: str, **params: Any) -> int:
    """One number from a service's database."""
    rows = await query(url, sql, **params)
    return int(rows[0][0])


async def outboxes_empty(system: System) -> bool:
    """Whether every service has relayed every event it committed."""
    for url in system.database_urls.values():
        if await scalar(url, "SELECT count(*) FROM outbox"):
            return False
    return True


async def read_records(bootstrap: str, topics: Iterable[str], until: Callable[[list[Record]], bool],
                       timeout: float = 180) -> list[Record]:
    """Every record of ``topics`` from the beginning, read until ``until`` holds or ``timeout`` passes.

    Unlike ``kafka_io.read_topic`` it returns what it read when time runs out, so that a test can
    count what is missing instead of only failing.
    """
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, group_id=f"fault-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest", enable_auto_commit=False,
    )
    await consumer.start()
    records: list[Record] = []
    give_up_at = deadline(timeout)
    try:
        while not until(records) and time.monotonic() < give_up_at:
            batches = await consumer.getmany(timeout_ms=300)
            for messages in batches.values():
                records.extend(
                    Record(m.topic, m.key, m.value or b"", tuple(m.headers or ()), m.partition, m.offset)
                    for m in messages
                )
    finally:
        await consumer.stop()
    return records


async def read_to_end(bootstrap: str, topics: Iterable[str], timeout: float = 120) -> list[Record]:
    """Every record the topics hold now (up to their end offsets once assigned), without a consumer group."""
    topics = list(topics)
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    records: list[Record] = []
    ends: dict[TopicPartition, int] | None = None
    give_up_at = deadline(timeout)
    try:
        while True:
            if ends is None and {tp.topic for tp in consumer.assignment()} == set(topics):
                ends = await consumer.end_offsets(list(consumer.assignment()))
            if ends is not None and all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                return records
            if time.monotonic() > give_up_at:
                raise AssertionError(f"could not read {topics} to their end in {timeout}s")
            batches = await consumer.getmany(timeout_ms=200)
            for messages in batches.values():
                records.extend(
                    Record(m.topic, m.key, m.value or b"", tuple(m.headers or ()), m.partition, m.offset)
                    for m in messages
                )
    finally:
        await consumer.stop()


async def dead_letters(system: System) -> list[Record]:
    """Every record on the system's dead-letter topics."""
    return await read_to_end(system.kafka.bootstrap, [system.topic(loc) + ".dlt" for loc in LOCALITIES])


class EventLedger:
    """Which event ids of which types each locality topic holds per case (the record key)."""

    def __init__(self, system: System, records: Iterable[Record]) -> None:
        self.ids: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
        prefix = system.topic("")
        for record in records:
            ce_type, ce_id = record.header("ce_type"), record.header("ce_id")
            if ce_type is None or ce_id is None or record.key is None:
                continue
            locality = record.topic.removeprefix(prefix)
            self.ids[(locality, record.key.decode(), ce_type)][ce_id] += 1

    def distinct(self, locality: str, case_id: str, ce_type: str) -> int:
        """How many different events of a type the locality's topic holds for a case."""
        return len(self.ids.get((locality, case_id, ce_type), ()))

    def forget(self, event_ids: set[str]) -> None:
        """Leave out events a test injected itself (a fact retold under a new id is not the system's doing)."""
        for counter in self.ids.values():
            for event_id in event_ids & set(counter):
                del counter[event_id]

    def copies(self) -> int:
        """Records that repeat an event id already on the same topic (redelivery, absorbed by inboxes)."""
        return sum(n - 1 for counter in self.ids.values() for n in counter.values())


async def ledger(system: System, expected: Mapping[str, Sequence[str]], ce_type: str,
                 timeout: float = 240) -> EventLedger:
    """Read every locality topic until each case of ``expected`` (case id -> localities) has a ``ce_type`` event
    on each of its localities' topics, or ``timeout`` passes; the ledger of what was read."""
    wanted = {(loc, case_id) for case_id, locs in expected.items() for loc in locs}
    prefix = system.topic("")

    def complete(records: list[Record]) -> bool:
        seen = {(r.topic.removeprefix(prefix), r.key.decode()) for r in records
                if r.key is not None and r.header("ce_type") == ce_type}
        return wanted <= seen

    records = await read_records(system.kafka.bootstrap, [system.topic(loc) for loc in LOCALITIES], complete, timeout)
    return EventLedger(system, records)


def count_lost_and_duplicated(book: EventLedger, expected: Mapping[str, Sequence[str]],
                              ce_type: str) -> tuple[list[str], list[str]]:
    """Cases missing their event on one of their topics, and cases with more than one such event."""
    lost = sorted({c for c, locs in expected.items() for loc in locs if book.distinct(loc, c, ce_type) == 0})
    doubled = sorted({c for c, locs in expected.items() for loc in locs if book.distinct(loc, c, ce_type) > 1})
    return lost, doubled


async def metric(http: httpx.AsyncClient, base_url: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample of a service (0 when absent)."""
    pairs = [f'{k}="{v}"' for k, v in labels.items()]
    for line in (await http.get(base_url + "/metrics")).text.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample.split("{")[0] == name and all(p in sample for p in pairs):
            return float(value)
    return 0.0


async def settle(system: System, timeout: float = 240) -> None:
    """Wait until every outbox is empty (what was committed has left for Kafka)."""
    await wait_for(lambda: outboxes_empty(system), timeout=timeout, interval=0.5)


def figures_line(name: str, **figures: Any) -> str:
    """One line of figures, printed by each fault test (``pytest -s`` shows them)."""
    return f"[faults] {name}: " + json.dumps(figures, ensure_ascii=False, default=str)


def unhandled_errors(log_path: Path) -> list[str]:
    """The distinct unhandled errors a service logged: how often, the path, the project's own frames of the
    traceback and the exception it ended with."""
    seen: Counter[str] = Counter()
    shown: dict[str, str] = {}
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") != "unhandled error":
            continue
        trace = str(entry.get("exception", "")).splitlines()
        raised = [t for t in trace if _EXCEPTION_LINE.match(t)]
        last = raised[-1] if raised else (trace[-1] if trace else "")
        own = [f"{t.strip()} | {trace[i + 1].strip() if i + 1 < len(trace) else ''}"
               for i, t in enumerate(trace)
               if t.strip().startswith('File "') and _OWN_CODE in t and "site-packages" not in t]
        key = f"{entry.get('path')}: {last[:300]}"
        seen[key] += 1
        shown.setdefault(key, "\n".join(f"    {frame}" for frame in own[-4:]))
    return [f"{n}x {key}\n{shown[key]}" for key, n in seen.most_common()]


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\w*: ")
_OWN_CODE = str(Path(__file__).resolve().parents[2])
