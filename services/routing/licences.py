"""Mutual recognition at the window (互认, "don't submit what you already hold"): a material given as an
electronic licence is verified with its issuing locality before the case is accepted.

The authorization service answers for the issuing locality (signature by its key, validity, not revoked);
a refusal is a 422 naming the material, the kind (unknown, forged, revoked, expired, not yet valid) and
the reason, and nothing is stored. A verified licence becomes the material's electronic form: its file's
hash is the licence's, the verification is kept on the material (the owner sees it as verified), in the
submission's step of the timeline, and in the acceptance attestation the accepting locality signs.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.routing.clients import AuthorizationClient
from services.routing.domain import Case, CaseStatus
from shared.auth import Caller
from shared.problems import Problem


class LicenceRefused(Problem):
    """A licence given as a material does not count: 422 with the reason."""

    status, slug, title = 422, "licence-refused", "Licence refused"


async def verified_materials(authorization: AuthorizationClient, caller: Caller,
                             materials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The materials with each licence verified and recorded on it; :class:`LicenceRefused` at the first that fails."""
    out = []
    for material in materials:
        reference = material.get("licence")
        if not reference:
            out.append(material)
            continue
        ask = {"issuing_locality": reference["issuing_locality"], "number": reference["number"],
               **({"signature": reference["signature"]} if reference.get("signature") else {})}
        answer = await authorization.verify_licence(caller, ask)
        if not answer.get("valid"):
            raise LicenceRefused(f"material {material['name']!r}: {answer.get('reason')}", material=material["name"],
                                 refusal=answer.get("refusal"), issuing_locality=reference["issuing_locality"],
                                 number=reference["number"])
        licence = answer["licence"]
        out.append({**material, "form": "electronic", "sha256": licence["file_sha256"], "sm3": None, "licence": {
            "issuing_locality": licence["issuing_locality"], "number": licence["number"],
            "identifier": licence["identifier"], "licence_id": licence["licence_id"],
            "type_code": licence["type_code"], "type_name": licence["type_name"],
            "holder_masked": f"{licence['holder_name_masked']} {licence['holder_id_masked']}",
            "valid_until": licence.get("valid_until"), "verified": True, "verified_at": answer["verified_at"],
            "verified_by": caller.locality}})
    return out


def verification_detail(materials: list[dict[str, Any]]) -> dict[str, Any]:
    """What the submission's step records of the licences verified (nothing when none was given)."""
    verified = [{"material": m["name"], **{k: m["licence"][k] for k in ("identifier", "issuing_locality",
                                                                         "verified_at")}}
                for m in materials if m.get("licence")]
    return {"licences_verified": verified} if verified else {}


async def issue_result_licence(authorization: AuthorizationClient, caller: Caller, case: Case,
                               licence_types: list[dict[str, str]], asked: dict[str, Any]) -> dict[str, Any]:
    """The owner's result as an electronic licence: its type one of the item's, signed by the owner's key
    (the authorization service issues it, for the case, telling the case's localities); what the step records."""
    if case.status is not CaseStatus.APPROVED:
        raise Problem(f"a licence is the result of an approved case; case {case.id} is {case.status.value}",
                      status=422, slug="licence-not-allowed", title="No licence for this result")
    names = {t["code"]: t["name"] for t in licence_types}
    if asked["type_code"] not in names:
        known = ", ".join(names) or "none"
        raise Problem(f"item {case.item_code} has no licence type {asked['type_code']!r} (its types: {known})",
                      status=422, slug="licence-type-unknown", title="Licence type not of the item")
    plain = {k: v.isoformat() if isinstance(v, date) else v for k, v in asked.items()}
    body = {**plain, "type_name": names[asked["type_code"]], "case_id": case.id, "item_code": case.item_code,
            "holder_localities": [o for o in case.involved if o != caller.locality]}
    licence = await authorization.issue_licence(caller, body)
    return {"licence_id": licence["licence_id"], "identifier": licence["identifier"], "number": licence["number"],
            "type_code": licence["type_code"], "kid": licence["kid"]}
