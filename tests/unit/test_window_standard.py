"""Materials against the owner's business standard (issue 16, part D)."""

from __future__ import annotations

from services.routing.domain.standard import check_of_originals, shortfalls

REQUIRED = [{"name": "身份证", "form": "original", "count": 1, "electronic_accepted": True},
            {"name": "申请表", "form": "original_and_copy", "count": 2, "electronic_accepted": False},
            {"name": "户口簿", "form": "copy", "count": 1, "electronic_accepted": False}]


def test_every_required_material_in_a_form_and_count_that_serve() -> None:
    declared = [{"name": "身份证", "form": "electronic", "sha256": "a" * 64},
                {"name": "申请表", "form": "original_and_copy", "count": 2},
                {"name": "户口簿", "form": "original"}]
    assert shortfalls("341600", REQUIRED, declared) == []


def test_what_is_missing_is_listed_with_its_reason() -> None:
    declared = [{"name": "身份证", "form": "copy"}, {"name": "申请表", "form": "original_and_copy", "count": 1}]
    missing = {s.name: s.reason for s in shortfalls("341600", REQUIRED, declared)}
    assert missing["身份证"].startswith("形式不符 / wrong form: 复印件 given, 原件 1 份 required")
    assert missing["申请表"].startswith("份数不足")
    assert missing["户口簿"].startswith("未提交 / not handed in")
    assert shortfalls("341600", [], declared) == [], "no standard, nothing required"
    assert not shortfalls("341600", [REQUIRED[2]], [{"name": "户口簿", "form": "paper"}]), "paper serves as a copy"


def test_the_check_of_originals_names_the_case_s_materials() -> None:
    assert check_of_originals(["身份证", "申请表"], [{"material": "身份证"}, {"material": "结婚证"}]) == ["结婚证"]
