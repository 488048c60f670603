"""Applicant consents for an owner to query records that another locality holds (archive query)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


def may_record(requester: str, locality: str) -> bool:
    """Only the requesting locality records a consent: the applicant gives it at that locality's window."""
    return locality == requester


@dataclass(frozen=True)
class Consent:
    """An applicant's consent, scoped to item, kind of data, pair of localities, purpose and expiry."""

    id: str
    subject_ref: str
    item_code: str
    data_kind: str
    requester: str
    holder: str
    purpose: str
    expires_at: datetime
    recorded_by: str
    revoked_at: datetime | None = None

    def may_be_revoked_by(self, locality: str) -> bool:
        """The requester or the holder may revoke a consent; nobody else (not even a third party that recorded it)."""
        return locality in (self.requester, self.holder)

    def revoke(self, at: datetime) -> Consent:
        """The consent revoked from ``at``."""
        if self.revoked_at is not None:
            raise ValueError(f"consent {self.id} is revoked already")
        return replace(self, revoked_at=at)


@dataclass(frozen=True)
class ConsentDecision:
    """Whether a query may go ahead, under which consent, or why not."""

    allowed: bool
    reason: str
    consent_id: str | None = None


def check_consent(
    consents: list[Consent], subject_ref: str, item_code: str, data_kind: str, requester: str, holder: str,
    purpose: str, at: datetime,
) -> ConsentDecision:
    """Allow only under a consent matching every part of the scope, unexpired and unrevoked."""
    reasons = []
    for c in consents:
        if (c.subject_ref, c.item_code, c.data_kind, c.requester, c.holder) != (
            subject_ref, item_code, data_kind, requester, holder
        ):
            continue
        if c.purpose != purpose:
            reasons.append(f"consent {c.id} is for another purpose")
        elif c.revoked_at is not None and c.revoked_at <= at:
            reasons.append(f"consent {c.id} was revoked")
        elif at >= c.expires_at:
            reasons.append(f"consent {c.id} expired at {c.expires_at.isoformat()}")
        else:
            return ConsentDecision(True, f"allowed by consent {c.id}", c.id)
    return ConsentDecision(False, "; ".join(reasons) or "no consent from the applicant for this query")
