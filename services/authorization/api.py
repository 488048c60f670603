"""REST API of the authorization service: tokens, JWKS, client credentials, keys, audit."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.authorization.domain import (
    ISSUER,
    Agreement,
    AgreementError,
    Client,
    Consent,
    KeyStatus,
    Permission,
    Role,
    SigningKey,
    canonical_form,
    canonical_sha256,
    may_record,
)
from services.authorization.rights import RightBody, RightName
from services.authorization.service import (
    Keyring,
    TokenRefused,
    issue_token,
    register_client,
    sign_checkpoint,
    verify_audit_chain,
)
from services.authorization.store import (
    AgreementRepository,
    AttestationRepository,
    AuditRepository,
    ClientRepository,
    ConsentRepository,
    KeyRepository,
)
from services.authorization.throttling import attempts_of
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
from shared.auth import REGIONAL_ROLES, Caller, authenticated, require
from shared.contracts.authorization import ClientRevoked
from shared.contracts.catalogue import MaterialForm
from shared.crypto import Algorithm
from shared.problems import PROBLEM_BASE, PROBLEM_JSON, Conflict, Forbidden, NotFound, Problem
from shared.service import ServiceContext, get_context, get_uow
from shared.throttle import Throttle, TooManyAttempts
from shared.uow import UnitOfWork

Uow = Annotated[UnitOfWork, Depends(get_uow)]
Ctx = Annotated[ServiceContext, Depends(get_context)]
LOCALITY = r"^\d{6}$"

public = APIRouter(tags=["tokens"])
clients = APIRouter(prefix="/v1/clients", tags=["clients"])
keys = APIRouter(prefix="/v1", tags=["keys"])
audit = APIRouter(prefix="/v1/audit", tags=["audit"])


def keyring(ctx: ServiceContext) -> Keyring:
    """The service's keyring."""
    ring: Keyring = ctx.state["keyring"]
    return ring


def _own_locality(caller: Caller, locality: str) -> None:
    if caller.locality != locality:
        raise Forbidden(f"a client of {caller.locality} cannot act for locality {locality}")


# --------------------------------------------------------------------------- tokens and JWKS


@public.get("/.well-known/jwks.json", summary="Published signing keys (JWKS)")
async def jwks(uow: Uow) -> dict[str, Any]:
    async with uow:
        return await Keyring.jwks(uow.session)


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return client_id, secret


def _throttled(exc: TooManyAttempts) -> JSONResponse:
    return JSONResponse(
        {"type": PROBLEM_BASE + exc.slug, "title": exc.title, "status": exc.status, "detail": exc.detail,
         "error": "invalid_client", "error_description": exc.detail},
        status_code=exc.status, media_type=PROBLEM_JSON, headers={"Cache-Control": "no-store", **exc.headers},
    )


def _token_error(exc: TokenRefused) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="tongban"'
    return JSONResponse(
        {"type": PROBLEM_BASE + exc.error.replace("_", "-"), "title": exc.error, "status": exc.status,
         "detail": exc.description, "error": exc.error, "error_description": exc.description},
        status_code=exc.status, media_type=PROBLEM_JSON, headers=headers,
    )


@public.post(
    "/oauth/token",
    summary="Client credentials grant (RFC 6749, section 4.4)",
    responses={400: {"description": "invalid_request, unsupported_grant_type, invalid_scope"},
               401: {"description": "invalid_client"},
               429: {"description": "too many failed attempts for the client id or from the address"}},
)
async def token(
    request: Request,
    uow: Uow,
    ctx: Ctx,
    grant_type: Annotated[str, Form()],
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form(max_length=500)] = None,
    audience: Annotated[str | None, Form(max_length=500)] = None,
) -> JSONResponse:
    credentials = _basic(request) or ((client_id, client_secret) if client_id and client_secret else None)
    now = time.time()
    address = request.client.host if request.client else "-"
    throttle: Throttle = ctx.state["throttle"]
    who = credentials[0] if credentials else None
    async with uow:
        audit_log = AuditRepository(uow.session)
        try:
            await throttle.refuse_if_blocked(uow.session, attempts_of(ctx, who, address), now)
        except TooManyAttempts as exc:
            await uow.commit()
            return _throttled(exc)
        try:
            if grant_type != "client_credentials":
                raise TokenRefused("unsupported_grant_type", "only client_credentials is supported")
            if credentials is None:
                raise TokenRefused("invalid_client", "client authentication is required", 401)
            issued = await issue_token(uow.session, keyring(ctx), ctx.settings, credentials[0], credentials[1],
                                       scope, audience)
        except TokenRefused as exc:
            if exc.authenticated:  # the right secret: worth a line of its own
                audit_log.record(exc.locality or "-", who or "anonymous", "token.refused", who or "anonymous",
                                 exc.error, {"reason": exc.description})
            else:  # counted, and audited once per window (shared/throttle.py)
                await throttle.failed(uow.session, attempts_of(ctx, who, address, exc), now)
            await uow.commit()
            return _token_error(exc)
        claims = issued.pop("_claims")
        audit_log.record(claims["locality"], claims["sub"], "token.issued", claims["jti"], "ok",
                         {"roles": claims["roles"], "aud": claims["aud"], "exp": claims["exp"]})
        await uow.commit()
    return JSONResponse(issued, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


# --------------------------------------------------------------------------- clients


class ClientRequest(BaseModel):
    """A locality system asking for credentials."""

    model_config = ConfigDict(extra="forbid")

    locality: str = Field(pattern=LOCALITY)
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)


class ClientView(BaseModel):
    """A client, without its secret."""

    client_id: str
    locality: str
    name: str
    roles: list[Role]
    revoked: bool

    @classmethod
    def of(cls, client: Client) -> ClientView:
        """The view of a domain client."""
        return cls(client_id=client.client_id, locality=client.locality, name=client.name,
                   roles=list(client.roles), revoked=client.revoked)


class IssuedClient(ClientView):
    """A new client with its secret: shown once, stored only as a hash."""

    client_secret: str


Maintainer = Annotated[Caller, Depends(require(Role.MAINTAINER))]


@clients.post("", status_code=status.HTTP_201_CREATED, summary="Register a system of the caller's locality")
async def create_client(body: ClientRequest, uow: Uow, ctx: Ctx, caller: Maintainer) -> IssuedClient:
    if body.locality not in ctx.localities:
        raise Problem(f"locality {body.locality} is not registered", status=422,
                      slug="unknown-locality", title="Unknown locality")
    _own_locality(caller, body.locality)
    regional = sorted(r.value for r in body.roles if r in REGIONAL_ROLES)
    if regional:
        raise Forbidden(f"a locality's maintainer cannot grant the regional roles {', '.join(regional)}: the joint "
                        "office grants them with `tongban clients register`")
    async with uow:
        client, secret = await register_client(uow, body.locality, body.name, body.roles)
        await uow.commit()
    return IssuedClient(**ClientView.of(client).model_dump(), client_secret=secret)


@clients.get("", summary="The clients of the caller's locality")
async def list_clients(uow: Uow, caller: Maintainer) -> list[ClientView]:
    async with uow:
        return [ClientView.of(c) for c in await ClientRepository(uow.session).of_locality(caller.locality)]


@clients.post("/{client_id}/revoke", summary="Revoke a client of the caller's locality")
async def revoke_client(client_id: str, uow: Uow, caller: Maintainer) -> ClientView:
    async with uow:
        repo = ClientRepository(uow.session)
        client = await repo.get(client_id)
        if client is None or client.locality != caller.locality:
            raise NotFound(f"no client {client_id} in locality {caller.locality}")
        if client.revoked:
            raise Conflict(f"client {client_id} is revoked already")
        await repo.revoke(client_id)
        uow.publish(ClientRevoked(client_id=client_id, locality=client.locality), [client.locality])
        AuditRepository(uow.session).record(caller.locality, caller.client_id, "client.revoked", client_id, "ok", {})
        await uow.commit()
        revoked = await repo.get(client_id)
    assert revoked is not None
    return ClientView.of(revoked)


# --------------------------------------------------------------------------- keys


class KeyView(BaseModel):
    """A public signing key."""

    kid: str
    owner: str
    x: str
    status: KeyStatus
    created_at: int
    retired_at: int | None
    revoked_at: int | None
    algorithm: Algorithm = Algorithm.ED25519
    y: str | None = Field(default=None, description="The second coordinate of an SM2 key (base64url).")

    @classmethod
    def of(cls, key: SigningKey) -> KeyView:
        """The view of a domain key."""
        return cls(**key.__dict__)


@keys.get("/keys", summary="Every signing key with its status")
async def list_keys(uow: Uow, _caller: Annotated[Caller, Depends(authenticated)]) -> list[KeyView]:
    async with uow:
        return [KeyView.of(k) for k in await KeyRepository(uow.session).all()]


@keys.post("/localities/{locality}/keys/rotate", summary="Rotate the caller's locality key")
async def rotate_key(locality: str, uow: Uow, ctx: Ctx, caller: Maintainer) -> list[KeyView]:
    if locality not in ctx.localities:
        raise NotFound(f"no locality {locality}")
    _own_locality(caller, locality)
    async with uow:
        new, retired = await keyring(ctx).rotate(uow.session, locality)
        AuditRepository(uow.session).record(locality, caller.client_id, "key.rotated", new.kid, "ok",
                                            {"retired": retired.kid if retired else None})
        await uow.commit()
    return [KeyView.of(k) for k in (new, retired) if k is not None]


@keys.post("/keys/{kid}/revoke", summary="Revoke a key of the caller's locality")
async def revoke_key(kid: str, uow: Uow, caller: Maintainer) -> KeyView:
    async with uow:
        repo = KeyRepository(uow.session)
        key = await repo.get(kid)
        if key is None or key.owner != caller.locality:
            raise NotFound(f"no key {kid} of locality {caller.locality}")
        if key.owner == ISSUER:
            raise Forbidden("the token issuer's keys are rotated by operators, not through this endpoint")
        try:
            revoked = key.revoke(_now())
        except ValueError as exc:
            raise Conflict(str(exc)) from exc
        if key.status is KeyStatus.ACTIVE:
            raise Conflict(f"key {kid} is active; rotate it first, then revoke the retired key")
        await repo.save(revoked)
        AuditRepository(uow.session).record(caller.locality, caller.client_id, "key.revoked", kid, "ok", {})
        await uow.commit()
    return KeyView.of(revoked)


def _now() -> int:
    return int(clock.current().time())


# --------------------------------------------------------------------------- audit

Auditor = Annotated[Caller, Depends(require(Role.SUPERVISOR, Role.MAINTAINER, Role.OPERATOR))]


@audit.get("/verify", summary="Verify the whole audit chain; name the first broken link")
async def verify(uow: Uow, _caller: Auditor) -> dict[str, Any]:
    async with uow:
        return await verify_audit_chain(uow.session)


@audit.get("/entries", summary="The caller's locality's audit entries")
async def entries(
    uow: Uow, caller: Auditor,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0, limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    async with uow:
        found = await AuditRepository(uow.session).chained(after, limit)
    return [e.__dict__ for e in found if e.locality == caller.locality]


@audit.post("/checkpoints", status_code=status.HTTP_201_CREATED, summary="Sign the chain's head now")
async def checkpoint(uow: Uow, ctx: Ctx, caller: Annotated[Caller, Depends(require(Role.SUPERVISOR,
                                                                                    Role.MAINTAINER))]
                     ) -> dict[str, Any]:
    async with uow:
        signed = await sign_checkpoint(uow.session, keyring(ctx), caller.locality)
        await uow.commit()
    return signed


# --------------------------------------------------------------------------- agreements and delegations

agreements = APIRouter(prefix="/v1/agreements", tags=["agreements"])
delegations = APIRouter(prefix="/v1/delegations", tags=["delegations"])
attestations = APIRouter(prefix="/v1/attestations", tags=["attestations"])
consents = APIRouter(prefix="/v1/consents", tags=["consents"])
Signatory = Annotated[Caller, Depends(require(Role.MAINTAINER, Role.SUPERVISOR))]
Reader = Annotated[Caller, Depends(authenticated)]
Mode = Literal["fully_online", "accepted_here_handled_there", "joint_handling"]


class PermissionBody(BaseModel):
    """``acceptor`` may accept for ``owner`` in ``modes``."""

    model_config = ConfigDict(extra="forbid")

    acceptor: str = Field(pattern=LOCALITY)
    owner: str = Field(pattern=LOCALITY)
    modes: list[Mode] = Field(min_length=1)
    rights: list[RightBody] | None = Field(default=None, max_length=100, description=(
        "The delegated rights the acceptor holds (services/authorization/rights.py); left out: all four."))


class AgreementDraft(BaseModel):
    """A new agreement, drafted by the caller's locality (which must be a party)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, max_length=100_000)
    parties: list[str] = Field(min_length=2, max_length=64)
    items: list[str] = Field(default_factory=list, max_length=10_000)
    areas: list[str] = Field(default_factory=list, max_length=100)
    permissions: list[PermissionBody] = Field(min_length=1, max_length=10_000)
    valid_from: AwareDatetime
    valid_until: AwareDatetime


class AgreementView(BaseModel):
    """An agreement with its canonical form, signatures, acts and whether they verify."""

    id: str
    title: str
    text: str
    parties: list[str]
    items: list[str]
    areas: list[str]
    permissions: list[PermissionBody]
    valid_from: datetime
    valid_until: datetime
    drafted_by: str
    status: str
    unsigned_parties: list[str]
    signatures: list[dict[str, Any]]
    acts: list[dict[str, Any]]
    canonical: str
    canonical_sha256: str
    fault: str | None

    @classmethod
    def of(cls, a: Agreement, fault: str | None) -> AgreementView:
        """The view of a domain agreement."""
        return cls(
            id=a.id, title=a.title, text=a.text, parties=list(a.parties), items=list(a.items), areas=list(a.areas),
            permissions=[PermissionBody.model_validate(p.as_dict()) for p in a.permissions],
            valid_from=a.valid_from, valid_until=a.valid_until, drafted_by=a.drafted_by, status=a.status.value,
            unsigned_parties=a.unsigned_parties, signatures=[s.__dict__ for s in a.signatures],
            acts=[x.__dict__ for x in a.acts], canonical=canonical_form(a).decode("utf-8"),
            canonical_sha256=canonical_sha256(a), fault=fault,
        )


async def _party_agreement(uow: UnitOfWork, agreement_id: str, caller: Caller) -> Agreement:
    agreement = await AgreementRepository(uow.session).get(agreement_id)
    if agreement is None or caller.locality not in agreement.parties:
        raise NotFound(f"no agreement {agreement_id} with {caller.locality} as a party")
    return agreement


@agreements.post("", status_code=status.HTTP_201_CREATED, summary="Draft an agreement")
async def draft(body: AgreementDraft, uow: Uow, ctx: Ctx, caller: Signatory) -> AgreementView:
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


class SignatureRequest(BaseModel):
    """A party signs the canonical form it reviewed, named by its SHA-256."""

    model_config = ConfigDict(extra="forbid")

    canonical_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


@agreements.post("/{agreement_id}/signatures", status_code=status.HTTP_201_CREATED,
                 summary="Sign an agreement with the caller's locality key")
async def sign(agreement_id: str, body: SignatureRequest, uow: Uow, ctx: Ctx, caller: Signatory) -> AgreementView:
    async with uow:
        await _party_agreement(uow, agreement_id, caller)
        try:
            signed = await sign_agreement(uow, keyring(ctx), agreement_id, caller.locality, caller.client_id,
                                          body.canonical_sha256)
        except AgreementError as exc:
            await _refused(uow, caller, "agreement.sign.refused", agreement_id, str(exc))
            raise Conflict(str(exc), slug="agreement-refused", title="Signature refused") from exc
        await uow.commit()
    return AgreementView.of(signed, None)


async def _refused(uow: UnitOfWork, caller: Caller, action: str, subject: str, reason: str) -> None:
    """Audit a refusal in a transaction of its own (the request's own is rolled back)."""
    await uow.rollback()
    AuditRepository(uow.session).record(caller.locality, caller.client_id, action, subject, "refused",
                                        {"reason": reason})
    await uow.commit()


class ActRequest(BaseModel):
    """Suspend, resume or terminate an agreement."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["suspend", "resume", "terminate"]
    reason: str = Field(min_length=1, max_length=1000)


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
    at: Annotated[AwareDatetime | None, Query()] = None,
    right: Annotated[RightName, Query(description="The delegated right asked about.")] = "receive_accept",
) -> dict[str, Any]:
    if caller.locality not in (acceptor, owner):
        raise Forbidden(f"{caller.locality} may only ask about delegations it is party to")
    async with uow:
        decision = await check_delegation(uow, caller.locality, caller.client_id, acceptor, owner, item, area, mode,
                                          at or clock.current().now(), right)
        await uow.commit()
    return {"allowed": decision.allowed, "reason": decision.reason, "agreement_id": decision.agreement_id}


# --------------------------------------------------------------------------- attestations


class Material(BaseModel):
    """One material handed in at the window."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    sm3: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", exclude_if=lambda value: value is None,
                            description="SM3 digest of the file, when the window declared it (national suite).")
    form: MaterialForm | Literal["paper"] = Field(description="shared/contracts/catalogue.py's vocabulary.")
    count: int | None = Field(default=None, ge=1, le=99, exclude_if=lambda value: value is None)
    supplement: int | None = Field(default=None, ge=0, exclude_if=lambda value: value is None)


class AttestationRequest(BaseModel):
    """What the window accepted: the case, the item, the owners, the materials' hashes, the clerk."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=64)
    item_code: str = Field(min_length=1, max_length=32)
    mode: Mode
    owners: list[str] = Field(min_length=1, max_length=16)
    materials: list[Material] = Field(max_length=200)
    clerk: str = Field(min_length=1, max_length=100)
    clerk_id: str | None = Field(default=None, min_length=1, max_length=64, exclude_if=lambda v: v is None,
                                 description="The person at the window, as the locality system asserts (signed).")
    clerk_name: str | None = Field(default=None, min_length=1, max_length=100, exclude_if=lambda v: v is None)
    accepted_at: AwareDatetime


@attestations.post("", status_code=status.HTTP_201_CREATED, summary="Attest an acceptance with the caller's key")
async def attest(body: AttestationRequest, uow: Uow, ctx: Ctx,
                 caller: Annotated[Caller, Depends(require(Role.WINDOW_CLERK))]) -> dict[str, Any]:
    unknown = [o for o in body.owners if o not in ctx.localities]
    if unknown:
        raise Problem(f"unknown owners: {', '.join(unknown)}", status=422, slug="unknown-locality",
                      title="Unknown locality")
    async with uow:
        attestation_id, jws = await issue_attestation(uow, keyring(ctx), caller.locality, caller.client_id,
                                                      body.model_dump(mode="json"))
        await uow.commit()
    return {"attestation_id": attestation_id, "jws": jws, "issuer": caller.locality}


class VerificationRequest(BaseModel):
    """A compact JWS to verify."""

    model_config = ConfigDict(extra="forbid")

    jws: str = Field(min_length=10, max_length=200_000)


@attestations.post("/verify", summary="Verify an attestation against the published keys")
async def verify_attestation_endpoint(body: VerificationRequest, uow: Uow, caller: Reader) -> dict[str, Any]:
    async with uow:
        result = await verify_attestation(uow, caller.locality, caller.client_id, body.jws)
        await uow.commit()
    return result


@attestations.get("/{attestation_id}", summary="One attestation (issuer and owners only)")
async def get_attestation(attestation_id: str, uow: Uow, caller: Reader) -> dict[str, Any]:
    async with uow:
        row = await AttestationRepository(uow.session).get(attestation_id)
    if row is None or caller.locality not in (row.issuer, *row.owners):
        raise NotFound(f"no attestation {attestation_id}")
    return {"attestation_id": row.id, "case_id": row.case_id, "issuer": row.issuer, "owners": row.owners,
            "jws": row.jws, "issued_at": row.issued_at}


# --------------------------------------------------------------------------- consents


class ConsentRequest(BaseModel):
    """An applicant's consent, as recorded at a window."""

    model_config = ConfigDict(extra="forbid")

    subject_ref: str = Field(min_length=8, max_length=128, description="Opaque reference to the applicant.")
    item_code: str = Field(min_length=1, max_length=32)
    data_kind: str = Field(min_length=1, max_length=64)
    requester: str = Field(pattern=LOCALITY)
    holder: str = Field(pattern=LOCALITY)
    purpose: str = Field(min_length=1, max_length=200)
    expires_at: AwareDatetime


def _consent_view(c: Consent) -> dict[str, Any]:
    return {**c.__dict__, "revoked": c.revoked_at is not None}


@consents.post("", status_code=status.HTTP_201_CREATED,
               summary="Record an applicant's consent (at a window of the requesting locality)")
async def record_consent(body: ConsentRequest, uow: Uow, ctx: Ctx,
                         caller: Annotated[Caller, Depends(require(Role.WINDOW_CLERK))]) -> dict[str, Any]:
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
    return _consent_view(consent)


@consents.post("/{consent_id}/revoke", summary="Revoke a consent (its requester or its holder)")
async def revoke(consent_id: str, uow: Uow, caller: Reader) -> dict[str, Any]:
    async with uow:
        consent = await ConsentRepository(uow.session).get(consent_id)
        if consent is None or not consent.may_be_revoked_by(caller.locality):
            raise NotFound(f"no consent {consent_id}")
        try:
            revoked = await revoke_consent(uow, consent, caller.locality, caller.client_id)
        except ValueError as exc:
            raise Conflict(str(exc)) from exc
        await uow.commit()
    return _consent_view(revoked)


@consents.get("/check", summary="May the requester query these records now?")
async def check_consent_endpoint(
    uow: Uow,
    caller: Reader,
    subject_ref: Annotated[str, Query(min_length=8, max_length=128)],
    item_code: Annotated[str, Query(min_length=1, max_length=32)],
    data_kind: Annotated[str, Query(min_length=1, max_length=64)],
    holder: Annotated[str, Query(pattern=LOCALITY)],
    purpose: Annotated[str, Query(min_length=1, max_length=200)],
) -> dict[str, Any]:
    async with uow:
        decision = await query_allowed(uow, caller.locality, caller.client_id, subject_ref, item_code, data_kind,
                                       caller.locality, holder, purpose, datetime.now(UTC))
        await uow.commit()
    return {"allowed": decision.allowed, "reason": decision.reason, "consent_id": decision.consent_id}


routers = [public, clients, keys, audit, agreements, delegations, attestations, consents]
