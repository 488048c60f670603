"""Routing's remembered delegation decisions (services/routing/delegations.py), on real processes.

Routing remembers allowing decisions for ten minutes here, so that only an event can make it forget:
every case is still audited once in the accepting locality's chain (the first by the check the
authorization service answered, the others by ``DelegationDecisionUsed``), and once the agreement is
suspended the next submissions are refused, with the refusal audited by the authorization service.
"""

from __future__ import annotations

import json

import httpx

from tests.integration.conftest import SystemFactory
from tongban.testbed.kafka_io import wait_for
from tongban.testbed.world import ITEM_CODE, B, S, prepare, query, submission


async def test_remembered_decisions_are_audited_and_forgotten_when_the_agreement_changes(
        start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing", "authorization",
                                env={"TONGBAN_DELEGATION_CACHE_SECONDS": "600"})
    await prepare(system)
    audit_db = system.database_urls["authorization"]
    async with httpx.AsyncClient(timeout=15) as http:
        headers = await system.headers(S)

        async def submit() -> httpx.Response:
            return await http.post(system.url("routing") + "/v1/cases", json=submission(B), headers=headers)

        first: list[str] = []

        async def taken() -> bool:  # routing has heard of the item
            answer = await submit()
            if answer.status_code == 201:
                first.append(answer.json()["id"])
            return answer.status_code == 201

        await wait_for(taken, timeout=60, interval=0.3)
        cases = [first[0]]
        for _ in range(4):
            answer = await submit()
            assert answer.status_code == 201, answer.text
            cases.append(answer.json()["id"])

        subject = f"{S}->{B}:{ITEM_CODE}"

        async def checks() -> list[dict[str, object]]:
            rows = await query(audit_db, "SELECT locality, outcome, detail FROM audit_log "
                                         "WHERE action = 'delegation.checked' AND subject = :subject", subject=subject)
            return [{"locality": r[0], "outcome": r[1], **(r[2] if isinstance(r[2], dict) else json.loads(r[2]))}
                    for r in rows]

        async def every_use_audited() -> bool:
            return sum(c.get("by") == "routing" for c in await checks()) >= len(cases) - 1

        await wait_for(every_use_audited, timeout=60, interval=0.5)
        entries = await checks()
        used = [c for c in entries if c.get("by") == "routing"]
        asked = [c for c in entries if c.get("by") != "routing"]
        # One check answered by the authorization service, then one audit line per case taken under it.
        assert len(asked) == 1 and asked[0]["outcome"] == "allowed", asked
        assert sorted(c["case_id"] for c in used) == sorted(cases[1:]), used
        assert all(c["locality"] == S and c["outcome"] == "allowed" and c["agreement"] for c in used), used
        agreement_id = used[0]["agreement"]

        suspended = await http.post(system.url("authorization") + f"/v1/agreements/{agreement_id}/acts",
                                    json={"kind": "suspend", "reason": "audit of the windows"}, headers=headers)
        assert suspended.status_code == 200, suspended.text

        async def refused() -> bool:  # only AgreementChanged can make routing forget (it remembers 600 s)
            return (await submit()).status_code == 403

        await wait_for(refused, timeout=60, interval=0.3)
        answer = await submit()
        assert answer.status_code == 403 and answer.json()["type"].endswith("no-delegation"), answer.text
        denied = [c for c in await checks() if c["outcome"] == "denied"]
        assert denied and all(c.get("by") != "routing" for c in denied), "refusals are asked and audited there"
