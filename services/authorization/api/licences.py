"""Electronic licences (电子证照): issued and revoked by the issuing locality, verified by any party."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from starlette.convertors import StringConvertor, register_url_convertor

from services.authorization.api.common import UUID, Ctx, Reader, Uow, keyring
from services.authorization.api.licence_schemas import (
    LicenceReference,
    LicenceRequest,
    LicenceVerificationView,
    LicenceView,
    RevocationRequest,
)
from services.authorization.domain import Role
from services.authorization.domain.licences import Licence, LicenceError, LicenceStatus, canonical_sha256
from services.authorization.licences import LicenceExists, issue_licence, revoke_licence, verify_licence
from services.authorization.store_licences import LicenceRepository
from shared import clock
from shared.api_types import set_location
from shared.auth import Caller, require
from shared.problems import Conflict, Forbidden, NotFound, Problem

licences = APIRouter(prefix="/v1/licences", tags=["licences"])
Officer = Annotated[Caller, Depends(require(Role.DEPARTMENT_OFFICER))]


def _invalid(exc: LicenceError) -> Problem:
    return Problem(str(exc), status=422, slug="invalid-licence", title="Invalid licence")


def _view(licence: Licence) -> LicenceView:
    return LicenceView.of(licence, canonical_sha256(licence))


@licences.post("", status_code=status.HTTP_201_CREATED,
               summary="Issue a licence signed with the caller's locality key (its department officer)")
async def issue_licence_endpoint(body: LicenceRequest, uow: Uow, ctx: Ctx, caller: Officer,
                                 response: Response) -> LicenceView:
    unknown = [code for code in body.holder_localities if code not in ctx.localities]
    if unknown:
        raise Problem(f"unknown localities: {', '.join(unknown)}", status=422, slug="unknown-locality",
                      title="Unknown locality")
    try:
        licence = Licence.new(
            type_code=body.type_code, type_name=body.type_name, number=body.number, holder_kind=body.holder_kind,
            holder_name=body.holder_name, holder_id=body.holder_id, issuing_authority=body.issuing_authority,
            issuing_authority_code=body.issuing_authority_code, issuing_locality=caller.locality,
            issued_on=body.issued_on or clock.current().today(), valid_from=body.valid_from,
            valid_until=body.valid_until, file_sha256=body.file_sha256, case_id=body.case_id,
            item_code=body.item_code, holder_localities=tuple(body.holder_localities))
    except LicenceError as exc:
        raise _invalid(exc) from exc
    async with uow:
        try:
            signed = await issue_licence(uow, keyring(ctx), licence, caller.client_id)
        except LicenceExists as exc:
            raise Conflict(str(exc), slug="licence-exists", title="Licence number taken") from exc
        await uow.commit()
    set_location(response, f"/v1/licences/{signed.id}")
    return _view(signed)


@licences.post("/verify", summary="Verify a licence with its issuing locality (any party)")
async def verify_licence_endpoint(body: LicenceReference, uow: Uow, caller: Reader) -> LicenceVerificationView:
    async with uow:
        outcome = await verify_licence(uow, caller.locality, caller.client_id, body.issuing_locality, body.number,
                                       body.signature, body.file_sha256)
        await uow.commit()
    return LicenceVerificationView.model_validate(
        {**outcome.as_dict(), "licence": _view(outcome.licence) if outcome.licence else None})


class _LicenceId(StringConvertor):
    """A path segment that is a licence id (a UUID): ``/v1/licences/verify`` is then no licence's."""

    regex = UUID


register_url_convertor("licence_id", _LicenceId())
LicenceId = Annotated[str, Path(pattern=f"^{UUID}$")]


@licences.get("/{licence_id:licence_id}", summary="One licence (holder masked)")
async def get_licence(licence_id: LicenceId, uow: Uow, caller: Reader) -> LicenceView:
    async with uow:
        licence = await LicenceRepository(uow.session).get(licence_id)
    if licence is None:
        raise NotFound(f"no licence {licence_id}")
    return _view(licence)


@licences.post("/{licence_id:licence_id}/revocation",
               summary="Revoke a licence with a reason (the issuing locality's department officer)")
async def revoke_licence_endpoint(licence_id: LicenceId, body: RevocationRequest, uow: Uow,
                                  caller: Officer) -> LicenceView:
    async with uow:
        licence = await LicenceRepository(uow.session).get(licence_id, for_update=True)
        if licence is None:
            raise NotFound(f"no licence {licence_id}")
        if licence.issuing_locality != caller.locality:
            raise Forbidden(f"only {licence.issuing_locality} revokes its licence {licence.identifier}")
        if licence.status is LicenceStatus.REVOKED:
            raise Conflict(f"licence {licence.identifier} was revoked already ({licence.revoked_reason})",
                           slug="licence-revoked", title="Licence revoked already")
        try:
            revoked = await revoke_licence(uow, licence, body.reason, caller.locality, caller.client_id)
        except LicenceError as exc:
            raise _invalid(exc) from exc
        await uow.commit()
    return _view(revoked)
