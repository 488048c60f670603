"""The window's rules around a case, as the service layer applies them (issue 16): the delegated right
each action needs, the owner's business standard at acceptance, the one-time notice and its answer, the
applicant and agent, the query code, the person behind each step.

Each loads what it needs through the repositories and asks the domain (services/routing/domain/); the
transitions and the routes of services/routing/api/ call them.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from services.routing.clients import AuthorizationClient
from services.routing.commitments.domain import replaced
from services.routing.commitments.store import CommitmentRepository, to_commitment
from services.routing.delegations import record_uses
from services.routing.domain import Case, Material
from services.routing.domain.applicants import Agent, Applicant, InvalidParty
from services.routing.domain.cases import RIGHT_OF_ACTION, CaseRuleBroken
from services.routing.domain.notices import Notice, answer, issue
from services.routing.domain.standard import shortfalls
from services.routing.store import CaseRow
from services.routing.store_reference import KnownItemRepository
from shared import clock
from shared.auth import Caller
from shared.keys import ServiceKeys
from shared.masking import mask_text
from shared.problems import Forbidden, Problem
from shared.sealing import open_text
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.routing")


def today() -> date:
    """The date in China, on the system's clock."""
    return clock.current().today()


PARTIES_KEY = "applicant-seal"
"""Routing's own key (versioned) that seals the applicant's and the agent's personal fields."""


def parties_context(case_id: str) -> str:
    """What a case's sealed parties are bound to."""
    return f"case:{case_id}:parties"


QUERY_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""The query code's characters: no 0/O nor 1/I, so that it reads back from paper (32: 5 bits each)."""


def new_query_code() -> str:
    """A fresh status-query code: 10 characters, 50 random bits (with the rate limit, not guessable)."""
    import secrets

    return "".join(secrets.choice(QUERY_ALPHABET) for _ in range(10))


def query_code_context(case_id: str) -> str:
    """What a case's sealed query code is bound to."""
    return f"case:{case_id}:query-code"


def query_code(keys: ServiceKeys, row: CaseRow) -> str | None:
    """The case's status-query code (None before acceptance)."""
    if row.query_code_sealed is None:
        return None
    return open_text(keys.keyset(PARTIES_KEY), row.query_code_sealed, query_code_context(row.id))

def rule_problem(exc: CaseRuleBroken) -> Problem:
    """The problem+json answer of a broken case rule."""
    return Problem(str(exc), status=exc.status, slug=exc.slug, title=exc.title, **exc.extra)

def the_parties(body: dict[str, Any], material_names: list[str]) -> dict[str, Applicant | Agent]:
    """The applicant and agent a submission names (422 when they break the rules)."""
    parties: dict[str, Applicant | Agent] = {}
    try:
        if body.get("applicant"):
            parties["applicant"] = Applicant.of(body["applicant"], body["applicant_id"], today())
        if body.get("agent"):
            if "applicant" not in parties:
                raise InvalidParty("an agent acts for an applicant: name the applicant too")
            parties["agent"] = Agent.of(body["agent"], material_names, today())
    except InvalidParty as exc:
        raise Problem(str(exc), status=422, slug="invalid-party", title="Invalid applicant or agent") from exc
    return parties


async def require_right(uow: UnitOfWork, authorization: AuthorizationClient, caller: Caller, case: Case,
                        action: str) -> None:
    """403 unless the caller's locality holds the delegated right ``action`` needs for every owner it acts for."""
    right = RIGHT_OF_ACTION.get(action)
    if right is None:
        return
    item = await KnownItemRepository(uow.session).get(case.item_code)
    for owner in (o for o in case.owners if o != caller.locality):
        answer = await authorization.may_accept(caller, owner, case.item_code, item.area if item else None,
                                                case.mode, right)
        if not answer.allowed:
            raise Forbidden(answer.reason, slug="right-not-delegated", title="Right not delegated", right=right,
                            owner=owner)
    record_uses(uow, case.id)  # a remembered decision's audit line travels with the action's transaction


def supplement_materials(case: Case, notices: list[Notice], detail: dict[str, Any]) -> list[Material]:
    """The materials a supplement adds, numbered by the notice it answers (422 when one breaks the rules)."""
    number = next((n.number for n in notices if n.open and n.kind == "supplement"), 0)
    try:
        return [Material.from_dict({**m, "supplement": number}) for a in detail.get("answers") or []
                for m in a.get("added") or []]
    except ValueError as exc:
        raise Problem(str(exc), status=422, slug="invalid-material", title="Invalid material") from exc


def notice_step(case: Case, notices: list[Notice], action: str, by_locality: str, detail: dict[str, Any],
                added: list[Material], step_detail: dict[str, Any]) -> list[dict[str, Any]]:
    """The case's notices after the step: ``request_supplement`` issues the one-time notice (its list is
    required), ``supplement`` answers it line by line."""
    now = clock.current().now().isoformat()
    if action == "request_supplement":
        lines = [{**x, "reason": mask_text(str(x.get("reason", "")))} for x in detail.get("notice") or []]
        notice = issue(notices, "supplement", by_locality, lines, now, step_detail.get("clerk"))
        notices = [*notices, notice]
        step_detail["notice"] = notice.number
    elif action == "supplement":
        current = next((n for n in notices if n.open and n.kind == "supplement"), None)
        if current is not None:
            answered = answer(current, list(detail.get("answers") or []), added, now)
            notices = [answered if n.number == current.number else n for n in notices]
            step_detail["notice"] = current.number
            step_detail["added"] = [m.name for m in added]
    return [n.as_dict() for n in notices]


async def require_standard(uow: UnitOfWork, case: Case) -> None:
    """422 with the list of what is missing unless the materials meet every owner's business standard."""
    item = await KnownItemRepository(uow.session).get(case.item_code)
    standards = (item.materials_by_locality or {}) if item else {}
    declared = [m.to_dict() for m in case.materials]
    missing = [s.as_dict() for owner in case.owners for s in shortfalls(owner, standards.get(owner, []), declared)]
    committed = replaced([to_commitment(r) for r in await CommitmentRepository(uow.session).of_case(case.id)])
    missing = [m for m in missing if (m["owner"], m["name"]) not in committed]  # a commitment stands in (告知承诺制)
    if missing:
        listed = "; ".join(f"{m['name']}（{m['reason']}）" for m in missing)
        raise Problem(f"the materials do not meet the owner's business standard: {listed}", status=422,
                      slug="materials-missing", title="Materials missing", missing=missing)


def clerk_of(caller: Caller, clerk: dict[str, Any] | None) -> dict[str, str]:
    """The person behind an action: the client, and the clerk's id and name as the locality system asserts."""
    person = {"client_id": caller.client_id}
    if clerk:
        person.update({"id": str(clerk["id"]), "name": str(clerk["name"])})
    return person
