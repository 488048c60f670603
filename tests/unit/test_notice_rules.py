"""The one-time notice and its answer, line by line (issue 16, part E)."""

from __future__ import annotations

import pytest

from services.routing.domain import Material
from services.routing.domain.notices import Notice, NoticeRuleBroken, answer, issue

AT = "2026-12-02T10:00:00+08:00"


def test_a_notice_lists_every_material_with_its_reason_once() -> None:
    with pytest.raises(NoticeRuleBroken, match="lists every missing"):
        issue([], "supplement", "341600", [], AT)
    with pytest.raises(NoticeRuleBroken, match="empty"):
        issue([], "supplement", "341600", [{"material": "户口簿", "reason": "  "}], AT)
    with pytest.raises(NoticeRuleBroken, match="twice"):
        issue([], "supplement", "341600",
              [{"material": "户口簿", "reason": "a"}, {"material": "户口簿", "reason": "b"}], AT)
    first = issue([], "supplement", "341600", [{"material": "户口簿", "reason": "复印件不清晰"}], AT)
    assert first.number == 1 and first.open
    with pytest.raises(NoticeRuleBroken, match="still waits"):
        issue([first], "supplement", "341600", [{"material": "身份证", "reason": "过期"}], AT)
    assert Notice.of(first.as_dict()) == first


def test_the_supplement_answers_line_by_line() -> None:
    notice = issue([], "window", "320505", [{"material": "户口簿", "reason": "未提交"},
                                            {"material": "身份证", "reason": "已过期"}], AT)
    with pytest.raises(NoticeRuleBroken, match="unanswered 身份证") as refused:
        answer(notice, [{"material": "户口簿"}], [], AT)
    assert refused.value.extra["unanswered"] == ["身份证"]
    with pytest.raises(NoticeRuleBroken, match="not in the notice 结婚证"):
        answer(notice, [{"material": "户口簿"}, {"material": "身份证"}, {"material": "结婚证"}], [], AT)
    added = [Material("户口簿", "copy", supplement=1)]
    done = answer(notice, [{"material": "户口簿", "answer": "已补交", "added": [{"name": "户口簿"}]},
                           {"material": "身份证", "answer": "已换领新证"}], added, AT)
    assert not done.open and done.answers is not None and done.answers[0].added == ("户口簿",)
    with pytest.raises(NoticeRuleBroken, match="answered already"):
        answer(done, [], [], AT)
