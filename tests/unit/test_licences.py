"""The electronic licence aggregate (services/authorization/domain/licences.py) and the window's rule for it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
import rfc8785

from services.authorization.domain.licences import (
    Licence,
    LicenceError,
    LicenceStatus,
    Refusal,
    canonical_body,
    canonical_form,
    canonical_sha256,
)
from services.routing.domain.standard import shortfalls

HASH = "ab" * 32


def _licence(**changes: object) -> Licence:
    fields: dict[str, object] = {
        "type_code": "SPJY", "type_name": "食品经营许可证", "number": "JY13416000001234", "holder_kind": "enterprise",
        "holder_name": "亳州市谯城区百草堂药业有限公司", "holder_id": "91341600MA2T7XW21K",
        "issuing_authority": "亳州市市场监督管理局", "issuing_authority_code": "11341600MB1D2836X3",
        "issuing_locality": "341600", "issued_on": date(2026, 3, 1), "valid_from": date(2026, 3, 1),
        "valid_until": date(2031, 2, 28), "file_sha256": HASH.upper(), "case_id": "c-1", "item_code": "YRD-SC-0001",
        "holder_localities": ("310110",)}
    fields.update(changes)
    return Licence.new(**fields)  # type: ignore[arg-type]


def test_a_new_licence_masks_its_holder_and_names_its_identifier() -> None:
    licence = _licence()
    assert licence.holder_name_masked == "亳" + "*" * 14
    assert licence.holder_id_masked == "9134**********W21K"
    assert "百草堂" not in json.dumps(canonical_body(licence), ensure_ascii=False)
    assert licence.identifier == "TB.341600.SPJY.JY13416000001234"
    assert licence.file_sha256 == HASH and licence.status is LicenceStatus.VALID
    assert licence.holder_localities == ("341600", "310110")


@pytest.mark.parametrize(("changes", "message"), [
    ({"valid_until": date(2026, 2, 1)}, "before it starts"),
    ({"file_sha256": "xyz"}, "64 hexadecimal"),
    ({"number": "has space"}, "licence number"),
    ({"type_code": ""}, "type code"),
    ({"holder_kind": "robot"}, "person or an enterprise"),
    ({"holder_id": "12"}, "6 to 32"),
    ({"holder_name": "  "}, "name is empty"),
])
def test_a_licence_that_cannot_be_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(LicenceError, match=message):
        _licence(**changes)


def test_the_canonical_form_is_rfc_8785_and_changes_with_any_signed_field() -> None:
    licence = _licence()
    assert canonical_form(licence) == rfc8785.dumps(canonical_body(licence))
    assert canonical_form(licence).startswith(b'{"case_id":"c-1"')  # members sorted by RFC 8785
    changed = replace(licence, valid_until=date(2036, 2, 28))
    assert canonical_sha256(changed) != canonical_sha256(licence)
    revoked = licence.revoke("承诺不实", datetime(2026, 5, 1, tzinfo=UTC))
    assert canonical_sha256(revoked) == canonical_sha256(licence)  # status is not signed: revocation is separate


def test_a_signature_payload_must_name_this_licence_its_form_and_its_issuer() -> None:
    licence = _licence()
    good = {**licence.signed_claims(), "party": "341600"}
    assert licence.signature_fault(good) is None
    assert "another licence" in str(licence.signature_fault({**good, "licence": "other"}))
    tampered = replace(licence, holder_name_masked="张**")
    assert "changed after it was signed" in str(tampered.signature_fault(good))
    assert "not by the issuing locality" in str(licence.signature_fault({**good, "party": "310110"}))


def test_validity_revocation_and_the_reasons() -> None:
    licence = _licence()
    assert licence.validity_fault(date(2026, 3, 1)) is None
    assert licence.validity_fault(date(2031, 2, 28)) is None
    expired = licence.validity_fault(date(2031, 3, 1))
    assert expired is not None and expired[0] is Refusal.EXPIRED and "2031-02-28" in expired[1]
    early = licence.validity_fault(date(2026, 2, 28))
    assert early is not None and early[0] is Refusal.NOT_YET_VALID
    assert _licence(valid_until=None).validity_fault(date(2099, 1, 1)) is None  # long-term (长期)
    revoked = licence.revoke(" 告知承诺不实 ", datetime(2026, 5, 1, tzinfo=UTC))
    fault = revoked.validity_fault(date(2026, 6, 1))
    assert fault is not None and fault[0] is Refusal.REVOKED and fault[1].endswith("告知承诺不实")
    with pytest.raises(LicenceError, match="revoked already"):
        revoked.revoke("again", datetime(2026, 5, 2, tzinfo=UTC))
    with pytest.raises(LicenceError, match="needs a reason"):
        licence.revoke("  ", datetime(2026, 5, 2, tzinfo=UTC))


def test_a_verified_licence_serves_for_the_material_whatever_form_the_standard_names() -> None:
    required = [{"name": "食品经营许可证", "form": "original", "count": 1, "electronic_accepted": False}]
    scan = [{"name": "食品经营许可证", "form": "electronic", "sha256": HASH}]
    assert [s.reason[:4] for s in shortfalls("341600", required, scan)] == ["形式不符"]
    licensed = [{**scan[0], "licence": {"identifier": "TB.341600.SPJY.1", "verified": True}}]
    assert shortfalls("341600", required, licensed) == []


def test_an_items_licence_types_are_checked_edited_and_diffed() -> None:
    from services.catalogue.domain.errors import InvalidContent
    from services.catalogue.domain.items import Item

    base = {"code": "YRD-SC-0901", "name_zh": "食品经营许可变更", "name_en": "Food business licence change",
            "area": "market_supervision", "modes": ("accepted_here_handled_there",),
            "ownership_rule": "enterprise_registration_place", "committed_days": 5}
    plain = Item(**base)  # type: ignore[arg-type]
    assert "licence_types" not in plain.content()  # older items keep their form
    typed = plain.edit(licence_types=[{"code": "SPJY", "name": " 食品经营许可证 "}])
    assert typed.licence_types == (("SPJY", "食品经营许可证"),)
    assert typed.content()["licence_types"] == [{"code": "SPJY", "name": "食品经营许可证"}]
    with pytest.raises(InvalidContent, match="appears twice"):
        plain.edit(licence_types=[{"code": "A", "name": "甲"}, {"code": "A", "name": "乙"}])
    with pytest.raises(InvalidContent, match="must match"):
        plain.edit(licence_types=[{"code": "有 空格", "name": "甲"}])
