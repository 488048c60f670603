"""Cooperation agreements for tests: drafted by one party and signed by each through its own credential."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx

ALL_MODES = ["fully_online", "accepted_here_handled_there", "joint_handling"]
AREAS = ["market_supervision", "social_security", "medical_insurance", "archive_query"]


class HasTokens(Protocol):
    """Anything that hands out bearer headers per locality and knows the authorization URL."""

    def url(self, service: str) -> str: ...

    async def headers(self, locality: str, scope: str | None = None) -> dict[str, str]: ...


Permissions = Sequence[tuple[str, str, Sequence[str]]]


async def draft(
    system: HasTokens, parties: Sequence[str], permissions: Permissions, items: Sequence[str] = (),
    areas: Sequence[str] = AREAS, title: str = "Test agreement", now: datetime | None = None,
) -> dict[str, Any]:
    """An agreement drafted by the first party, valid from the day before ``now`` (default: the real now)."""
    now = now or datetime.now(UTC)
    body = {
        "title": title, "text": "The parties agree to handle each other's business at their windows.",
        "parties": list(parties), "items": list(items), "areas": list(areas),
        "permissions": [{"acceptor": a, "owner": o, "modes": list(m)} for a, o, m in permissions],
        "valid_from": (now - timedelta(days=1)).isoformat(), "valid_until": (now + timedelta(days=365)).isoformat(),
    }
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(system.url("authorization") + "/v1/agreements", json=body,
                                   headers=await system.headers(parties[0]))
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def sign(system: HasTokens, agreement: dict[str, Any], party: str) -> httpx.Response:
    """One party signs the canonical form it reviewed."""
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(
            system.url("authorization") + f"/v1/agreements/{agreement['id']}/signatures",
            json={"canonical_sha256": agreement["canonical_sha256"]}, headers=await system.headers(party),
        )


async def activate(system: HasTokens, parties: Sequence[str],
                   permissions: Permissions | None = None, **kwargs: Any) -> dict[str, Any]:
    """An agreement signed by every party (by default: every party may accept for every other, in every mode)."""
    perms = permissions if permissions is not None else [
        (a, o, ALL_MODES) for a in parties for o in parties if a != o
    ]
    agreement = await draft(system, parties, perms, **kwargs)
    for party in parties:
        response = await sign(system, agreement, party)
        assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"
    result: dict[str, Any] = response.json()
    return result
