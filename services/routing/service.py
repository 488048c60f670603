"""Use cases of the routing service: submit and move cases, keep their deadlines, answer with figures."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.routing.clients import AuthorizationClient, CatalogueClient
from services.routing.commitments import service as commitments
from services.routing.deadlines import CalendarKeeper, set_deadline
from services.routing.delegations import record_uses
from services.routing.domain import (
    FINISHED,
    TRANSITIONS,
    Case,
    CaseStatus,
    Material,
    applicant_ref,
    owners_for,
)
from services.routing.domain.cases import CaseRuleBroken, Move, joint_owners
from services.routing.domain.notices import Notice
from services.routing.files.service import transition_gate
from services.routing.licences import issue_result_licence, verification_detail, verified_materials
from services.routing.store import CaseRepository, CaseRow, KnownItemRow, to_case
from services.routing.store_reference import IdempotencyRepository, KnownItemRepository
from services.routing.window import (
    PARTIES_KEY,
    clerk_of,
    new_query_code,
    notice_step,
    parties_context,
    query_code_context,
    require_right,
    require_standard,
    rule_problem,
    supplement_materials,
    the_parties,
)
from shared import clock
from shared.api_types import rfc3339
from shared.auth import Caller, InsufficientRole, Role
from shared.contracts.routing import (
    CaseForwarded,
    CaseStatusChanged,
    CaseSubmitted,
)
from shared.keys import Key, KeySet, ServiceKeys
from shared.masking import mask_text
from shared.problems import Forbidden, NotFound, Problem
from shared.sealing import SealError, open_text, seal_json, seal_text
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.routing")
ROLE_OF_SIDE = {"accepting": Role.WINDOW_CLERK, "owning": Role.DEPARTMENT_OFFICER,
                "lead_owner": Role.DEPARTMENT_OFFICER}


def today() -> date:
    """The date in China (UTC+8), where the working days are counted, on the system's clock."""
    return clock.current().today()


# --------------------------------------------------------------------------- idempotency


def request_hash(*parts: Any) -> str:
    """A stable hash of what a request asked for."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


async def idempotent(
    uow: UnitOfWork, caller: Caller, key: str | None, fingerprint: str,
    work: Callable[[], Awaitable[tuple[int, dict[str, Any]]]],
) -> tuple[int, dict[str, Any]]:
    """Run ``work`` once per Idempotency-Key: a retry gets the first response, never a second effect."""
    if key is None:
        status, body = await work()
        await uow.commit()
        return status, body
    if not 1 <= len(key) <= 200:
        raise Problem("Idempotency-Key must be 1 to 200 characters", status=422, slug="invalid-idempotency-key",
                      title="Invalid Idempotency-Key")
    repo = IdempotencyRepository(uow.session)
    stored = await repo.get(caller.client_id, key)
    if stored is None:
        status, body = await work()
        repo.add(caller.client_id, key, fingerprint, status, body)
        try:
            await uow.commit()
            return status, body
        except IntegrityError:
            await uow.rollback()  # the same key raced in: answer as the winner did
            stored = await repo.get(caller.client_id, key)
            if stored is None:
                raise
    if stored.request_hash != fingerprint:
        raise Problem("this Idempotency-Key was used for a different request", status=422,
                      slug="idempotency-key-reused", title="Idempotency-Key reused")
    return stored.status_code, dict(stored.body)


# --------------------------------------------------------------------------- views


REASON_KEY = "reason-seal"
"""Routing's own key that seals the original of a free-text reason holding personal numbers."""
APPLICANT_KEY = "applicant-hash"
"""Routing's own key (versioned) of the applicant hashes."""


def reason_context(case_id: str, sequence: int) -> str:
    """What a sealed reason is bound to: its case and step."""
    return f"case:{case_id}:step:{sequence}:reason"


def original_reason(keys: KeySet, case_id: str, sequence: int, detail: dict[str, Any]) -> str | None:
    """The original of a masked reason, for the parties of the case (None when none was sealed)."""
    sealed = detail.get("reason_sealed")
    if not isinstance(sealed, str):
        return None
    try:
        return open_text(keys, sealed, reason_context(case_id, sequence))
    except SealError:
        log.warning("a sealed reason does not open", extra={"case_id": case_id, "sequence": sequence})
        return None


def case_view(row: CaseRow) -> dict[str, Any]:
    """A case as routing answers about it (applicant masked)."""
    case = to_case(row)
    return {
        "id": case.id, "item_code": case.item_code, "mode": case.mode,
        "accepting_locality": case.accepting_locality, "owning_locality": case.owning_locality,
        "owners": list(case.owners), "parts": {o: s.value for o, s in case.parts},
        "applicant_masked": case.applicant.masked,
        "applicant": (row.parties_masked or {}).get("applicant"), "agent": (row.parties_masked or {}).get("agent"),
        "materials": [m.to_dict() for m in case.materials],
        "status": case.status.value, "reason": case.reason, "sequence": case.sequence,
        "waybill_numbers": list(case.waybill_numbers), "attestation_id": row.attestation_id,
        "originals_checks": list(row.originals_checks or []), "notices": list(row.notices or []),
        "delivery_exception": None if case.delivery_exception is None else {
            "waybill_number": case.delivery_exception.waybill_number,
            "waybill_status": case.delivery_exception.status, "reason": case.delivery_exception.reason},
        "committed_days": row.committed_days,
        "accepted_on": row.accepted_on.isoformat() if row.accepted_on else None,
        "due_on": row.due_on.isoformat() if row.due_on else None,
        "deadline_provisional": row.deadline_provisional,
        "overdue": bool(row.due_on and not row.finished_on and today() > row.due_on),
        "submitted_at": rfc3339(row.submitted_at),
    }


# --------------------------------------------------------------------------- submission


async def known_item(uow: UnitOfWork, catalogue: CatalogueClient, caller: Caller, code: str) -> KnownItemRow | None:
    """The item from routing's cache, or from the catalogue when routing has not heard of it yet."""
    repo = KnownItemRepository(uow.session)
    item = await repo.get(code)
    if item is not None:
        return item
    fetched = await catalogue.item(caller, code)
    if fetched is None or fetched.get("status") != "published":
        return None
    await repo.add_fetched(code, int(fetched.get("revision", 1)), area=str(fetched.get("area", "")),
                           name_zh=str(fetched.get("name_zh", "")), modes=list(fetched.get("modes", [])),
                           ownership_rule=str(fetched.get("ownership_rule", "")),
                           committed_days=int(fetched.get("committed_days", 0)),
                           days_by_locality={str(k): int(v) for k, v in
                                             (fetched.get("committed_days_by_locality") or {}).items()},
                           materials_by_locality=dict(fetched.get("materials_by_locality") or {}),
                           national_code=str(fetched.get("national_code") or ""),
                           implementation_codes={str(k): str(v) for k, v in
                                                 (fetched.get("implementation_codes_by_locality") or {}).items()},
                           licence_types=[{"code": str(t["code"]), "name": str(t["name"])}
                                          for t in fetched.get("licence_types") or ()])
    return await repo.get(code)


async def submit(
    uow: UnitOfWork, caller: Caller, body: dict[str, Any], localities: list[str], applicant_key: Key,
    authorization: AuthorizationClient, catalogue: CatalogueClient,
) -> tuple[int, dict[str, Any]]:
    """Accept a case at the caller's window, for the owner(s) its item's rule names."""
    try:
        applicant = applicant_ref(body["applicant_id"], applicant_key.secret, applicant_key.id, today())
    except ValueError as exc:
        raise Problem(str(exc), status=422, slug="invalid-identifier", title="Invalid identifier") from exc
    item = await known_item(uow, catalogue, caller, body["item_code"])
    if item is None or not item.published:
        raise Problem(f"item {body['item_code']} is in no published list", status=422,
                      slug="item-not-published", title="Item not published")
    mode = body["mode"]
    if mode not in item.modes:
        raise Problem(f"item {item.code} does not support mode {mode}", status=422,
                      slug="mode-not-supported", title="Mode not supported")
    attributes = {k: v for k, v in body["ownership"].items() if v}
    try:
        owners = owners_for(item.ownership_rule, attributes, localities)
    except ValueError as exc:
        raise Problem(str(exc), status=422, slug="owner-not-found", title="No owning locality") from exc
    if mode == "joint_handling":
        try:
            owners = joint_owners(owners, caller.locality)  # the accepting locality handles its own part
        except CaseRuleBroken as exc:
            raise rule_problem(exc) from exc
    if owners == [caller.locality]:
        raise Problem(f"the applicant's {item.ownership_rule} is in {caller.locality}: a local case, not a "
                      "cross-locality one", status=422, slug="local-case", title="Local case")
    if mode != "joint_handling" and len(owners) != 1:
        raise Problem(f"mode {mode} has one owner; the applicant's places name {len(owners)}", status=422,
                      slug="owner-not-found", title="Several owners")
    given = await verified_materials(authorization, caller, list(body["materials"]))  # licences: docs/licences.md
    try:
        materials = tuple(Material.from_dict(m) for m in given)
    except ValueError as exc:
        raise Problem(str(exc), status=422, slug="invalid-material", title="Invalid material") from exc
    for owner in (o for o in owners if o != caller.locality):
        answer = await authorization.may_accept(caller, owner, item.code, item.area, mode, "receive_accept")
        if not answer.allowed:
            raise Forbidden(answer.reason, slug="no-delegation", title="No delegation", right="receive_accept",
                            owner=owner)
    case = Case(
        id=str(uuid.uuid4()), item_code=item.code, mode=mode, accepting_locality=caller.locality,
        owners=tuple(owners), applicant=applicant,
        materials=materials,
    )
    cases = CaseRepository(uow.session)
    by_locality = item.days_by_locality or {}
    committed = max(int(by_locality.get(owner, item.committed_days)) for owner in owners)
    parties = the_parties(body, [m.name for m in materials])
    keys: ServiceKeys = uow.session.info["keys"]
    sealed: dict[str, Any] = {"query_code_sealed": seal_text(keys.keyset(PARTIES_KEY), new_query_code(),
                                                             query_code_context(case.id))}  # receipt, status query
    if parties:
        sealed["parties_sealed"] = seal_json(keys.keyset(PARTIES_KEY), {k: v.as_dict() for k, v in parties.items()},
                                             parties_context(case.id))
        sealed["parties_masked"] = {k: v.masked() for k, v in parties.items()}
    row = await cases.add(case, committed, **sealed)
    await commitments.record(uow, case, item, list(body.get("commitments") or []), body["applicant_id"])
    await cases.add_step(case, "submit", "", caller.locality, caller.client_id,
                         {"owners": owners, "clerk": clerk_of(caller, body.get("clerk")), **verification_detail(given)})
    record_uses(uow, case.id)  # the audit line of each remembered delegation decision, with the case
    uow.publish(
        CaseSubmitted(case_id=case.id, item_code=case.item_code, mode=mode, accepting_locality=caller.locality,
                      owning_localities=list(owners), applicant_masked=applicant.masked,
                      submitted_at=datetime.now(UTC)),
        case.involved,
    )
    await uow.session.flush()
    return 201, case_view(row)


# --------------------------------------------------------------------------- transitions


async def transition(
    uow: UnitOfWork, caller: Caller | None, case_id: str, action: str, by_locality: str, detail: dict[str, Any],
    keeper: CalendarKeeper, authorization: AuthorizationClient | None,
) -> tuple[int, dict[str, Any]]:
    """Move a case; ``caller`` is None when routing moves it on another service's event."""
    cases = CaseRepository(uow.session)
    row = await cases.row(case_id, for_update=True)
    if row is None:
        raise NotFound(f"no case {case_id}")
    case = to_case(row)
    if not case.sides_of(by_locality):
        raise NotFound(f"no case {case_id}")
    if caller is not None and action in TRANSITIONS:
        needed = ROLE_OF_SIDE[TRANSITIONS[action][2].value]
        if not caller.has(needed):
            raise InsufficientRole(f"{action} needs the role {needed.value}")
    if caller is not None and authorization is not None and action in TRANSITIONS:
        await require_right(uow, authorization, caller, case, action)
    if action == "accept":
        await require_standard(uow, case)
    notices = [Notice.of(n) for n in row.notices or []]
    added = supplement_materials(case, notices, detail) if action == "supplement" else []
    if added and not detail.get("material_hashes"):  # the supplement's electronic files must be in first
        detail = {**detail, "material_hashes": [m.sha256 for m in added if m.sha256]}
    result_documents = await transition_gate(uow, case, action, by_locality, detail)  # files the step waits for
    original = str(detail.get("reason", ""))
    masked = mask_text(original)
    handover = mask_text(str(detail.get("handover_reason", "")))
    step_detail = {k: v for k, v in detail.items() if k in ("material_hashes", "waybill_number") and v}
    if original:
        step_detail["reason"] = masked
    if handover:
        step_detail["handover_reason"] = handover
    if caller is not None:
        step_detail["clerk"] = clerk_of(caller, detail.get("clerk"))
    move = Move(action, by_locality, reason=masked, handover_reason=handover,
                material_hashes=tuple(detail.get("material_hashes") or ()),
                waybill_number=str(detail.get("waybill_number") or ""), by_event=caller is None)
    try:
        moved = case.apply(move)
    except CaseRuleBroken as exc:
        raise rule_problem(exc) from exc
    if detail.get("licence") and authorization is not None and caller is not None:  # docs/licences.md
        known = await KnownItemRepository(uow.session).get(case.item_code)
        step_detail["licence"] = await issue_result_licence(
            authorization, caller, case, list(known.licence_types or []) if known else [], dict(detail["licence"]))
    try:
        row.notices = notice_step(case, notices, action, by_locality, detail, added, step_detail)
    except CaseRuleBroken as exc:
        raise rule_problem(exc) from exc
    if added:
        row.materials = [*row.materials, *(m.to_dict() for m in added)]
    if masked != original:  # the parties may read the original; events, dashboard and logs see it masked
        keys: ServiceKeys = uow.session.info["keys"]
        step_detail["reason_sealed"] = seal_text(keys.keyset(REASON_KEY), original,
                                                 reason_context(case.id, moved.sequence))
    day = today()
    extra: dict[str, Any] = {}
    if action == "accept" and authorization is not None and caller is not None:
        row.attestation_id = await authorization.attest(caller, {
            "case_id": case.id, "item_code": case.item_code, "mode": case.mode, "owners": list(case.owners),
            "materials": [m.to_dict() for m in case.materials],
            "clerk": caller.client_id, "accepted_at": clock.current().now().isoformat(),
            **({"clerk_id": step_detail["clerk"]["id"], "clerk_name": step_detail["clerk"]["name"]}
               if "id" in step_detail["clerk"] else {}),
        })
        row.accepted_on = day
    if action == "request_supplement" and moved.status is CaseStatus.SUPPLEMENT_REQUESTED and \
            case.status is not CaseStatus.SUPPLEMENT_REQUESTED:
        row.pauses = [*row.pauses, [day.isoformat(), None]]
    if action == "supplement":
        row.pauses = [[s, e or day.isoformat()] for s, e in row.pauses]
    if moved.status in FINISHED and row.finished_on is None and moved.status is not CaseStatus.SUPPLEMENTED:
        row.finished_on = day
    CaseRepository.write(row, moved)
    await cases.add_step(moved, action, case.status.value, by_locality, caller.client_id if caller else "routing",
                         step_detail)
    result_by_post = case.mode == "accepted_here_handled_there" if moved.status is CaseStatus.RESULT_ISSUED else None
    uow.publish(
        CaseStatusChanged(
            case_id=case.id, from_status=case.status.value, to_status=moved.status.value, by_locality=by_locality,
            sequence=moved.sequence, action=action, mode=case.mode,  # type: ignore[arg-type]
            accepting_locality=case.accepting_locality, owners=list(case.owners), reason=moved.reason,
            attestation_id=row.attestation_id, result_by_post=result_by_post,
            result_documents=result_documents if action == "issue_result" else [],
        ),
        case.involved,
    )
    if action == "forward":
        for owner in case.owners:
            uow.publish(
                CaseForwarded(case_id=case.id, accepting_locality=case.accepting_locality, owning_locality=owner,
                              material_hashes=case.material_hashes, mode=case.mode,  # type: ignore[arg-type]
                              by_post=case.mode == "accepted_here_handled_there"),
                [case.accepting_locality, owner],
            )
    if action in ("accept", "request_supplement", "supplement") and row.accepted_on:
        set_deadline(uow, row, keeper.calendar, day)
    if action == "accept":
        await commitments.open_tasks(uow, moved, keeper.calendar)  # the owners' verification tasks (告知承诺制)
    await uow.session.flush()
    return 200, {**case_view(row), **extra}
