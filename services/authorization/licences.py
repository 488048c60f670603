"""Use cases of electronic licences: issue (signed by the issuing locality's key), verify, revoke.

The signature is a compact JWS by the same locality keys that sign agreements and attestations
(``typ`` ``tongban-licence-signature``), over the SHA-256 of the licence's RFC 8785 canonical form.
A verification checks, in this order: the licence is known to its issuing locality; its signature (and
the one presented, if any) verifies with a key of that locality and names this licence's canonical form;
the file's hash presented is the licence's; it is not revoked; today (``shared.clock``) lies in its
validity. Every verification is audited; issue and revocation are events on the issuing and the
holder's localities' topics.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from services.authorization import crypto
from services.authorization.domain.licences import SIGNATURE_TYPE, Licence, LicenceError, Refusal
from services.authorization.service import Keyring
from services.authorization.store import AuditRepository
from services.authorization.store_licences import LicenceRepository
from services.authorization.trust import check_jws
from shared import clock
from shared.contracts.licences import LicenceIssued, LicenceRevoked
from shared.masking import mask_text
from shared.uow import UnitOfWork


class LicenceExists(LicenceError):
    """The issuing locality gave this number to another licence already."""


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying a licence: valid, or refused with the kind and the reason."""

    valid: bool
    refusal: Refusal | None
    reason: str | None
    licence: Licence | None
    verified_at: str

    def as_dict(self) -> dict[str, Any]:
        """As the API answers it (the licence separately)."""
        return {"valid": self.valid, "refusal": self.refusal.value if self.refusal else None,
                "reason": self.reason, "verified_at": self.verified_at}


def holder_masked(licence: Licence) -> str:
    """The holder as events name them."""
    return f"{licence.holder_name_masked} {licence.holder_id_masked}"


async def issue_licence(uow: UnitOfWork, keyring: Keyring, licence: Licence, actor: str) -> Licence:
    """Sign a new licence with its issuing locality's key, keep it and tell the holder's localities."""
    repo = LicenceRepository(uow.session)
    if await repo.by_number(licence.issuing_locality, licence.number) is not None:
        raise LicenceExists(f"{licence.issuing_locality} issued licence number {licence.number} already")
    key, private = await keyring.signer(uow.session, licence.issuing_locality)
    payload = {**licence.signed_claims(), "party": licence.issuing_locality, "iat": int(clock.current().time()),
               "jti": str(uuid.uuid4())}
    jws = crypto.sign_compact(private, {"kid": key.kid, "typ": SIGNATURE_TYPE},
                              json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    signed = licence.signed(jws, key.kid)
    await repo.save(signed)
    uow.publish(LicenceIssued(
        licence_id=signed.id, identifier=signed.identifier, type_code=signed.type_code,
        licence_type_name=signed.type_name, number=signed.number, holder_masked=holder_masked(signed),
        issuing_locality=signed.issuing_locality, issuing_authority=signed.issuing_authority,
        valid_from=signed.valid_from, valid_until=signed.valid_until, file_sha256=signed.file_sha256,
        case_id=signed.case_id, item_code=signed.item_code, kid=key.kid), list(signed.holder_localities))
    AuditRepository(uow.session).record(signed.issuing_locality, actor, "licence.issued", signed.identifier, "ok",
                                        {"licence_id": signed.id, "kid": key.kid, "case_id": signed.case_id})
    return signed


async def _signature_fault(uow: UnitOfWork, licence: Licence, jws: str) -> str | None:
    try:
        payload, _kid = await check_jws(uow.session, jws, signer=licence.issuing_locality)
    except (ValueError, TypeError) as exc:  # TypeError: a payload whose iat is no number
        return str(exc)
    return licence.signature_fault(payload)


async def verify_licence(uow: UnitOfWork, actor_locality: str, actor: str, issuing_locality: str, number: str,
                         presented_signature: str | None = None, file_sha256: str | None = None) -> Verification:
    """Verify a licence with its issuing locality: known, signed, intact, not revoked, valid today. Audited."""
    now = clock.current().now()
    at = now.isoformat()
    licence = await LicenceRepository(uow.session).by_number(issuing_locality, number)
    outcome: Verification
    if licence is None:
        outcome = Verification(False, Refusal.UNKNOWN, f"{issuing_locality} issued no licence numbered {number}: "
                               "forged or mistyped", None, at)
    else:
        fault = await _signature_fault(uow, licence, licence.signature)
        if fault is None and presented_signature is not None and presented_signature != licence.signature:
            presented = await _signature_fault(uow, licence, presented_signature)
            fault = None if presented is None else f"the presented signature does not hold: {presented}"
        if fault is None and file_sha256 is not None and file_sha256.lower() != licence.file_sha256:
            fault = "the file presented is not the licence's file (SHA-256 differs)"
        if fault is not None:
            outcome = Verification(False, Refusal.FORGED, f"licence {licence.identifier} is forged: {fault}",
                                   licence, at)
        else:
            invalid = licence.validity_fault(clock.current().today())
            outcome = Verification(invalid is None, invalid[0] if invalid else None,
                                   invalid[1] if invalid else None, licence, at)
    AuditRepository(uow.session).record(
        actor_locality, actor, "licence.verified", f"{issuing_locality}:{number}",
        "valid" if outcome.valid else "invalid",
        {"refusal": outcome.refusal.value if outcome.refusal else None, "reason": outcome.reason,
         "licence_id": licence.id if licence else None})
    return outcome


async def revoke_licence(uow: UnitOfWork, licence: Licence, reason: str, locality: str, actor: str,
                         also_tell: tuple[str, ...] = ()) -> Licence:
    """Revoke a licence; the revocation is an event on the issuing and the holder's localities' topics."""
    masked = mask_text(reason)
    at = clock.current().now()
    revoked = licence.revoke(masked, at)
    await LicenceRepository(uow.session).save(revoked)
    uow.publish(LicenceRevoked(licence_id=revoked.id, identifier=revoked.identifier, number=revoked.number,
                               issuing_locality=revoked.issuing_locality, holder_masked=holder_masked(revoked),
                               reason=revoked.revoked_reason, case_id=revoked.case_id,
                               revoked_at=at),
                list(dict.fromkeys((*revoked.holder_localities, *also_tell))))
    AuditRepository(uow.session).record(locality, actor, "licence.revoked", revoked.identifier, "ok",
                                        {"licence_id": revoked.id, "reason": revoked.revoked_reason,
                                         "case_id": revoked.case_id})
    return revoked


async def revoke_for_case(uow: UnitOfWork, case_id: str, reason: str, locality: str, actor: str,
                          also_tell: tuple[str, ...] = ()) -> list[Licence]:
    """Revoke every licence still valid that was issued as the case's result."""
    revoked = []
    for licence in await LicenceRepository(uow.session).of_case(case_id):
        if licence.status.value == "valid":
            revoked.append(await revoke_licence(uow, licence, reason, locality, actor, also_tell))
    return revoked
