"""The four delegated rights in agreements (issue 16, part B): named per item or area, deny by default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.authorization.domain.agreements import (
    Agreement,
    AgreementError,
    AgreementStatus,
    Permission,
    RightGrant,
    canonical_form,
    decide,
)

NOW = datetime(2026, 12, 2, tzinfo=UTC)
S, B = "320505", "341600"
MODES = ("accepted_here_handled_there",)


def _agreement(*permissions: Permission) -> Agreement:
    return Agreement(id="agr-1", title="t", text="x", parties=(S, B), items=("YRD-SB-0002",),
                     areas=("social_security",), permissions=permissions, valid_from=NOW - timedelta(days=1),
                     valid_until=NOW + timedelta(days=30), drafted_by=S, status=AgreementStatus.ACTIVE)


def test_a_permission_delegates_only_the_rights_it_names_for_the_items_it_names() -> None:
    agreement = _agreement(Permission(S, B, MODES, (
        RightGrant("receive_accept"), RightGrant("check_originals", items=("YRD-SB-0002",)),
        RightGrant("deliver_result", areas=("social_security",)))))
    ask = [(agreement, None)]
    assert decide(ask, S, B, "YRD-SB-0002", "social_security", MODES[0], NOW, "receive_accept").allowed
    assert decide(ask, S, B, "YRD-SB-0002", "social_security", MODES[0], NOW, "check_originals").allowed
    assert not decide(ask, S, B, "YRD-SB-0009", "social_security", MODES[0], NOW, "check_originals").allowed
    assert decide(ask, S, B, "YRD-SB-0009", "social_security", MODES[0], NOW, "deliver_result").allowed
    refused = decide(ask, S, B, "YRD-SB-0002", "social_security", MODES[0], NOW, "one_time_notice")
    assert not refused.allowed and "does not delegate one_time_notice (一次性告知权)" in refused.reason
    assert decide(ask, S, B, "YRD-SB-0002", None, MODES[0], NOW).allowed, "receive_accept by default"


def test_an_agreement_drafted_before_the_rights_delegates_all_four_and_signs_as_before() -> None:
    legacy = _agreement(Permission(S, B, MODES))
    assert b'"rights"' not in canonical_form(legacy), "what the parties signed keeps its form"
    for right in ("receive_accept", "one_time_notice", "check_originals", "deliver_result"):
        assert decide([(legacy, None)], S, B, "YRD-SB-0002", None, MODES[0], NOW, right).allowed
    named = _agreement(Permission(S, B, MODES, (RightGrant("receive_accept"),)))
    assert b'"rights":[{"areas":[],"items":[],"right":"receive_accept"}]' in canonical_form(named)
    assert Permission.of(named.permissions[0].as_dict()) == named.permissions[0]


def test_rights_are_the_four_and_within_what_the_agreement_covers() -> None:
    with pytest.raises(AgreementError, match="unknown right"):
        RightGrant("sign_anything")
    with pytest.raises(AgreementError, match="does not cover"):
        _agreement(Permission(S, B, MODES, (RightGrant("check_originals", items=("YRD-XX-9999",)),)))
