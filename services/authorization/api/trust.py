"""Agreements and delegations, acceptance attestations and consents: the trust between localities."""


from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from starlette.convertors import StringConvertor, register_url_convertor

from services.authorization.api.common import UUID, Ctx, Reader, Signatory, Uow, keyring
from services.authorization.api.schemas import (
    LOCALITY,
    ActRequest,
    AgreementDraft,
    AgreementView,
    AttestationRequest,
    AttestationView,
    ConsentDecisionView,
    ConsentRequest,
    ConsentView,
    DelegationDecision,
    IssuedAttestation,
    Mode,
    SignatureRequest,
    VerificationRequest,
    VerificationView,
)
from services.authorization.domain import (
    Agreement,
    AgreementError,
    Consent,
    Permission,
    Role,
    may_record,
)
from services.authorization.rights import RightName
from services.authorization.store import (
    AgreementRepository,
    AttestationRepository,
    AuditRepository,
    ConsentRepository,
)
from services.authorization.trust import (
    act_on_agreement,
    agreement_fault,
    check_delegation,
    draft_agreement,
    grant_consent,
    issue_attestation,
    query_allowed,
    revoke_consent,
    sign_agreement,
    verify_attestation,
)
from shared import clock
from shared.api_types import TimestampIn, set_location
from shared.auth import Caller, require
from shared.problems import Conflict, Forbidden, NotFound, Problem
from shared.uow import UnitOfWork

# --------------------------------------------------------------------------- agreements and delegations

agreements = APIRouter(prefix="/v1/agreements", tags=["agreements"])
delegations = APIRouter(prefix="/v1/delegations", tags=["delegations"])
attestations = APIRouter(prefix="/v1/attestations", tags=["attestations"])
consents = APIRouter(prefix="/v1/consents", tags=["consents"])


async def _party_agreement(uow: UnitOfWork, agreement_id: str, caller: Caller) -> Agreement:
    agreement = await AgreementRepository(uow.session).get(agreement_id)
    if agreement is None or caller.locality not in agreement.parties:
        raise NotFound(f"no agreement {agreement_id} with {caller.locality} as a party")
    return agreement


@agreements.post("", status_code=status.HTTP_201_CREATED, summary="Draft an agreement")
async def draft(body: AgreementDraft, uow: Uow, ctx: Ctx, caller: Signatory, response: Response) -> AgreementView:
    unknown = [p for p in body.parties if p not in ctx.localities]
    if unknown:
        raise Problem(f"unknown localities: {', '.join(unknown)}", status=422, slug="unknown-locality",
                      title="Unknown locality")
    if caller.locality not in body.parties:
        raise Forbidden(f"{caller.locality} cannot draft an agreement it is not a party to")
    try:
        agreement = Agreement(
            id=f"agr-{uuid.uuid4().hex[:12]}", title=body.title, text=body.text, parties=tuple(body.parties),
            items=tuple(body.items), areas=tuple(body.areas),
            permissions=tuple(Permission.of(p.model_dump()) for p in body.permissions),
            valid_from=body.valid_from, valid_until=body.valid_until, drafted_by=caller.locality,
        )
    except AgreementError as exc:
        raise Problem(str(exc), status=422, slug="invalid-agreement", title="Invalid agreement") from exc
    async with uow:
        await draft_agreement(uow, agreement, caller.client_id)
        await uow.commit()
    set_location(response, f"/v1/agreements/{agreement.id}")
    return AgreementView.of(agreement, None)


@agreements.get("", summary="The agreements the caller's locality is party to")
async def list_agreements(uow: Uow, caller: Reader) -> list[AgreementView]:
    async with uow:
        found = await AgreementRepository(uow.session).involving(caller.locality)
        return [AgreementView.of(a, await agreement_fault(uow.session, a)) for a in found]


@agreements.get("/{agreement_id}", summary="One agreement, with whether its signatures verify")
async def get_agreement(agreement_id: str, uow: Uow, caller: Reader) -> AgreementView:
    async with uow:
        agreement = await _party_agreement(uow, agreement_id, caller)
        return AgreementView.of(agreement, await agreement_fault(uow.session, agreement))


@agreements.post("/{agreement_id}/signatures", status_code=status.HTTP_201_CREATED,
                 summary="Sign an agreement with the caller's locality key")
async def sign(agreement_id: str, body: SignatureRequest, uow: Uow, ctx: Ctx, caller: Signatory,
               response: Response) -> AgreementView:
    async with uow:
        await _party_agreement(uow, agreement_id, caller)
        try:
            signed = await sign_agreement(uow, keyring(ctx), agreement_id, caller.locality, caller.client_id,
                                          body.canonical_sha256)
        except AgreementError as exc:
            await _refused(uow, caller, "agreement.sign.refused", agreement_id, str(exc))
            raise Conflict(str(exc), slug="agreement-refused", title="Signature refused") from exc
        await uow.commit()
    set_location(response, f"/v1/agreements/{agreement_id}")
    return AgreementView.of(signed, None)


async def _refused(uow: UnitOfWork, caller: Caller, action: str, subject: str, reason: str) -> None:
    """Audit a refusal in a transaction of its own (the request's own is rolled back)."""
    await uow.rollback()
    AuditRepository(uow.session).record(caller.locality, caller.client_id, action, subject, "refused",
                                        {"reason": reason})
    await uow.commit()


@agreements.post("/{agreement_id}/acts", summary="Suspend, resume or terminate by a signed act")
async def act(agreement_id: str, body: ActRequest, uow: Uow, ctx: Ctx, caller: Signatory) -> AgreementView:
    async with uow:
        await _party_agreement(uow, agreement_id, caller)
        try:
            changed = await act_on_agreement(uow, keyring(ctx), agreement_id, caller.locality, caller.client_id,
                                             body.kind, body.reason)
        except AgreementError as exc:
            await _refused(uow, caller, f"agreement.{body.kind}.refused", agreement_id, str(exc))
            raise Conflict(str(exc), slug="agreement-refused", title="Act refused") from exc
        await uow.commit()
    return AgreementView.of(changed, None)


@delegations.get("/check", summary="May a locality accept an item for another, in a mode, at a time?")
async def check(
    uow: Uow,
    caller: Reader,
    acceptor: Annotated[str, Query(pattern=LOCALITY)],
    owner: Annotated[str, Query(pattern=LOCALITY)],
    item: Annotated[str, Query(min_length=1, max_length=32)],
    mode: Annotated[Mode, Query()],
    area: Annotated[str | None, Query(max_length=64)] = None,
    at: Annotated[TimestampIn | None, Query()] = None,
    right: Annotated[RightName, Query(description="The delegated right asked about.")] = "receive_accept",
) -> DelegationDecision:
    if caller.locality not in (acceptor, owner):
        raise Forbidden(f"{caller.locality} may only ask about delegations it is party to")
    async with uow:
        decision = await check_delegation(uow, caller.locality, caller.client_id, acceptor, owner, item, area, mode,
                                          at or clock.current().now(), right)
        await uow.commit()
    return DelegationDecision(allowed=decision.allowed, reason=decision.reason, agreement_id=decision.agreement_id)


# --------------------------------------------------------------------------- attestations


@attestations.post("", status_code=status.HTTP_201_CREATED, summary="Attest an acceptance with the caller's key")
async def attest(body: AttestationRequest, uow: Uow, ctx: Ctx, response: Response,
                 caller: Annotated[Caller, Depends(require(Role.WINDOW_CLERK))]) -> IssuedAttestation:
    unknown = [o for o in body.owners if o not in ctx.localities]
    if unknown:
        raise Problem(f"unknown owners: {', '.join(unknown)}", status=422, slug="unknown-locality",
                      title="Unknown locality")
    async with uow:
        attestation_id, jws = await issue_attestation(uow, keyring(ctx), caller.locality, caller.client_id,
                                                      body.model_dump(mode="json"))
        await uow.commit()
    set_location(response, f"/v1/attestations/{attestation_id}")
    return IssuedAttestation(attestation_id=attestation_id, jws=jws, issuer=caller.locality)


@attestations.post("/verify", summary="Verify an attestation against the published keys")
async def verify_attestation_endpoint(body: VerificationRequest, uow: Uow, caller: Reader) -> VerificationView:
    async with uow:
        result = await verify_attestation(uow, caller.locality, caller.client_id, body.jws)
        await uow.commit()
    return VerificationView.model_validate(result)


class _AttestationId(StringConvertor):
    """A path segment that is an attestation id (a UUID): ``/v1/attestations/verify`` is then no attestation's."""

    regex = UUID


register_url_convertor("attestation_id", _AttestationId())


@attestations.get("/{attestation_id:attestation_id}", summary="One attestation (issuer and owners only)")
async def get_attestation(attestation_id: Annotated[str, Path(pattern=f"^{UUID}$")], uow: Uow, caller: Reader
                          ) -> AttestationView:
    async with uow:
        row = await AttestationRepository(uow.session).get(attestation_id)
    if row is None or caller.locality not in (row.issuer, *row.owners):
        raise NotFound(f"no attestation {attestation_id}")
    return AttestationView(attestation_id=row.id, case_id=row.case_id, issuer=row.issuer, owners=list(row.owners),
                           jws=row.jws, issued_at=row.issued_at)


# --------------------------------------------------------------------------- consents


@consents.post("", status_code=status.HTTP_201_CREATED,
               summary="Record an applicant's consent (at a window of the requesting locality)")
async def record_consent(body: ConsentRequest, uow: Uow, ctx: Ctx, response: Response,
                         caller: Annotated[Caller, Depends(require(Role.WINDOW_CLERK))]) -> ConsentView:
    if not may_record(body.requester, caller.locality):
        raise Forbidden(f"only the requesting locality records a consent (the applicant gives it at its window): "
                        f"a client of {caller.locality} cannot record one for requester {body.requester}")
    for name in ("requester", "holder"):
        if getattr(body, name) not in ctx.localities:
            raise Problem(f"{name} {getattr(body, name)} is not registered", status=422, slug="unknown-locality",
                          title="Unknown locality")
    if body.requester == body.holder:
        raise Problem("requester and holder must be different localities", status=422, slug="invalid-consent",
                      title="Invalid consent")
    if body.expires_at <= datetime.now(UTC):
        raise Problem("expires_at is in the past", status=422, slug="invalid-consent", title="Invalid consent")
    consent = Consent(f"cns-{uuid.uuid4().hex[:12]}", body.subject_ref, body.item_code, body.data_kind,
                      body.requester, body.holder, body.purpose, body.expires_at, caller.locality)
    async with uow:
        await grant_consent(uow, consent, caller.client_id)
        await uow.commit()
    set_location(response, f"/v1/consents/{consent.id}")
    return ConsentView.of(consent)


@consents.post("/{consent_id}/revoke", summary="Revoke a consent (its requester or its holder)")
async def revoke(consent_id: str, uow: Uow, caller: Reader) -> ConsentView:
    async with uow:
        consent = await ConsentRepository(uow.session).get(consent_id)
        if consent is None or not consent.may_be_revoked_by(caller.locality):
            raise NotFound(f"no consent {consent_id}")
        try:
            revoked = await revoke_consent(uow, consent, caller.locality, caller.client_id)
        except ValueError as exc:
            raise Conflict(str(exc)) from exc
        await uow.commit()
    return ConsentView.of(revoked)


@consents.get("/check", summary="May the requester query these records now?")
async def check_consent_endpoint(
    uow: Uow,
    caller: Reader,
    subject_ref: Annotated[str, Query(min_length=8, max_length=128)],
    item_code: Annotated[str, Query(min_length=1, max_length=32)],
    data_kind: Annotated[str, Query(min_length=1, max_length=64)],
    holder: Annotated[str, Query(pattern=LOCALITY)],
    purpose: Annotated[str, Query(min_length=1, max_length=200)],
) -> ConsentDecisionView:
    async with uow:
        decision = await query_allowed(uow, caller.locality, caller.client_id, subject_ref, item_code, data_kind,
                                       caller.locality, holder, purpose, datetime.now(UTC))
        await uow.commit()
    return ConsentDecisionView(allowed=decision.allowed, reason=decision.reason, consent_id=decision.consent_id)


