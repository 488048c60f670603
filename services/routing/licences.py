"""Mutual recognition at the window (互认, "don't submit what you already hold"): a material given as an
electronic licence is verified with its issuing locality before the case is accepted.

The authorization service answers for the issuing locality (signature by its key, validity, not revoked);
a refusal is a 422 naming the material, the kind (unknown, forged, revoked, expired, not yet valid) and
the reason, and nothing is stored. A verified licence becomes the material's electronic form: its file's
hash is the licence's, the verification is kept on the material (the owner sees it as verified), in the
submission's step of the timeline, and in the acceptance attestation the accepting locality signs.
"""

from __future__ import annotations

from typing import Any

from services.routing.clients import AuthorizationClient
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
