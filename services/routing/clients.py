"""Routing's clients of the other services, over REST with the caller's own token forwarded.

The authorization service answers whether a locality may accept an item for another and attests
acceptances; the catalogue serves items that routing has not yet heard of through events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from shared.auth import Caller
from shared.problems import Problem


@dataclass(frozen=True)
class DelegationAnswer:
    """The authorization service's decision."""

    allowed: bool
    reason: str
    agreement_id: str | None


class UpstreamUnavailable(Problem):
    """Another service did not answer: 503, retry."""

    status, slug, title = 503, "upstream-unavailable", "A service routing depends on is unavailable"


class _Client:
    def __init__(self, name: str, base_url: str, timeout: float = 5.0) -> None:
        self.name = name
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def _call(self, method: str, path: str, caller: Caller, ok: tuple[int, ...] = (200,),
                    **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(
                method, path, headers={"Authorization": f"Bearer {caller.token}"}, **kwargs
            )
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(f"cannot reach the {self.name} service: {type(exc).__name__}",
                                      headers={"Retry-After": "2"}) from exc
        if response.status_code not in ok:
            raise UpstreamUnavailable(
                f"the {self.name} service answered {response.status_code}: {response.text[:200]}",
                headers={"Retry-After": "2"},
            )
        return response


class AuthorizationClient(_Client):
    """The authorization service."""

    def __init__(self, base_url: str) -> None:
        super().__init__("authorization", base_url)

    async def may_accept(self, caller: Caller, owner: str, item: str, area: str | None, mode: str,
                         right: str = "receive_accept") -> DelegationAnswer:
        """The delegation decision: does the caller's locality hold ``right`` (one of the four delegated
        rights; receiving and accepting by default) for ``owner``'s ``item`` in ``mode``?"""
        params = {"acceptor": caller.locality, "owner": owner, "item": item, "mode": mode, "right": right}
        if area:
            params["area"] = area
        body = (await self._call("GET", "/v1/delegations/check", caller, params=params)).json()
        return DelegationAnswer(bool(body["allowed"]), str(body["reason"]), body.get("agreement_id"))

    async def verify_licence(self, caller: Caller, reference: dict[str, Any]) -> dict[str, Any]:
        """The issuing locality's verification of an electronic licence (valid, or refused and why)."""
        answer: dict[str, Any] = (await self._call("POST", "/v1/licences/verify", caller, json=reference)).json()
        return answer

    async def issue_licence(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        """An electronic licence signed with the caller's locality key; its refusal passed on as a problem."""
        response = await self._call("POST", "/v1/licences", caller, ok=(201, 403, 409, 422), json=body)
        answer: dict[str, Any] = response.json()
        if response.status_code != 201:
            raise Problem(f"the licence was not issued: {answer.get('detail', '')}", status=response.status_code,
                          slug="licence-not-issued", title="Licence not issued")
        return answer

    async def attest(self, caller: Caller, claims: dict[str, Any]) -> str:
        """An acceptance attestation signed with the caller's locality key; its id."""
        response = await self._call("POST", "/v1/attestations", caller, ok=(201,), json=claims)
        return str(response.json()["attestation_id"])


class CatalogueClient(_Client):
    """The catalogue service."""

    def __init__(self, base_url: str) -> None:
        super().__init__("catalogue", base_url)

    async def item(self, caller: Caller, code: str) -> dict[str, Any] | None:
        """An item as the catalogue holds it, or None when it has no such item."""
        response = await self._call("GET", f"/v1/items/{code}", caller, ok=(200, 404))
        if response.status_code == 404:
            return None
        item: dict[str, Any] = response.json()
        standards = await self._call("GET", f"/v1/items/{code}/standards", caller, ok=(200, 404))
        item["materials_by_locality"] = {} if standards.status_code == 404 else {
            s["locality"]: [{k: m[k] for k in ("name", "form", "count", "electronic_accepted", "commitment") if k in m}
                            for m in s.get("materials", [])] for s in standards.json().get("standards", [])}
        return item
