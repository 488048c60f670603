"""Use cases of commitments in place of proofs: record them with a submission, open the owners'
verification tasks at acceptance, record the owner's finding and what a false one does to the case."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime
from typing import Any

from services.routing.commitments.domain import Commitment, end_for_false_commitment, plan
from services.routing.commitments.store import CommitmentRepository, CommitmentRow, to_commitment
from services.routing.domain import Case, WorkingCalendar, applicant_digest
from services.routing.domain.cases import CaseRuleBroken
from services.routing.store import CaseRepository, CaseRow, KnownItemRow, to_case
from services.routing.window import clerk_of, rule_problem, today
from shared.auth import Caller
from shared.contracts.commitments import CommitmentOverdue, CommitmentRecorded, CommitmentVerified
from shared.contracts.routing import CaseResultRevoked, CaseStatusChanged
from shared.keys import ServiceKeys
from shared.masking import mask_text
from shared.problems import Conflict, NotFound
from shared.uow import UnitOfWork

APPLICANT_KEY = "applicant-hash"
"""Routing's key of the applicants' keyed hashes (services/routing/service.py names it too)."""


async def record(uow: UnitOfWork, case: Case, item: KnownItemRow, requested: list[dict[str, Any]],
                 applicant_id: str) -> list[Commitment]:
    """Record a submission's commitments (422 when one may not replace what it names, its text is not the
    published one, or the applicant's record for the item excludes the option)."""
    if not requested:
        return []
    keys: ServiceKeys = uow.session.info["keys"]
    digests = [applicant_digest(applicant_id, k.secret) for k in keys.keyset(APPLICANT_KEY).versions]
    repo = CommitmentRepository(uow.session)
    excluded = await repo.has_false_record(digests, case.item_code)
    try:
        planned = plan(case, requested, dict(item.materials_by_locality or {}), excluded, uuid.uuid4)
    except CaseRuleBroken as exc:
        raise rule_problem(exc) from exc
    for commitment in planned:
        repo.add(commitment)
    return planned


async def open_tasks(uow: UnitOfWork, case: Case, calendar: WorkingCalendar) -> None:
    """At acceptance: each commitment's verification task, due ``verify_days`` working days on."""
    day = today()
    for row in await CommitmentRepository(uow.session).of_case(case.id, for_update=True):
        if row.status != "pending" or row.due_on is not None:
            continue
        row.due_on, _provisional = calendar.add_working_days(day, row.verify_days)
        uow.publish(CommitmentRecorded(
            commitment_id=row.id, case_id=case.id, item_code=case.item_code, owner=row.owner,
            accepting_locality=case.accepting_locality, replaces=list(row.replaces),
            text_sha256=hashlib.sha256(row.text.encode()).hexdigest(), due_on=row.due_on), case.involved)


async def scan_overdue(uow: UnitOfWork, day: date) -> int:
    """Tell each verification past its due day, once, to the case's localities; how many were told."""
    rows = await CommitmentRepository(uow.session).overdue(day)
    for row in rows:
        row.overdue_told = True
        uow.publish(CommitmentOverdue(commitment_id=row.id, case_id=row.case_id, item_code=row.item_code,
                                      owner=row.owner, due_on=row.due_on),  # type: ignore[arg-type]
                    list(dict.fromkeys([row.accepting_locality, row.owner])))
    return len(rows)


async def of_case(uow: UnitOfWork, caller: Caller, case_id: str) -> list[CommitmentRow]:
    """A case's commitments, for its parties (404 to anyone else)."""
    row = await CaseRepository(uow.session).row(case_id)
    if row is None or not to_case(row).sides_of(caller.locality):
        raise NotFound(f"no case {case_id}")
    return await CommitmentRepository(uow.session).of_case(case_id)


async def verify(uow: UnitOfWork, caller: Caller, commitment_id: str, found: bool, reason: str,
                 clerk: dict[str, Any] | None) -> tuple[CommitmentRow, CaseRow]:
    """The owner's finding: found true closes the task; found false records it against the applicant for the
    item and revokes the issued result (``CaseResultRevoked``) or ends the case not yet issued."""
    repo = CommitmentRepository(uow.session)
    row = await repo.row(commitment_id, for_update=True)
    if row is None or row.owner != caller.locality:
        raise NotFound(f"no commitment {commitment_id} for {caller.locality} to verify")
    if row.due_on is None:
        raise Conflict("the case has not been accepted: there is no verification task yet",
                       slug="commitment-not-open", title="No verification task yet")
    masked, day = mask_text(reason.strip()), today()
    try:
        done = to_commitment(row).verified(found, masked, day)
    except CaseRuleBroken as exc:
        raise rule_problem(exc) from exc
    CommitmentRepository.write(row, done, caller.client_id)
    cases = CaseRepository(uow.session)
    case_row = await cases.row(row.case_id, for_update=True)
    if case_row is None:
        raise NotFound(f"no case {row.case_id}")
    case, outcome = to_case(case_row), ""
    if not found:
        repo.add_false_record(applicant_digest=case_row.applicant_digest, applicant_key_id=case_row.applicant_key_id,
                              item_code=case.item_code, commitment_id=row.id, case_id=case.id, owner=row.owner,
                              reason=masked, found_on=day)
        why = f"告知承诺不实 / commitment found false: {masked}"
        moved, action = end_for_false_commitment(case, why)
        if moved is not None:
            outcome = moved.status.value
            CaseRepository.write(case_row, moved)
            case_row.finished_on = case_row.finished_on or day
            await cases.add_step(moved, action, case.status.value, caller.locality, caller.client_id,
                                 {"reason": why, "commitment_id": row.id, "clerk": clerk_of(caller, clerk)})
            uow.publish(CaseStatusChanged(
                case_id=case.id, from_status=case.status.value, to_status=moved.status.value,
                by_locality=caller.locality, sequence=moved.sequence, action=action, mode=case.mode,  # type: ignore[arg-type]
                accepting_locality=case.accepting_locality, owners=list(case.owners), reason=why,
                attestation_id=case_row.attestation_id), case.involved)
            if action == "revoke_result":
                uow.publish(CaseResultRevoked(
                    case_id=case.id, item_code=case.item_code, owning_locality=case.owning_locality,
                    accepting_locality=case.accepting_locality, reason=why, revoked_at=datetime.now(UTC)),
                    case.involved)
    uow.publish(CommitmentVerified(
        commitment_id=row.id, case_id=case.id, item_code=case.item_code, owner=row.owner,
        accepting_locality=case.accepting_locality, found=found, reason=masked, verified_at=datetime.now(UTC),
        on_time=row.due_on is None or day <= row.due_on, case_outcome=outcome), case.involved)
    await uow.session.flush()
    return row, case_row
