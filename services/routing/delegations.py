"""Delegation decisions routing remembers, so that a case costs no call to the authorization service.

The authorization service answers ``GET /v1/delegations/check`` and audits that answer. Routing
remembers an *allowing* answer under the caller's locality and every request parameter of the
check (a parameter added to the check becomes part of the key without a change here), for
``TONGBAN_DELEGATION_CACHE_SECONDS``, and forgets every answer at once when it reads an event that
may change one (an agreement drafted, signed, suspended, resumed or terminated; a client revoked).
A denial is never remembered: it is asked again each time.

Each case taken under a remembered answer carries that decision's audit line as a
``DelegationDecisionUsed`` event in the case's own transaction (outbox): the authorization service
records it in the actor's audit chain, so every decision is still audited, and only cases that
were really taken are.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from services.routing.clients import AuthorizationClient
from shared.auth import Caller
from shared.contracts.authorization import AgreementChanged, ClientRevoked
from shared.contracts.routing import DelegationDecisionUsed
from shared.envelope import Envelope, Event
from shared.service import ServiceContext
from shared.uow import UnitOfWork

CHECK_PATH = "/v1/delegations/check"
FORGET_ON = (AgreementChanged, ClientRevoked)
"""Events after which no remembered decision is trusted."""


@dataclass(frozen=True)
class Remembered:
    """An allowing answer of the authorization service."""

    body: dict[str, Any]
    decided_at: datetime
    expires: float


@dataclass(frozen=True)
class _Use:
    caller: Caller
    question: dict[str, str]
    answer: Remembered


_uses: ContextVar[list[_Use] | None] = ContextVar("tongban_delegation_uses", default=None)
"""The remembered decisions the current request used (one request is one task, one context)."""


class DecisionCache:
    """Allowing decisions by (caller's locality, the check's parameters), for a few seconds."""

    def __init__(self, seconds: float, limit: int = 10_000) -> None:
        self.seconds, self.limit = seconds, limit
        self._entries: dict[tuple[str, tuple[tuple[str, str], ...]], Remembered] = {}
        self.hits = self.misses = self.cleared = 0

    @staticmethod
    def key(locality: str, params: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
        return locality, tuple(sorted(params.items()))

    def get(self, locality: str, params: dict[str, str]) -> Remembered | None:
        found = self._entries.get(self.key(locality, params))
        if found is None or found.expires <= time.monotonic():
            self.misses += 1
            return None
        self.hits += 1
        return found

    def put(self, locality: str, params: dict[str, str], body: dict[str, Any]) -> None:
        if self.seconds <= 0 or body.get("allowed") is not True:
            return
        if len(self._entries) >= self.limit:
            self._entries.clear()
        self._entries[self.key(locality, params)] = Remembered(dict(body), datetime.now(UTC),
                                                               time.monotonic() + self.seconds)

    def clear(self) -> None:
        """Forget every decision (an agreement or a client changed)."""
        self._entries.clear()
        self.cleared += 1

    def observe(self, _envelope: Envelope, event: Event) -> None:
        """Forget on every event that may change a decision, whichever topic it came on."""
        if isinstance(event, FORGET_ON):
            self.clear()


class CachingAuthorizationClient(AuthorizationClient):
    """The authorization client, answering delegation checks it has seen allowed from memory."""

    def __init__(self, base_url: str, cache: DecisionCache) -> None:
        super().__init__(base_url)
        self.cache = cache
        self._asking: dict[tuple[str, tuple[tuple[str, str], ...]], asyncio.Future[dict[str, Any]]] = {}
        """Checks in flight: requests that need the same answer meanwhile wait for it (asked once)."""

    async def _call(self, method: str, path: str, caller: Caller, ok: tuple[int, ...] = (200,),
                    **kwargs: Any) -> httpx.Response:
        if method != "GET" or path != CHECK_PATH or self.cache.seconds <= 0:
            return await super()._call(method, path, caller, ok, **kwargs)
        params = {str(k): str(v) for k, v in (kwargs.get("params") or {}).items()}
        remembered = self.cache.get(caller.locality, params)
        key = self.cache.key(caller.locality, params)
        if remembered is None and key in self._asking:  # the same question is being asked: wait for its answer
            with contextlib.suppress(Exception):
                await asyncio.shield(self._asking[key])
            remembered = self.cache.get(caller.locality, params)
        if remembered is not None:
            uses = _uses.get()
            if uses is None:
                uses = []
                _uses.set(uses)
            uses.append(_Use(caller, params, remembered))
            return httpx.Response(200, json=remembered.body)
        asked: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._asking[key] = asked
        try:
            response = await super()._call(method, path, caller, ok, **kwargs)
            body = response.json()
            self.cache.put(caller.locality, params, body)  # audited by the authorization service
            asked.set_result(body)
            return response
        except BaseException as exc:
            asked.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
            asked.exception()  # retrieved: the waiters ask on their own
            raise
        finally:
            if self._asking.get(key) is asked:
                del self._asking[key]


def record_uses(uow: UnitOfWork, case_id: str) -> None:
    """Publish, in the case's transaction, the audit line of each remembered decision the request used."""
    uses = _uses.get()
    if not uses:
        return
    _uses.set(None)
    now = datetime.now(UTC)
    for use in uses:
        body = use.answer.body
        uow.publish(DelegationDecisionUsed(
            case_id=case_id, actor_locality=use.caller.locality, actor=use.caller.client_id, question=use.question,
            allowed=bool(body["allowed"]), reason=str(body["reason"]), agreement_id=body.get("agreement_id"),
            decided_at=use.answer.decided_at, used_at=now), [use.caller.locality])


def forget_on(ctx: ServiceContext, envelope: Envelope, event: Event) -> None:
    """The routing service's event observer: the decision cache forgets on agreement and client changes."""
    cache: DecisionCache | None = ctx.state.get("delegations")
    if cache is not None:
        cache.observe(envelope, event)
