"""The system under test: Kafka, PostgreSQL and every service as its own process.

The same steps and environment as the ``start_system`` fixture of ``tests/integration/conftest.py``
(a fresh database per service, the bootstrap clients of the four localities, one topic prefix), on
a broker and a cluster of the harness's own, started through ``tongban/testbed/infra.py``.
"""

from __future__ import annotations

import asyncio
import json
import platform
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from services.authorization.service import bootstrap_clients, register_regional_office
from shared.service import standalone
from shared.settings import Settings
from tongban.registry import APPLICATION_NAMES, definition
from tongban.testbed.agreements import activate
from tongban.testbed.infra import REPO, KafkaBroker, PostgresServer
from tongban.testbed.keys import write_test_keys
from tongban.testbed.processes import ServiceProcess, free_port
from tongban.testbed.system import REGIONAL, System

YANGPU, SUZHOU, TAIZHOU, BOZHOU = "310110", "320505", "331000", "341600"
LOCALITIES = [YANGPU, SUZHOU, TAIZHOU, BOZHOU]
ACCEPTING, OWNING = SUZHOU, BOZHOU
"""W1's locality A (where cases are submitted) and B (whose topic the raw consumer reads)."""
FIRST_LIST = REPO / "services" / "catalogue" / "data" / "first_list.json"
FIRST_LIST_ID = "yrd-first-list.v1"
CASE_SUBMITTED = "cn.tongban.routing.case.submitted.v1"
WAYBILL_CREATED = "cn.tongban.delivery.waybill.created.v1"


def pick_item(mode: str) -> dict[str, Any]:
    """A shipped first-list item that supports ``mode`` and whose owner comes from one place."""
    document = json.loads(FIRST_LIST.read_text(encoding="utf-8"))
    for item in document["items"]:
        if mode in item["modes"] and item["ownership_rule"] in (
                "insured_place", "household_registration_place", "enterprise_registration_place",
                "property_location"):
            required = (item.get("standards") or {}).get(OWNING, {}).get("materials", [])
            return {"code": item["code"], "ownership_rule": item["ownership_rule"], "modes": item["modes"],
                    "materials": required}
    raise LookupError(f"no first-list item supports {mode}")


def case_body(item: dict[str, Any], mode: str, n: int = 0) -> dict[str, Any]:
    """A submission at Suzhou's window for Bozhou declaring what Bozhou's business standard requires
    (routing refuses acceptance otherwise): electronic scans where the standard accepts them."""
    required = item.get("materials") or [{"name": "申请表", "form": "original", "count": 1}]
    return {
        "item_code": item["code"], "mode": mode, "applicant_id": "11010519491231002X",
        "ownership": {item["ownership_rule"]: [OWNING]},
        "materials": [
            {"name": m["name"], "form": "electronic", "sha256": f"{n * 16 + i:064x}"} if m.get("electronic_accepted")
            else {"name": m["name"], "form": m.get("form", "original"), "count": int(m.get("count", 1))}
            for i, m in enumerate(required)],
    }


@dataclass
class BenchSystem:
    """Kafka, PostgreSQL and the services of one benchmark run."""

    work_dir: Path
    broker: KafkaBroker
    postgres: PostgresServer
    system: System
    owns_infra: bool
    notes: list[str] = field(default_factory=list)

    def url(self, service: str) -> str:
        """Base URL of a running service."""
        return self.system.url(service)

    def topic(self, locality: str) -> str:
        """A locality's topic under this run's prefix."""
        return self.system.topic(locality)

    def pids(self) -> dict[str, int]:
        """The process id of each service."""
        return {name: proc.process.pid for name, proc in self.system.services.items() if proc.process}

    async def infrastructure_pids(self) -> dict[str, int]:
        """The root process of the broker (its pid file) and of PostgreSQL (its postmaster.pid)."""
        import asyncpg

        pids: dict[str, int] = {}
        kafka_pid = self.broker.state_dir / "kafka.pid"
        if kafka_pid.exists():
            pids["kafka"] = int(kafka_pid.read_text().split()[0])
        conn = await asyncpg.connect(host="127.0.0.1", port=self.postgres.port, user="tongban",
                                     database="tongban_test")
        try:
            data_dir = await conn.fetchval("SHOW data_directory")
        finally:
            await conn.close()
        postmaster = Path(str(data_dir)) / "postmaster.pid"
        if postmaster.exists():
            pids["postgresql"] = int(postmaster.read_text().split()[0])
        return pids

    async def token(self, locality: str, scope: str | None = None, client: dict[str, str] | None = None,
                    audience: str | None = None) -> str:
        """A fresh access token (tokens live five minutes; every workload fetches its own)."""
        cred = client or self.system.credentials[locality]
        form = {"grant_type": "client_credentials", "client_id": cred["client_id"],
                "client_secret": cred["client_secret"]}
        if scope:
            form["scope"] = scope
        if audience:
            form["audience"] = audience
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(self.url("authorization") + "/oauth/token", data=form)
        response.raise_for_status()
        return str(response.json()["access_token"])

    async def headers(self, locality: str) -> dict[str, str]:
        """Bearer headers with a fresh token of the locality's bootstrap client."""
        return {"Authorization": f"Bearer {await self.token(locality)}"}

    def stop(self) -> None:
        """Stop the services, then (when the harness started them) Kafka and PostgreSQL."""
        self.system.stop()
        if self.owns_infra:
            for stop in (self.broker.stop, self.postgres.stop):
                try:
                    stop()
                except Exception as exc:  # keep stopping the rest
                    print(f"warning: {exc}", file=sys.stderr)


def start_infrastructure(work_dir: Path) -> tuple[KafkaBroker, PostgresServer]:
    """A Kafka broker and a PostgreSQL cluster of the run's own, on loopback ports."""
    broker = KafkaBroker(port=free_port(span=2), state_dir=work_dir / "kafka")
    postgres = PostgresServer(port=free_port(), state_dir=work_dir / "postgres")
    broker.start()
    try:
        postgres.start()
    except BaseException:
        broker.stop()
        raise
    return broker, postgres


async def launch(work_dir: Path, broker: KafkaBroker, postgres: PostgresServer, owns_infra: bool,
                 env: dict[str, str] | None = None) -> BenchSystem:
    """Every service (the four and the dashboard) as its own process, each on a fresh database."""
    system = System(kafka=broker, topic_prefix=f"b{uuid.uuid4().hex[:8]}")
    names = list(APPLICATION_NAMES)
    ports = {name: free_port() for name in names}
    logs = work_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for name in names:
        url = await postgres.create_database(name[:4])
        system.database_urls[name] = url
        service_env = {
            **(env or {}),
            "TONGBAN_BUS": "kafka",
            "TONGBAN_ENVIRONMENT": "development",  # plain HTTP: session cookies not Secure
            "TONGBAN_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
            "TONGBAN_DATABASE_URL": url,
            "TONGBAN_TOPIC_PREFIX": system.topic_prefix,
            "TONGBAN_DATA_DIR": str(work_dir / "data"),
            "TONGBAN_KEYS_DIR": str(write_test_keys(work_dir / "keys")[name]),
            "TONGBAN_OUTBOX_MAX_BACKOFF_SECONDS": "2",
            "TONGBAN_AUTHORIZATION_URL": f"http://127.0.0.1:{ports['authorization']}",
            "TONGBAN_CATALOGUE_URL": f"http://127.0.0.1:{ports['catalogue']}",
            "TONGBAN_LOG_LEVEL": "WARNING",
        }
        system.services[name] = ServiceProcess(name, ports[name], service_env, logs / f"{name}.log")
    auth_env = system.services["authorization"].env
    settings = Settings.model_validate({k[len("TONGBAN_"):].lower(): v for k, v in auth_env.items()
                                        if k != "TONGBAN_DATABASE_URL"})
    async with standalone(definition("authorization"), settings, auth_env["TONGBAN_DATABASE_URL"]) as ctx, \
            ctx.uow() as uow:
        system.credentials = {c["locality"]: c for c in await bootstrap_clients(uow)}
        system.credentials[REGIONAL] = await register_regional_office(uow)
        await uow.commit()
    bench = BenchSystem(work_dir, broker, postgres, system, owns_infra)
    try:
        await asyncio.gather(*(asyncio.to_thread(_start_with_retries, p) for p in system.services.values()))
    except BaseException:
        bench.stop()
        raise
    return bench


def _start_with_retries(process: ServiceProcess, attempts: int = 3) -> None:
    # Other engineers edit some services while the harness runs; a start that fails is tried again.
    for attempt in range(attempts):
        try:
            process.start(timeout=90)
            return
        except RuntimeError:
            process.kill()
            if attempt == attempts - 1:
                raise


async def prepare(bench: BenchSystem) -> None:
    """An active four-party agreement and the first list published to every locality."""
    await activate(_Tokens(bench), LOCALITIES)
    async with httpx.AsyncClient(timeout=60) as http:
        response = await http.post(bench.url("catalogue") + f"/v1/lists/{FIRST_LIST_ID}/publish",
                                   headers=await bench.headers(REGIONAL))  # the joint office publishes
        if response.status_code == 409:
            bench.notes.append(f"first list already published: {response.text[:120]}")
        elif response.status_code != 200:
            raise RuntimeError(f"publishing the first list: {response.status_code} {response.text[:300]}")
        # Routing has heard of the items once a submission is taken.
        item = pick_item("fully_online")
        headers = await bench.headers(ACCEPTING)
        for _ in range(100):
            answer = await http.post(bench.url("routing") + "/v1/cases", json=case_body(item, "fully_online"),
                                     headers=headers)
            if answer.status_code == 201:
                return
            await asyncio.sleep(0.3)
        raise RuntimeError(f"routing does not take cases: {answer.status_code} {answer.text[:300]}")


class _Tokens:
    """What ``tongban.testbed.agreements`` needs: URLs and bearer headers."""

    def __init__(self, bench: BenchSystem) -> None:
        self.bench = bench

    def url(self, service: str) -> str:
        return self.bench.url(service)

    async def headers(self, locality: str, scope: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.bench.token(locality, scope)}"}


# --------------------------------------------------------------------------- memory and machine


def rss_mb(pid: int) -> float:
    """Resident set size of a process (VmRSS), in MB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def busy_processes(exclude: set[int], limit: int = 8) -> list[str]:
    """The processes using the most CPU right now, other than ours (what else loads the machine)."""
    try:
        out = subprocess.run(["ps", "-eo", "pid,pcpu,rss,args", "--sort=-pcpu", "--no-headers"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4 or int(parts[0]) in exclude or float(parts[1]) < 1.0:
            continue
        rows.append(f"{parts[1]}% {parts[3][:100]}")
    return rows[:limit]


def host() -> dict[str, Any]:
    """CPUs, memory, CPU model, kernel, Python and the Kafka release the deploy script fetched."""
    import os

    import aiokafka

    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = Path("/proc/meminfo").read_text()
    total = re.search(r"^MemTotal:\s*(\d+)", meminfo, re.M)
    jars = sorted((REPO / "deploy" / "kafka" / ".dist" / "libs").glob("kafka_2.13-*.jar"))
    return {
        "nproc": os.cpu_count(), "memory_mb": round(int(total.group(1)) / 1024) if total else None,
        "cpu_model": model.group(1).strip() if model else platform.processor(),
        "kernel": platform.release(), "python": platform.python_version(),
        "kafka": jars[-1].stem.split("-", 1)[1] if jars else "unknown", "aiokafka": aiokafka.__version__,
    }


async def machine(bench: BenchSystem) -> dict[str, Any]:
    """What the run ran on: the host, and the PostgreSQL version and its fsync setting."""
    import asyncpg

    conn = await asyncpg.connect(host="127.0.0.1", port=bench.postgres.port, user="tongban", database="tongban_test")
    try:
        pg_version = await conn.fetchval("SHOW server_version")
        fsync = await conn.fetchval("SHOW fsync")
    finally:
        await conn.close()
    return {**host(), "postgresql": pg_version, "postgresql_fsync": fsync}
