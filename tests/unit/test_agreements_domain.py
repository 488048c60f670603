"""Agreements, delegations and consents: the pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.authorization.domain import (
    Act,
    Agreement,
    AgreementError,
    AgreementStatus,
    Consent,
    Permission,
    Signature,
    canonical_form,
    canonical_sha256,
    check_consent,
    decide,
)

Y, S, T, B = "310110", "320505", "331000", "341600"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def agreement(**changes: object) -> Agreement:
    fields: dict[str, object] = dict(
        id="agr-1", title="合作协议", text="text", parties=(Y, S, T, B), items=(), areas=("social_security",),
        permissions=(Permission(S, B, ("accepted_here_handled_there",)), Permission(Y, T, ("fully_online",))),
        valid_from=NOW - timedelta(days=30), valid_until=NOW + timedelta(days=30), drafted_by=Y,
    )
    fields.update(changes)
    return Agreement(**fields)  # type: ignore[arg-type]


def sign_all(a: Agreement, parties: tuple[str, ...] = (Y, S, T, B)) -> Agreement:
    for p in parties:
        a = a.add_signature(Signature(p, f"{p}-k", "jws", 0))
    return a


def test_active_only_with_the_last_signature() -> None:
    a = sign_all(agreement(), (Y, S, T))
    assert a.status is AgreementStatus.DRAFT and a.unsigned_parties == [B]
    assert a.add_signature(Signature(B, "k", "jws", 0)).status is AgreementStatus.ACTIVE
    with pytest.raises(AgreementError, match="signed already"):
        a.add_signature(Signature(Y, "k", "jws", 0))
    with pytest.raises(AgreementError, match="not a party"):
        a.add_signature(Signature("320200", "k", "jws", 0))


def test_canonical_form_is_rfc8785_and_ignores_signatures() -> None:
    a = agreement()
    assert canonical_form(a).startswith(b'{"areas":["social_security"],"drafted_by":"310110"')
    assert canonical_sha256(sign_all(a)) == canonical_sha256(a)
    assert canonical_sha256(agreement(text="other")) != canonical_sha256(a)


@pytest.mark.parametrize(
    "changes",
    [{"parties": (Y,)}, {"drafted_by": "320200"}, {"areas": ()}, {"valid_until": NOW - timedelta(days=60)},
     {"permissions": (Permission(S, "320200", ("fully_online",)),)}, {"permissions": (Permission(S, S, ("x",)),)}],
)
def test_invalid_agreements_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(AgreementError):
        agreement(**changes)


def test_acts() -> None:
    active = sign_all(agreement())
    suspended = active.apply_act(Act(S, "suspend", "audit", "k", "jws", 0))
    assert suspended.status is AgreementStatus.SUSPENDED
    assert suspended.apply_act(Act(T, "resume", "ok", "k", "jws", 0)).status is AgreementStatus.ACTIVE
    terminated = suspended.apply_act(Act(B, "terminate", "end", "k", "jws", 0))
    with pytest.raises(AgreementError):
        terminated.apply_act(Act(B, "resume", "x", "k", "jws", 0))


def test_delegation_is_deny_by_default_and_says_why() -> None:
    active = sign_all(agreement())
    ok = decide([(active, None)], S, B, "YRD-SB-0001", "social_security", "accepted_here_handled_there", NOW)
    assert ok.allowed and ok.agreement_id == "agr-1"
    cases = [
        ([], S, B, "social_security", "accepted_here_handled_there", NOW, "no agreement"),
        ([(active, None)], B, S, "social_security", "accepted_here_handled_there", NOW, "does not let 341600"),
        ([(active, None)], S, B, "social_security", "fully_online", NOW, "does not allow mode fully_online"),
        ([(active, None)], S, B, "archive_query", "accepted_here_handled_there", NOW, "does not cover"),
        ([(active, None)], S, B, "social_security", "accepted_here_handled_there", NOW + timedelta(days=90),
         "not valid at"),
        ([(sign_all(agreement(), (Y, S, T)), None)], S, B, "social_security", "accepted_here_handled_there", NOW,
         "waiting for 341600"),
        ([(active, "signature of 320505: tampered")], S, B, "social_security", "accepted_here_handled_there", NOW,
         "does not verify"),
    ]
    for agreements, acceptor, owner, area, mode, at, reason in cases:
        decision = decide(agreements, acceptor, owner, "YRD-SB-0001", area, mode, at)
        assert not decision.allowed and reason in decision.reason, (reason, decision.reason)


def test_consent_scope_expiry_and_revocation() -> None:
    consent = Consent("c1", "subject-ref-1", "YRD-DA-0001", "real_estate_records", B, Y, "inheritance",
                      NOW + timedelta(days=7), S)
    args = ("subject-ref-1", "YRD-DA-0001", "real_estate_records", B, Y)
    assert check_consent([consent], *args, "inheritance", NOW).allowed
    assert "another purpose" in check_consent([consent], *args, "marketing", NOW).reason
    assert "expired" in check_consent([consent], *args, "inheritance", NOW + timedelta(days=8)).reason
    revoked = consent.revoke(NOW)
    assert "revoked" in check_consent([revoked], *args, "inheritance", NOW + timedelta(hours=1)).reason
    assert not check_consent([consent], "subject-ref-1", "YRD-DA-0001", "real_estate_records", T, Y,
                             "inheritance", NOW).allowed


def test_the_canonical_form_does_not_depend_on_the_offset_an_instant_was_written_in() -> None:
    """Drafted at +08:00 and read back from the database at +00:00: one form, one hash to sign."""
    from datetime import timezone

    china = timezone(timedelta(hours=8))
    start = datetime(2026, 6, 17, 10, 0, tzinfo=china)
    drafted = agreement(valid_from=start, valid_until=start + timedelta(days=365))
    stored = agreement(valid_from=start.astimezone(UTC), valid_until=(start + timedelta(days=365)).astimezone(UTC))
    assert canonical_sha256(drafted) == canonical_sha256(stored)
