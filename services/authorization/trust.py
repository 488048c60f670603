"""Use cases of trust between localities: agreements, delegations, attestations, consents.

Signatures are made here with the acting locality's own key (private keys never leave the service)
and checked here against the published keys: a signature counts only if its key belongs to the
signing party, was not revoked, and (if retired) signed before its retirement, and only if the
agreement still has the canonical form that was signed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.authorization import crypto
from services.authorization.domain import (
    Act,
    Agreement,
    AgreementError,
    Consent,
    ConsentDecision,
    Decision,
    Signature,
    SigningKey,
    canonical_sha256,
    check_consent,
    decide,
)
from services.authorization.service import Keyring
from services.authorization.store import (
    AgreementRepository,
    AttestationRepository,
    AuditRepository,
    ConsentRepository,
    KeyRepository,
)
from shared import clock
from shared.bounded_json import loads_json
from shared.contracts.authorization import AgreementChanged, AttestationIssued, ConsentGranted, ConsentRevoked
from shared.crypto import PublicKey
from shared.crypto.jws import check_algorithm
from shared.uow import UnitOfWork


def _signed_payload(jws: str) -> dict[str, Any]:
    _header, payload, _input, _sig = crypto.read_compact(jws)
    data = loads_json(payload)
    if not isinstance(data, dict):
        raise ValueError("payload is not a JSON object")
    return data


@functools.lru_cache(maxsize=4096)
def _verified_once(public: PublicKey, signing_input: bytes, signature: bytes) -> bool:
    # Verification is a pure function of the public key, the message and the signature.
    # An agreement's signatures are checked again on every delegation check (routing asks before
    # each case), so their outcome is remembered; whether the key still counts is not (see check_jws).
    return public.verify(signature, signing_input)


def _verify(public: PublicKey, signing_input: bytes, signature: bytes) -> bool:
    return public.verify(signature, signing_input)


async def check_jws(session: AsyncSession, jws: str, signer: str | None = None,
                    keys: dict[str, SigningKey] | None = None, remember: bool = False) -> tuple[dict[str, Any], str]:
    """Verify a compact JWS made by a locality key; its payload and kid. ValueError says why not.

    ``keys`` are the keys as read in this transaction (else the key is read); with ``remember`` the
    outcome of the verification itself is cached (for agreement signatures, checked often). The
    algorithm is the stored key's: a header naming another (``none``, or EdDSA over an SM2 key) is refused.
    """
    header, payload_bytes, signing_input, signature = crypto.read_compact(jws)
    kid = str(header.get("kid", ""))
    key = keys.get(kid) if keys is not None else await KeyRepository(session).get(kid)
    if key is None:
        raise ValueError(f"signed with an unknown key {kid!r}")
    public = key.public_key()
    check_algorithm(header, public)
    try:
        payload = loads_json(payload_bytes)
    except ValueError as exc:  # not JSON, or nested too deep
        raise ValueError("the payload is not JSON") from exc
    if signer is not None and key.owner != signer:
        raise ValueError(f"signed with a key of {key.owner}, not of {signer}")
    signed_at = int(payload.get("iat", 0)) if isinstance(payload, dict) else 0
    if not key.verifies_signature_made_at(signed_at):
        state = "revoked" if key.revoked_at else "retired before it signed"
        raise ValueError(f"signed with key {kid}, which is {state}")
    verify = _verified_once if remember else _verify
    if not verify(public, signing_input, signature):
        raise ValueError("the signature does not verify")
    if not isinstance(payload, dict):
        raise ValueError("the payload is not a JSON object")
    return payload, kid


async def agreement_fault(session: AsyncSession, agreement: Agreement,
                          keys: dict[str, SigningKey] | None = None) -> str | None:
    """Why the agreement's signatures or acts do not hold, or None when every one verifies."""
    digest = canonical_sha256(agreement)
    if keys is None:
        keys = {k.kid: k for k in await KeyRepository(session).all()}  # one query, not one per signature
    for s in agreement.signatures:
        try:
            payload, _kid = await check_jws(session, s.jws, signer=s.party, keys=keys, remember=True)
        except ValueError as exc:
            return f"signature of {s.party}: {exc}"
        if payload.get("sha256") != digest or payload.get("agreement") != agreement.id:
            return f"signature of {s.party}: the agreement was changed after it was signed"
    for a in agreement.acts:
        try:
            payload, _kid = await check_jws(session, a.jws, signer=a.party, keys=keys, remember=True)
        except ValueError as exc:
            return f"{a.kind} act of {a.party}: {exc}"
        if payload.get("act") != a.kind or payload.get("agreement") != agreement.id:
            return f"{a.kind} act of {a.party}: the act was altered"
    return None


def _changed(agreement: Agreement, change: str, party: str, reason: str = "") -> AgreementChanged:
    return AgreementChanged(agreement_id=agreement.id, change=change, status=agreement.status.value, party=party,
                            parties=list(agreement.parties), unsigned_parties=agreement.unsigned_parties,
                            reason=reason)


async def draft_agreement(uow: UnitOfWork, agreement: Agreement, actor: str) -> Agreement:
    """Store a drafted agreement and tell every party."""
    await AgreementRepository(uow.session).save(agreement)
    uow.publish(_changed(agreement, "drafted", agreement.drafted_by), agreement.parties)
    AuditRepository(uow.session).record(agreement.drafted_by, actor, "agreement.drafted", agreement.id, "ok",
                                        {"sha256": canonical_sha256(agreement)})
    return agreement


async def _sign(session: AsyncSession, keyring: Keyring, party: str, claims: dict[str, Any], typ: str
                ) -> tuple[str, str, int]:
    key, private = await keyring.signer(session, party)
    now = int(clock.current().time())
    payload = {**claims, "party": party, "iat": now, "jti": str(uuid.uuid4())}
    jws = crypto.sign_compact(private, {"kid": key.kid, "typ": typ},
                              json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return jws, key.kid, now


async def sign_agreement(uow: UnitOfWork, keyring: Keyring, agreement_id: str, party: str, actor: str,
                         reviewed_sha256: str) -> Agreement:
    """The party signs the canonical form it reviewed (its SHA-256 must be the current one)."""
    repo = AgreementRepository(uow.session)
    agreement = await repo.get_for_update(agreement_id)
    if agreement is None:
        raise LookupError(agreement_id)
    digest = canonical_sha256(agreement)
    if reviewed_sha256 != digest:
        raise AgreementError(f"the agreement's canonical form is {digest}, not the {reviewed_sha256} you reviewed")
    fault = await agreement_fault(uow.session, agreement)
    if fault is not None:
        raise AgreementError(f"the agreement does not verify: {fault}")
    jws, kid, now = await _sign(uow.session, keyring, party,
                                {"agreement": agreement.id, "sha256": digest, "act": "sign"},
                                "tongban-agreement-signature")
    signed = agreement.add_signature(Signature(party, kid, jws, now))
    await repo.save(signed)
    uow.publish(_changed(signed, "signed", party), signed.parties)
    if signed.status.value == "active":
        uow.publish(_changed(signed, "activated", party), signed.parties)
    AuditRepository(uow.session).record(party, actor, "agreement.signed", agreement.id, signed.status.value,
                                        {"kid": kid, "sha256": digest})
    return signed


async def act_on_agreement(uow: UnitOfWork, keyring: Keyring, agreement_id: str, party: str, actor: str,
                           kind: str, reason: str) -> Agreement:
    """Suspend, resume or terminate by the party's signed act."""
    repo = AgreementRepository(uow.session)
    agreement = await repo.get_for_update(agreement_id)
    if agreement is None:
        raise LookupError(agreement_id)
    jws, kid, now = await _sign(uow.session, keyring, party,
                                {"agreement": agreement.id, "act": kind, "reason": reason}, "tongban-agreement-act")
    changed = agreement.apply_act(Act(party, kind, reason, kid, jws, now))
    await repo.save(changed)
    uow.publish(_changed(changed, kind, party, reason), changed.parties)
    AuditRepository(uow.session).record(party, actor, f"agreement.{kind}", agreement.id, changed.status.value,
                                        {"kid": kid, "reason": reason})
    return changed


async def check_delegation(uow: UnitOfWork, actor_locality: str, actor: str, acceptor: str, owner: str, item: str,
                           area: str | None, mode: str, at: datetime, right: str = "receive_accept") -> Decision:
    """Does ``acceptor`` hold ``right`` for ``owner``'s ``item`` in ``mode`` at ``at``? Audited."""
    agreements = await AgreementRepository(uow.session).involving(acceptor)
    keys = {k.kid: k for k in await KeyRepository(uow.session).all()}
    checked = [(a, await agreement_fault(uow.session, a, keys)) for a in agreements if owner in a.parties]
    decision = decide(checked, acceptor, owner, item, area, mode, at, right)
    AuditRepository(uow.session).record(
        actor_locality, actor, "delegation.checked", f"{acceptor}->{owner}:{item}",
        "allowed" if decision.allowed else "denied",
        {"mode": mode, "right": right, "at": at.isoformat(), "agreement": decision.agreement_id,
         "reason": decision.reason},
    )
    return decision


# --------------------------------------------------------------------------- attestations


async def issue_attestation(uow: UnitOfWork, keyring: Keyring, issuer: str, actor: str,
                            claims: dict[str, Any]) -> tuple[str, str]:
    """Sign an acceptance attestation with the accepting locality's key; its id and compact JWS."""
    attestation_id = str(uuid.uuid4())
    jws, kid, _now = await _sign(uow.session, keyring, issuer,
                                 {**claims, "iss": issuer, "attestation_id": attestation_id},
                                 "tongban-acceptance+jws")
    owners = list(claims["owners"])
    await AttestationRepository(uow.session).add(attestation_id, claims["case_id"], issuer, owners, jws)
    uow.publish(AttestationIssued(attestation_id=attestation_id, case_id=claims["case_id"], issuer=issuer,
                                  owners=owners, kid=kid), [issuer, *owners])
    AuditRepository(uow.session).record(issuer, actor, "attestation.issued", claims["case_id"], "ok",
                                        {"attestation_id": attestation_id, "kid": kid,
                                         "materials": len(claims.get("materials", []))})
    return attestation_id, jws


async def verify_attestation(uow: UnitOfWork, actor_locality: str, actor: str, jws: str) -> dict[str, Any]:
    """Check an attestation: whose key, still valid, intact. Audited."""
    try:
        payload, kid = await check_jws(uow.session, jws)
        issuer = str(payload.get("iss", ""))
        key = await KeyRepository(uow.session).get(kid)
        if key is None or key.owner != issuer:
            raise ValueError(f"claims to come from {issuer} but is signed with a key of "
                             f"{key.owner if key else 'nobody'}")
        result: dict[str, Any] = {"valid": True, "issuer": issuer, "kid": kid, "claims": payload, "reason": None}
    except ValueError as exc:
        result = {"valid": False, "issuer": None, "kid": None, "claims": None, "reason": str(exc)}
    AuditRepository(uow.session).record(actor_locality, actor, "attestation.verified",
                                        hashlib.sha256(jws.encode()).hexdigest()[:32],
                                        "valid" if result["valid"] else "invalid", {"reason": result["reason"]})
    return result


# --------------------------------------------------------------------------- consents


async def grant_consent(uow: UnitOfWork, consent: Consent, actor: str) -> Consent:
    """Record an applicant's consent and tell both localities."""
    await ConsentRepository(uow.session).save(consent)
    uow.publish(ConsentGranted(consent_id=consent.id, item_code=consent.item_code, data_kind=consent.data_kind,
                               requester=consent.requester, holder=consent.holder, expires_at=consent.expires_at),
                [consent.requester, consent.holder])
    AuditRepository(uow.session).record(consent.recorded_by, actor, "consent.granted", consent.id, "ok",
                                        {"requester": consent.requester, "holder": consent.holder,
                                         "purpose": consent.purpose})
    return consent


async def revoke_consent(uow: UnitOfWork, consent: Consent, locality: str, actor: str) -> Consent:
    """Revoke a consent; the revocation is an event to both localities."""
    revoked = consent.revoke(datetime.now(UTC))
    await ConsentRepository(uow.session).save(revoked)
    uow.publish(ConsentRevoked(consent_id=consent.id, requester=consent.requester, holder=consent.holder),
                [consent.requester, consent.holder])
    AuditRepository(uow.session).record(locality, actor, "consent.revoked", consent.id, "ok", {})
    return revoked


async def query_allowed(uow: UnitOfWork, locality: str, actor: str, subject_ref: str, item_code: str,
                        data_kind: str, requester: str, holder: str, purpose: str, at: datetime) -> ConsentDecision:
    """Check for consent before a records query. Audited."""
    consents = await ConsentRepository(uow.session).of_subject(subject_ref)
    decision = check_consent(consents, subject_ref, item_code, data_kind, requester, holder, purpose, at)
    AuditRepository(uow.session).record(locality, actor, "consent.checked", f"{requester}<-{holder}:{item_code}",
                                        "allowed" if decision.allowed else "denied",
                                        {"consent": decision.consent_id, "reason": decision.reason})
    return decision
