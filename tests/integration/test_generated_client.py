"""The OpenAPI documents as published are enough to code against: a generated client runs a whole case.

At test time, ``openapi-python-client`` (from PyPI, pinned in the lock) generates a client from the
``/openapi.json`` that routing and delivery serve, into a temporary folder; the case is then driven
through those clients alone, typed models in and out: Suzhou's window accepts, Bozhou's department
handles, the materials and the result travel by the simulated carrier (the carrier's own signed
webhook, not a locality system's call). The agreements and the catalogue item are set up as in the
other flows (tests/support/flows.py).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from tests.integration.conftest import REGIONAL, System, SystemFactory
from tests.support.flows import BOZHOU, ITEM, MATERIALS, SUZHOU, carrier_of
from tongban.simulator import simulate
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.patience import patience

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


async def generate(system: System, service: str, work: Path) -> str:
    """Generate the client of a running service from the document it serves; the package's name."""
    async with httpx.AsyncClient(timeout=10 * patience()) as http:
        document = await http.get(system.url(service) + "/openapi.json")
    assert document.status_code == 200
    (work / f"{service}.json").write_text(document.text)
    package = f"generated_{service}_client"
    (work / f"{service}.yaml").write_text(f"package_name_override: {package}\npost_hooks: []\n")
    process = await asyncio.create_subprocess_exec(
        str(GENERATOR), "generate", "--path", f"{service}.json", "--config", f"{service}.yaml", "--meta", "none",
        "--output-path", package, cwd=work, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode(errors="replace")
    return package


def module(package: str, name: str) -> ModuleType:
    """A module of a generated package."""
    return importlib.import_module(f"{package}.{name}")


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait (patiently) until ``check`` holds."""
    await wait_for(check, timeout=30)


async def test_a_client_generated_from_the_documents_runs_an_accepted_here_handled_there_case(
    start_system: SystemFactory, tmp_path: Path
) -> None:
    system = await start_system()
    await activate(system, [SUZHOU, BOZHOU])
    async with httpx.AsyncClient(timeout=10, headers=await system.headers(REGIONAL)) as http:
        catalogue = system.url("catalogue")
        assert (await http.post(f"{catalogue}/v1/items", json=ITEM)).status_code == 201
        assert (await http.post(f"{catalogue}/v1/items/{ITEM['code']}/publish")).status_code == 200

    sys.path.insert(0, str(tmp_path))
    try:
        routing_pkg = await generate(system, "routing", tmp_path)
        delivery_pkg = await generate(system, "delivery", tmp_path)
        await run_case(system, routing_pkg, delivery_pkg)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.startswith("generated_")]:
            del sys.modules[name]


async def run_case(system: System, routing_pkg: str, delivery_pkg: str) -> None:
    """The case, through the generated clients only."""
    client_of = module(routing_pkg, "client").AuthenticatedClient
    models = module(routing_pkg, "models")
    submit = module(routing_pkg, "api.cases.submit_case")
    move = module(routing_pkg, "api.cases.transition_case")
    read = module(routing_pkg, "api.cases.get_case")
    waybills_of = module(delivery_pkg, "api.waybills.list_waybills")
    confirm = module(delivery_pkg, "api.waybills.receipt")
    delivery_models = module(delivery_pkg, "models")

    suzhou = client_of(base_url=system.url("routing"), token=await system.token(SUZHOU))
    bozhou = client_of(base_url=system.url("routing"), token=await system.token(BOZHOU))
    suzhou_post = module(delivery_pkg, "client").AuthenticatedClient(
        base_url=system.url("delivery"), token=await system.token(SUZHOU))
    bozhou_post = module(delivery_pkg, "client").AuthenticatedClient(
        base_url=system.url("delivery"), token=await system.token(BOZHOU))

    body = models.CaseSubmission.from_dict({
        "item_code": ITEM["code"], "mode": "accepted_here_handled_there",
        "ownership": {"insured_place": [BOZHOU]}, "applicant_id": "11010519491231002X",
        "materials": [{"name": f"材料 {i}", "form": "electronic", "sha256": h} for i, h in enumerate(MATERIALS)]})
    created: list[Any] = []

    async def submitted() -> bool:  # routing may not have heard of the item yet
        created.append(await submit.asyncio_detailed(client=suzhou, body=body, idempotency_key="generated-1"))
        return bool(created[-1].status_code == 201)

    await until(submitted)
    case = created[-1].parsed
    assert isinstance(case, models.CaseView), created[-1].content
    assert created[-1].headers["Location"] == f"/v1/cases/{case.id}"
    assert case.status == models.CaseStatus.SUBMITTED and case.owners == [BOZHOU]
    assert case.submitted_at.utcoffset() is not None and case.due_on is None

    async def step(client: Any, action: str, reached: str) -> None:
        """Take an action unless routing already took it on delivery's event (then the case is there)."""
        # The actions are an enum in the document (issue 16: an unknown action is 422), so in the client too.
        answer = await move.asyncio_detailed(case.id, client=client,
                                             body=models.Transition(action=models.TransitionAction(action)))
        if answer.status_code == 409:
            assert isinstance(answer.parsed, models.Problem) and answer.parsed.type.endswith("illegal-transition")
            assert await status_of(client) == reached
            return
        assert answer.status_code == 200 and isinstance(answer.parsed, models.CaseView), answer.content
        assert answer.parsed.status.value == reached

    async def status_of(client: Any) -> str:
        detail = (await read.asyncio_detailed(case.id, client=client)).parsed
        assert isinstance(detail, models.CaseDetail)
        return str(detail.status.value)

    await step(suzhou, "accept", "accepted")
    await step(suzhou, "forward", "forwarded")

    found: list[Any] = []

    async def waybill(flow: str, client: Any) -> bool:
        answer = await waybills_of.asyncio_detailed(client=client, case_id=case.id)
        assert answer.status_code == 200, answer.content
        found[:] = [w for w in answer.parsed if w.flow == flow]
        return bool(found)

    await until(lambda: waybill("materials", suzhou_post))
    materials = found[0]
    assert (materials.sender_locality, materials.receiver_locality) == (SUZHOU, BOZHOU)
    carrier = await carrier_of(system, SUZHOU)
    async with carrier.http:
        report = await simulate(carrier, [materials.number], scenario="delivered", speed=500_000, seed=3)
        assert report.statuses == {materials.number: "delivered"}, report.summary()
        receipt = await confirm.asyncio_detailed(materials.number, client=bozhou_post,
                                                 body=delivery_models.Receipt(material_hashes=list(MATERIALS)))
        assert receipt.status_code == 200 and receipt.parsed.outcome == "confirmed", receipt.content

        async def case_is(reached: str) -> bool:
            return await status_of(suzhou) == reached

        await until(lambda: case_is("received"))
        for action, reached in (("start_review", "under_review"), ("approve", "approved"),
                                ("issue_result", "result_issued")):
            await step(bozhou, action, reached)
        await until(lambda: waybill("result", bozhou_post))
        report = await simulate(carrier, [found[0].number], scenario="delivered", speed=500_000, seed=4)
        assert report.statuses == {found[0].number: "delivered"}, report.summary()
        await until(lambda: case_is("result_delivered"))
    await step(suzhou, "close", "closed")

    detail = (await read.asyncio_detailed(case.id, client=bozhou)).parsed
    assert isinstance(detail, models.CaseDetail) and detail.status == models.CaseStatus.CLOSED
    assert [s.action for s in detail.timeline] == [
        "submit", "accept", "forward", "receive", "start_review", "approve", "issue_result", "deliver_result", "close"]
    assert all(isinstance(s.at, datetime) and s.at.utcoffset() is not None for s in detail.timeline)
    assert detail.accepted_on is not None and detail.due_on is not None and detail.due_on >= detail.accepted_on
    assert sorted(m.sha256 for m in detail.materials) == sorted(MATERIALS)
