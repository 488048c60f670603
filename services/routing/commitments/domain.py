"""Commitments in place of proofs (告知承诺制, 国办发〔2020〕42号): the rules. Pure: no I/O.

The owner's business standard says, per required material, whether a written commitment may replace it
(the text the department publishes, the working days it has to verify, whether an applicant with a
commitment found false for the item is refused the option). The applicant's commitment names the
materials it replaces and carries its exact text; each owner concerned gets a verification task. Found
false: the issued result is revoked, or the case not yet issued ends, with the reason.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from services.routing.domain.cases import Case, CaseRuleBroken, CaseStatus

S = CaseStatus
ISSUED = frozenset({S.RESULT_ISSUED, S.RESULT_DELIVERED, S.CLOSED})
"""Statuses in which the case's result stands issued (found false: the result is revoked)."""
ENDED = frozenset({S.WITHDRAWN, S.RESULT_REVOKED, S.TERMINATED})
"""Statuses a commitment found false leaves as they are (nothing to revoke or end)."""


class CommitmentNotAllowed(CaseRuleBroken):
    """A commitment for a material the owner's standard does not let a commitment replace."""

    status, slug, title = 422, "commitment-not-allowed", "Commitment not allowed"


class CommitmentTextDiffers(CaseRuleBroken):
    """The commitment's text is not the text the department publishes for the material."""

    status, slug, title = 422, "commitment-text-differs", "Commitment text differs"


class CommitmentExcluded(CaseRuleBroken):
    """The applicant has a commitment found false for the item, and the standard excludes such applicants."""

    status, slug, title = 422, "commitment-excluded", "Commitment option refused"


class AlreadyVerified(CaseRuleBroken):
    """The commitment was verified already."""

    status, slug, title = 409, "commitment-verified", "Commitment already verified"


class VerificationReasonRequired(CaseRuleBroken):
    """A commitment found false must say why."""

    status, slug, title = 422, "reason-required", "Reason required"


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _same_text(a: str, b: str) -> bool:
    """The same text, whatever the whitespace between its words."""
    return " ".join(_key(a).split()) == " ".join(_key(b).split())


@dataclass(frozen=True)
class Commitment:
    """One owner's view of an applicant's commitment: what it replaces, its text, its verification."""

    id: str
    case_id: str
    item_code: str
    owner: str
    accepting_locality: str
    text: str
    replaces: tuple[str, ...]
    verify_days: int
    status: str = "pending"
    """pending (until the case is accepted and then until verified), found_true, found_false."""
    due_on: date | None = None
    reason: str = ""
    verified_on: date | None = None

    def overdue(self, today: date) -> bool:
        """Whether its verification is late."""
        return self.status == "pending" and self.due_on is not None and today > self.due_on

    def verified(self, found: bool, reason: str, today: date) -> Commitment:
        """The commitment once the owner found it true or false (false needs a reason)."""
        if self.status != "pending":
            raise AlreadyVerified(f"commitment {self.id} was {self.status.replace('_', ' ')} already",
                                  commitment_status=self.status)
        if not found and not reason.strip():
            raise VerificationReasonRequired("a commitment found false needs the reason")
        return replace(self, status="found_true" if found else "found_false", reason=reason.strip(),
                       verified_on=today)


def plan(case: Case, requested: list[dict[str, Any]], standards: dict[str, list[dict[str, Any]]],
         excluded: bool, new_id: Any) -> list[Commitment]:
    """The commitments of a submission, one per commitment and owner concerned; a :class:`CaseRuleBroken`
    when a named material may not be replaced, the text is not the published one, or the applicant is excluded.

    ``standards``: each owner's required materials (as the catalogue's events carry them); ``excluded``:
    whether the applicant has a commitment found false for the item; ``new_id()`` gives ids."""
    out: list[Commitment] = []
    for entry in requested:
        text, names = str(entry["text"]), [_key(str(n)) for n in entry["replaces"]]
        per_owner: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for name in names:
            found = False
            for owner in case.owners:
                need = next((m for m in standards.get(owner, []) if _key(str(m["name"])) == name), None)
                if need is None:
                    continue
                found = True
                rule = need.get("commitment")
                if not rule:
                    raise CommitmentNotAllowed(
                        f"{owner}'s business standard does not let a commitment replace {name!r}", material=name,
                        owner=owner)
                if not _same_text(text, str(rule["text"])):
                    raise CommitmentTextDiffers(
                        f"the commitment for {name!r} must be the text {owner} publishes", material=name, owner=owner,
                        published=str(rule["text"]))
                if excluded and bool(rule.get("excludes_prior_false", True)):
                    raise CommitmentExcluded(
                        f"the applicant has a commitment found false for item {case.item_code}: {owner}'s standard "
                        f"refuses the commitment option for {name!r}; hand in the material itself", material=name,
                        owner=owner)
                per_owner.setdefault(owner, []).append((name, rule))
            if not found:
                raise CommitmentNotAllowed(f"{name!r} is no material the owner's business standard requires",
                                           material=name)
        for owner, replaced in per_owner.items():
            out.append(Commitment(
                id=str(new_id()), case_id=case.id, item_code=case.item_code, owner=owner,
                accepting_locality=case.accepting_locality, text=text,
                replaces=tuple(dict.fromkeys(n for n, _r in replaced)),
                verify_days=min(int(r["verify_days"]) for _n, r in replaced)))
    return out


def replaced(commitments: list[Commitment]) -> set[tuple[str, str]]:
    """(owner, material name) each commitment stands in for: given, at acceptance."""
    return {(c.owner, _key(n)) for c in commitments for n in c.replaces}


def end_for_false_commitment(case: Case, reason: str) -> tuple[Case | None, str]:
    """The case after a commitment was found false, and its action: an issued result revoked
    (``revoke_result``), a case not yet issued ended (``terminate``); None when it had ended already."""
    if case.status in ENDED:
        return None, ""
    if case.status in ISSUED:
        return replace(case, status=S.RESULT_REVOKED, reason=reason, sequence=case.sequence + 1,
                       delivery_exception=None), "revoke_result"
    return replace(case, status=S.TERMINATED, reason=reason, sequence=case.sequence + 1), "terminate"
