"""Soak: the fault suite's load and faults, for longer, with the figures at the end.

    .venv/bin/python bench/soak.py --minutes 3            # or: python -m bench.soak --minutes 3

Starts its own Kafka broker and PostgreSQL server (under /var/tmp, removed afterwards unless
``--keep``), the four services as processes, four localities that trust each other and one item.
Windows then submit cases without pause (fully online, and accepted here / handled there by post),
each request with its Idempotency-Key and asked again after a failure, while a fault is injected
every ``--fault-every`` seconds, in turn: Kafka stopped (``--outage`` seconds), routing killed
(SIGKILL) and restarted, duplicated and malformed records on every locality topic, delivery
killed and restarted, PostgreSQL restarted, bad records again. At the end the load stops, the
system drains, and the soak counts:

- load held: cases, requests, answers, latency;
- faults injected and bad inputs tried (with the dead letters they became);
- lost: accepted cases missing an event or a waybill, good events dead-lettered, journeys that gave up;
- duplicated: a second event or waybill for one case, a transition applied twice;
- leaks: resident memory and open files of each service process (since its last start), rows left
  in the outboxes, database connections.

It exits 1 when anything was lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from aiokafka import AIOKafkaProducer  # noqa: E402

from shared.contracts.catalogue import ItemPublished  # noqa: E402
from shared.contracts.routing import CaseForwarded, CaseSubmitted  # noqa: E402
from tongban.testbed.infra import KafkaBroker, PostgresServer  # noqa: E402
from tongban.testbed.kafka_io import wait_for  # noqa: E402
from tongban.testbed.load import CaseLoad  # noqa: E402
from tongban.testbed.processes import free_port  # noqa: E402
from tongban.testbed.records import GROUPS, MALFORMED, with_new_id  # noqa: E402
from tongban.testbed.system import System, launch_system  # noqa: E402
from tongban.testbed.world import (  # noqa: E402
    LOCALITIES,
    S,
    count_lost_and_duplicated,
    dead_letters,
    ledger,
    outboxes_empty,
    prepare,
    query,
    read_records,
    scalar,
)

SCHEDULE = ("kafka outage", "kill routing", "bad records", "kill delivery", "postgres restart", "bad records")


def _proc(pid: int) -> tuple[int, int]:
    """Resident memory (KiB) and open file descriptors of a process (0, 0 when it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return rss, len(list(Path(f"/proc/{pid}/fd").iterdir()))
    except (OSError, StopIteration):
        return 0, 0


class Sampler:
    """Samples each service process every few seconds: memory and open files."""

    def __init__(self, system: System, every: float = 5.0) -> None:
        self.system, self.every = system, every
        self.samples: dict[str, list[tuple[int, float, int, int]]] = {name: [] for name in system.services}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Sampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
        self.sample()

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.every)

    def sample(self) -> None:
        for name, process in self.system.services.items():
            if process.process is not None and process.process.poll() is None:
                rss, fds = _proc(process.process.pid)
                if rss:
                    self.samples[name].append((process.process.pid, time.monotonic(), rss, fds))

    def growth(self, settle_seconds: float = 20.0) -> dict[str, dict[str, Any]]:
        """Per service: memory and open files from the first sample ``settle_seconds`` into the current
        process's life (its start-up allocations done) to the last sample."""
        result = {}
        for name, samples in self.samples.items():
            if not samples:
                continue
            pid = samples[-1][0]
            life = [s for s in samples if s[0] == pid]
            warm = [s for s in life if s[1] - life[0][1] >= settle_seconds] or life
            first, last = warm[0], life[-1]
            result[name] = {"since_seconds": round(last[1] - first[1]), "rss_mb": [round(first[2] / 1024, 1),
                            round(last[2] / 1024, 1)], "rss_growth_mb": round((last[2] - first[2]) / 1024, 1),
                            "open_files": [first[3], last[3]], "restarts": len({s[0] for s in samples}) - 1}
        return result


class Faults:
    """Injects the faults of the schedule and keeps what was done."""

    def __init__(self, system: System, kafka: KafkaBroker, postgres: PostgresServer, outage: float) -> None:
        self.system, self.kafka, self.postgres, self.outage = system, kafka, postgres, outage
        self.done: list[dict[str, Any]] = []
        self.injected: Counter[str] = Counter()
        self.expected_letters: set[tuple[str, str]] = set()
        self.retold: set[str] = set()
        """Event ids of real facts re-sent under a new id (not duplicates the system made)."""
        self.started = time.monotonic()

    async def inject(self, kind: str) -> None:
        began = time.monotonic()
        if kind == "kafka outage":
            await asyncio.to_thread(self.kafka.stop)
            await asyncio.sleep(self.outage)
            await asyncio.to_thread(self.kafka.start)
        elif kind.startswith("kill "):
            process = self.system.services[kind.removeprefix("kill ")]
            process.kill()
            await asyncio.sleep(2)
            await asyncio.to_thread(process.start)
        elif kind == "postgres restart":
            await asyncio.to_thread(self.postgres.restart)
        elif kind == "bad records":
            await self._bad_records(len(self.done))
        self.done.append({"fault": kind, "at_second": round(began - self.started),
                          "seconds": round(time.monotonic() - began, 1)})

    async def _bad_records(self, batch: int) -> None:
        system = self.system
        real = await read_records(system.kafka.bootstrap, [system.topic(S)], until=lambda rs: {
            r.header("ce_type") for r in rs} >= {CaseForwarded.ce_type(), ItemPublished.ce_type()}, timeout=30)
        copies = [r for r in real if r.header("ce_type") in (CaseForwarded.ce_type(), ItemPublished.ce_type())][-2:]
        producer = AIOKafkaProducer(bootstrap_servers=system.kafka.bootstrap, acks="all")
        await producer.start()
        try:
            for locality in LOCALITIES:
                topic = system.topic(locality)
                for record in copies:
                    await producer.send_and_wait(topic, value=record.value, key=record.key,
                                                 headers=list(record.headers))
                    retold = with_new_id(record)
                    self.retold.add(next(v.decode() for k, v in retold if k == "ce_id"))
                    await producer.send_and_wait(topic, value=record.value, key=record.key, headers=retold)
                    self.injected["duplicated"] += 2
                for name, (value, headers, _reason) in MALFORMED.items():
                    key = f"bad:{name}:{locality}:{batch}"
                    await producer.send_and_wait(topic, value=value, key=key.encode(), headers=headers)
                    self.injected["malformed"] += 1
                    self.expected_letters |= {(group, key) for group in GROUPS}
        finally:
            await producer.stop()


async def soak(minutes: float, rate: float, fault_every: float, outage: float, work: Path) -> dict[str, Any]:
    kafka = KafkaBroker(port=free_port(span=2), state_dir=work / "kafka")
    postgres = PostgresServer(port=free_port(), state_dir=work / "postgres")
    kafka.start()
    postgres.start()
    system: System | None = None
    try:
        system = await launch_system(kafka, postgres, work / "logs", env={"TONGBAN_ACCESS_TOKEN_SECONDS": "3600"})
        await prepare(system)
        faults = Faults(system, kafka, postgres, outage)
        online = CaseLoad(system, rate=rate, retry=True, give_up_after=180, label="online")
        posted = CaseLoad(system, rate=rate / 2, mode="accepted_here_handled_there", retry=True,
                          give_up_after=180, label="posted")
        started = time.monotonic()
        deadline = started + minutes * 60
        async with Sampler(system) as sampler, online, posted:
            await asyncio.sleep(min(15.0, minutes * 60 / 4))
            turn = 0
            while time.monotonic() < deadline - 5:
                if turn and turn % 60 == 0:
                    system._tokens.clear()  # tokens last an hour: take fresh ones now and then
                await faults.inject(SCHEDULE[turn % len(SCHEDULE)])
                turn += 1
                await asyncio.sleep(max(min(fault_every, deadline - time.monotonic()), 0))
            loaded = time.monotonic() - started
        return await _count(system, sampler, faults, online, posted, loaded, postgres)
    finally:
        if system is not None:
            system.stop()
        kafka.stop()
        postgres.stop()


async def _count(system: System, sampler: Sampler, faults: Faults, online: CaseLoad, posted: CaseLoad,
                 loaded: float, postgres: PostgresServer) -> dict[str, Any]:
    drained_at = time.monotonic()
    routing, delivery = system.database_urls["routing"], system.database_urls["delivery"]
    journeys = online.journeys + posted.journeys
    forwarded = {j.case_id: j.involved for j in posted.journeys if j.complete and j.case_id}

    async def drained() -> bool:
        attached = await scalar(routing, "SELECT count(*) FROM cases WHERE waybill_numbers::text <> '[]'")
        return attached >= len(forwarded) and await outboxes_empty(system)

    try:
        await wait_for(drained, timeout=180, interval=1)
    except AssertionError:
        pass  # counted below as lost
    drain_seconds = time.monotonic() - drained_at
    cases = {row[0]: (row[1], row[2]) for row in await query(routing, "SELECT id, accepting_locality, owners::text "
                                                                      "FROM cases")}
    expected = {c: (acc, *json.loads(owners)) for c, (acc, owners) in cases.items()}
    submitted = await ledger(system, expected, CaseSubmitted.ce_type(), timeout=60)
    submitted.forget(faults.retold)
    lost_submitted, doubled_submitted = count_lost_and_duplicated(submitted, expected, CaseSubmitted.ce_type())
    sent = await ledger(system, forwarded, CaseForwarded.ce_type(), timeout=60)
    sent.forget(faults.retold)
    lost_forwarded, doubled_forwarded = count_lost_and_duplicated(sent, forwarded, CaseForwarded.ce_type())
    waybills = {r[0]: r[1] for r in await query(delivery, "SELECT case_id, count(*) FROM waybills "
                                                          "WHERE flow = 'materials' GROUP BY case_id")}
    attached = {r[0]: r[1] for r in await query(routing, "SELECT id, waybill_numbers::text FROM cases")}
    repeated = await query(routing, "SELECT case_id, action, count(*) FROM case_timeline GROUP BY case_id, action "
                                    "HAVING count(*) > 1")
    letters = await dead_letters(system)
    lettered = {(r.header("tongban_dlt_group") or "", (r.key or b"").decode()) for r in letters}
    good_lettered = [r for r in letters if not (r.key or b"").startswith(b"bad:")]
    accepted_ids = {j.case_id for j in journeys if j.case_id}
    outbox = {name: await scalar(url, "SELECT count(*) FROM outbox") for name, url in system.database_urls.items()}
    connections = {name: await scalar(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
                   - 1 for name, url in system.database_urls.items()}
    lost = {
        "cases_without_their_submitted_event": len(lost_submitted),
        "forwarded_cases_without_their_event": len(lost_forwarded),
        "forwarded_cases_without_a_waybill": sum(1 for c in forwarded if c not in waybills),
        "waybills_not_attached_in_routing": sum(1 for c in forwarded if attached.get(c, "[]") == "[]"),
        "accepted_cases_missing_in_routing": len(accepted_ids - set(cases)),
        "good_events_dead_lettered": len(good_lettered),
        "journeys_that_gave_up": sum(not j.complete for j in journeys),
    }
    duplicated = {
        "cases_with_two_submitted_events": len(doubled_submitted),
        "cases_with_two_forwarded_events": len(doubled_forwarded),
        "cases_with_two_materials_waybills": sum(1 for n in waybills.values() if n > 1),
        "transitions_applied_twice": len(repeated),
        "cases_no_window_asked_for": len(set(cases) - accepted_ids),
    }
    figures = {
        "minutes": round(loaded / 60, 1),
        "load": {"fully_online": online.figures(), "posted": posted.figures()},
        "faults_injected": Counter(f["fault"] for f in faults.done), "fault_log": faults.done,
        "bad_inputs": {"records_injected": dict(faults.injected),
                       "dead_letters_expected": len(faults.expected_letters),
                       "dead_letters_found": len(lettered & faults.expected_letters),
                       "dead_letter_records": len(letters)},
        "lost": lost, "duplicated": duplicated,
        "redelivered_copies_absorbed": submitted.copies() + sent.copies(),
        "leaks": {"processes": sampler.growth(), "outbox_rows_left": outbox, "database_connections": connections},
        "drain_seconds": round(drain_seconds, 1),
        "postgres_port": postgres.port,
    }
    return figures


def _report(figures: dict[str, Any]) -> str:
    lost, duplicated = figures["lost"], figures["duplicated"]
    lines = [f"soak: {figures['minutes']} min of load, drained in {figures['drain_seconds']} s"]
    for name, load in figures["load"].items():
        lines.append(f"  load {name}: {load['accepted']} cases ({load['cases_per_second']}/s), "
                     f"{load['requests']} requests, answers {load['answers']}, latency ms {load['latency_ms']}")
    lines.append(f"  faults injected: {dict(figures['faults_injected'])}")
    bad = figures["bad_inputs"]
    lines.append(f"  bad inputs tried: {bad['records_injected']}; dead letters {bad['dead_letters_found']}/"
                 f"{bad['dead_letters_expected']} expected found")
    lines.append(f"  lost: {sum(lost.values())} {lost}")
    lines.append(f"  duplicated: {sum(duplicated.values())} {duplicated}")
    lines.append(f"  repeated records on the topics, absorbed by the inboxes (injected copies included): "
                 f"{figures['redelivered_copies_absorbed']}")
    for name, leak in figures["leaks"]["processes"].items():
        lines.append(f"  {name}: RSS {leak['rss_mb'][0]} -> {leak['rss_mb'][1]} MB over {leak['since_seconds']} s "
                     f"(restarts {leak['restarts']}), open files {leak['open_files'][0]} -> {leak['open_files'][1]}")
    lines.append(f"  outbox rows left: {figures['leaks']['outbox_rows_left']}; "
                 f"database connections: {figures['leaks']['database_connections']}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="how long the load runs")
    parser.add_argument("--rate", type=float, default=4.0, help="fully online cases a second (posted: half)")
    parser.add_argument("--fault-every", type=float, default=20.0, help="seconds between faults")
    parser.add_argument("--outage", type=float, default=20.0, help="seconds Kafka stays stopped")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, data)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tongban-soak-", dir="/var/tmp"))
    work.chmod(0o755)
    try:
        figures = asyncio.run(soak(args.minutes, args.rate, args.fault_every, args.outage, work))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(_report(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str))
    if args.keep:
        print(f"  logs and data kept in {work}")
    return 1 if sum(figures["lost"].values()) or sum(figures["duplicated"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
