"""Routing's client of the authorization service: may this locality accept this item for that owner?"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from shared.auth import Caller
from shared.problems import Problem


@dataclass(frozen=True)
class DelegationAnswer:
    """The authorization service's decision."""

    allowed: bool
    reason: str
    agreement_id: str | None


class AuthorizationUnavailable(Problem):
    """The authorization service did not answer: 503, retry."""

    status, slug, title = 503, "authorization-unavailable", "Authorization service unavailable"


class AuthorizationClient:
    """Asks the authorization service, forwarding the caller's own token (tenant checks stay there)."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def may_accept(
        self, caller: Caller, owner: str, item: str, area: str | None, mode: str
    ) -> DelegationAnswer:
        """The delegation decision for the caller's locality accepting ``item`` for ``owner``."""
        params = {"acceptor": caller.locality, "owner": owner, "item": item, "mode": mode}
        if area:
            params["area"] = area
        try:
            response = await self._http.get(
                "/v1/delegations/check", params=params, headers={"Authorization": f"Bearer {caller.token}"}
            )
        except httpx.HTTPError as exc:
            raise AuthorizationUnavailable(f"cannot reach the authorization service: {type(exc).__name__}",
                                           headers={"Retry-After": "2"}) from exc
        if response.status_code != 200:
            raise AuthorizationUnavailable(
                f"the authorization service answered {response.status_code}", headers={"Retry-After": "2"}
            )
        body = response.json()
        return DelegationAnswer(bool(body["allowed"]), str(body["reason"]), body.get("agreement_id"))
