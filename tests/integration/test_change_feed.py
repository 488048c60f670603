"""The change feed of routing (``GET /v1/cases?updated_since=``) on processes with Kafka and PostgreSQL.

Many cases change at nearly the same moment from concurrent requests; paging the feed in small pages
returns each case changed since a time exactly once, and a later poll from the last cursor returns
exactly the cases changed after it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.integration.conftest import REGIONAL, SystemFactory
from tests.support.cases import BOZHOU, ITEM, SUBMISSION, SUZHOU, YANGPU
from tongban.testbed.agreements import activate
from tongban.testbed.kafka_io import wait_for


async def read_feed(http: httpx.AsyncClient, url: str, params: dict[str, Any]) -> tuple[list[str], str, int]:
    """Every page of the feed from ``params``: the case ids in order, the last cursor, the number of pages."""
    ids: list[str] = []
    pages = 0
    while True:
        page = await http.get(url, params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        pages += 1
        ids += [c["id"] for c in body["cases"]]
        params = {"cursor": body["next_cursor"], "limit": params.get("limit", 50)}
        if not body["has_more"]:
            return ids, body["next_cursor"], pages


async def test_change_feed_returns_every_changed_case_once_across_pages(start_system: SystemFactory) -> None:
    system = await start_system("catalogue", "routing", "authorization")
    await activate(system, [SUZHOU, BOZHOU])
    routing = system.url("routing") + "/v1/cases"
    async with httpx.AsyncClient(timeout=30, headers=await system.headers(SUZHOU)) as http:
        catalogue = system.url("catalogue")
        assert (await http.post(f"{catalogue}/v1/items", json=ITEM,
                                headers=await system.headers(REGIONAL))).status_code == 201
        assert (await http.post(f"{catalogue}/v1/items/{ITEM['code']}/publish",
                                   headers=await system.headers(REGIONAL))).status_code == 200

        async def routing_knows_item() -> bool:  # a first case, before the time the feed starts from
            return (await http.post(routing, json=SUBMISSION)).status_code == 201

        await wait_for(routing_knows_item, timeout=60, interval=0.5)
        since = datetime.now(UTC)
        limit = asyncio.Semaphore(8)

        async def call(url: str, body: dict[str, Any]) -> httpx.Response:
            """A request retried with its Idempotency-Key while routing answers 503 (a loaded machine)."""
            key = str(uuid.uuid4())
            async with limit:
                for _ in range(10):
                    answer = await http.post(url, json=body, headers={"Idempotency-Key": key})
                    if answer.status_code != 503:
                        return answer
                    await asyncio.sleep(1)
            return answer

        async def submit() -> str:
            created = await call(routing, SUBMISSION)
            assert created.status_code == 201, created.text
            return str(created.json()["id"])

        async def accept(case_id: str) -> None:
            moved = await call(f"{routing}/{case_id}/transitions", {"action": "accept"})
            assert moved.status_code == 200, moved.text

        created = list(await asyncio.gather(*(submit() for _ in range(60))))
        await asyncio.gather(*(accept(c) for c in created[::2]))  # half of them change a second time

        ids, cursor, pages = await read_feed(http, routing, {"updated_since": since.isoformat(), "limit": 7})
        assert pages >= 9
        assert len(ids) == len(set(ids)), "a case was repeated across pages"
        assert set(ids) == set(created), "a case was missed (or one from before the time was included)"

        # The same in pages of another size, and from a time zone of its own.
        local = since.astimezone(datetime.now().astimezone().tzinfo).isoformat()
        again, _cursor, _pages = await read_feed(http, routing, {"updated_since": local, "limit": 13})
        assert again == ids

        # Polling on from the last cursor: exactly the cases changed since, once each.
        empty = (await http.get(routing, params={"cursor": cursor})).json()
        assert empty["cases"] == [] and empty["next_cursor"] == cursor and empty["has_more"] is False
        later = created[1::2][:5]
        await asyncio.gather(*(accept(c) for c in later))
        polled, _cursor, _pages = await read_feed(http, routing, {"cursor": cursor, "limit": 2})
        assert sorted(polled) == sorted(later)

        # A locality sees only its own cases; a bad cursor or a time without zone is a problem.
        yangpu = await system.headers(YANGPU)
        assert (await http.get(routing, params={"updated_since": since.isoformat()}, headers=yangpu)).json()[
            "cases"] == []
        for params in ({"cursor": "WyJmZWVkIiwgIm5vIl0"}, {"updated_since": "2026-12-01T08:00:00"},
                       {"updated_since": (since + timedelta(days=1)).isoformat(), "cursor": cursor}):
            bad = await http.get(routing, params=params)
            assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
