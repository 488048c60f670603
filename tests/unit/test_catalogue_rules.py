"""The catalogue's rules: item revisions, standards, procedures, windows, diffs, lists, cursors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from services.catalogue.domain.diff import changes, compare
from services.catalogue.domain.errors import InvalidContent, ItemRuleViolation
from services.catalogue.domain.items import Item
from services.catalogue.domain.lists import CatalogueList, ListEntry, publish_list
from services.catalogue.domain.paging import decode_cursor, encode_cursor
from services.catalogue.domain.snapshot import snapshot
from services.catalogue.domain.standards import Material, Procedure, ProcedureStep, Standard, Window, headline_days

NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _item(code: str = "YRD-SB-0101", **changes: object) -> Item:
    base = Item(code, "社会保障卡申领", "Application for a social security card", "social_security",
                ("fully_online", "accepted_here_handled_there"), "insured_place", 10)
    return replace(base, **changes)  # type: ignore[arg-type]


def _standard(locality: str = "310110", **changes: object) -> Standard:
    base = Standard("YRD-SB-0101", locality, "人社局", 20, 10,
                    (Material("居民身份证", "original", 1, True), Material("申请表", "original")),
                    ("已参保",), "不收费", ("《社会保险法》",))
    return replace(base, **changes)  # type: ignore[arg-type]


def test_item_validation() -> None:
    with pytest.raises(InvalidContent) as bad:
        _item(code="YRD-sb-1")
    assert bad.value.field == "code"
    with pytest.raises(InvalidContent) as bad:
        Item("YRD-SB-0101", "x", "x", "social_security", ("by_pigeon",), "insured_place", 1)
    assert bad.value.field == "modes"
    with pytest.raises(InvalidContent):
        Item("YRD-SB-0101", "x", "x", "social_security", ("fully_online",), "wherever", 1)
    with pytest.raises(InvalidContent):
        Item("YRD-SB-0101", " ", "x", "social_security", ("fully_online",), "insured_place", 1)
    with pytest.raises(InvalidContent) as bad:
        _item(keywords=("a;b",))
    assert bad.value.field == "keywords"
    with pytest.raises(InvalidContent):
        _item(name_en="=HYPERLINK(1)")
    # modes come back in canonical order, without repeats
    assert Item("YRD-SB-0101", "x", "x", "social_security", ("joint_handling", "fully_online", "fully_online"),
                "insured_place", 1).modes == ("fully_online", "joint_handling")


def test_edits_make_revisions_of_published_items_only() -> None:
    draft = _item()
    assert draft.edit(name_en="Social security card").revision == 0
    published = draft.publish()
    assert published.revision == 1
    assert published.edit(name_en=published.name_en) is published, "a change that changes nothing"
    edited = published.edit(name_en="Social security card")
    assert (edited.status, edited.revision) == ("published", 2)
    assert published.revised().revision == 2 and draft.revised() is draft
    withdrawn = published.withdraw()
    with pytest.raises(ItemRuleViolation):
        withdrawn.revised()
    with pytest.raises(ItemRuleViolation):
        withdrawn.edit(name_en="x")


def test_standard_rules() -> None:
    with pytest.raises(InvalidContent) as bad:
        _standard(committed_days=21)
    assert bad.value.field == "committed_days"
    with pytest.raises(InvalidContent) as bad:
        _standard(materials=(Material("居民身份证"), Material("居民身份证", "copy")))
    assert bad.value.field == "materials"
    with pytest.raises(InvalidContent) as bad:
        Material("照片", "photocopy")
    assert bad.value.field == "form"
    with pytest.raises(InvalidContent):
        Material("照片", count=0)
    with pytest.raises(InvalidContent):
        _standard(conditions=("line\nbreak",))
    assert headline_days([_standard(), _standard("341600", committed_days=15)], 3) == 15
    assert headline_days([], 3) == 3
    assert Standard.of("YRD-SB-0101", "310110", _standard().content()) == _standard()


def test_procedures_and_windows() -> None:
    step = ProcedureStep("受理", "Acceptance", "window_clerk", "accepting")
    procedure = Procedure("YRD-SB-0101", "accepted_here_handled_there", (step,))
    assert procedure.content()["steps"][0]["role"] == "window_clerk"
    with pytest.raises(InvalidContent):
        ProcedureStep("受理", "Acceptance", "mayor", "accepting")
    with pytest.raises(InvalidContent):
        ProcedureStep("受理", "Acceptance", "window_clerk", "somewhere")
    assert ProcedureStep("受理", "Acceptance", "window_clerk", "341600").locality == "341600"
    with pytest.raises(InvalidContent):
        Procedure("YRD-SB-0101", "fully_online", ())
    window = Window("W-310110-01", "310110", "专窗", "Window", "地址", "9:00-17:00", "021-12345",
                    ("YRD-SB-0102", "YRD-SB-0101", "YRD-SB-0101"))
    assert window.item_codes == ("YRD-SB-0101", "YRD-SB-0102")
    with pytest.raises(InvalidContent) as bad:
        Window("W-310110-01", "341600", "专窗", "Window", "地址", "9:00", "1")
    assert bad.value.field == "id"


def test_compare_field_by_field() -> None:
    a = _standard().content()
    b = _standard("341600", committed_days=15, competent_department="亳州人社局",
                  materials=(Material("居民身份证", "original", 1, False), Material("照片", "copy"))).content()
    differences, identical = compare({"310110": a, "341600": b})
    by_field = {d.field: d.values for d in differences}
    assert by_field["committed_days"] == {"310110": 10, "341600": 15}
    assert by_field["competent_department"] == {"310110": "人社局", "341600": "亳州人社局"}
    assert by_field["materials[居民身份证].electronic_accepted"] == {"310110": True, "341600": False}
    assert by_field["materials[申请表].form"] == {"310110": "original", "341600": None}
    assert by_field["materials[照片].form"] == {"310110": None, "341600": "copy"}
    assert "legal_days" in identical and "fee" in identical
    assert "illustrative" not in by_field and "illustrative" not in identical
    # order of materials is no difference
    reordered = _standard(materials=tuple(reversed(_standard().materials))).content()
    assert compare({"a": a, "b": reordered})[0] == []
    assert [c.field for c in changes({"x": [1]}, {"x": [1, 2]})] == ["x"]


def test_snapshot_orders_standards_and_procedures() -> None:
    step = ProcedureStep("受理", "Acceptance", "window_clerk", "accepting")
    procedures = [Procedure("YRD-SB-0101", "accepted_here_handled_there", (step,)),
                  Procedure("YRD-SB-0101", "fully_online", (step,))]
    one = snapshot(_item(), [_standard("341600"), _standard()], procedures)
    two = snapshot(_item(), [_standard(), _standard("341600")], list(reversed(procedures)))
    assert one == two
    assert list(one["standards"]) == ["310110", "341600"]
    assert list(one["procedures"]) == ["fully_online", "accepted_here_handled_there"]


def _list(*codes: str, **changes: object) -> CatalogueList:
    base = CatalogueList("yrd-first-list", 1, "首批清单", "First list", entries=tuple(ListEntry(c) for c in codes),
                         announced_on=date(2021, 4, 20))
    return replace(base, **changes)  # type: ignore[arg-type]


def test_list_publication_publishes_draft_items_and_pins_revisions() -> None:
    draft_item, live_item = _item("YRD-SB-0101"), _item("YRD-SB-0102").publish().edit(name_en="x")
    lst = _list("YRD-SB-0101", "YRD-SB-0102")
    publication = publish_list(lst, {i.code: i for i in (draft_item, live_item)}, None, NOW)
    assert [i.code for i in publication.items_published] == ["YRD-SB-0101"]
    assert publication.published.status == "published" and publication.published.published_at == NOW
    assert publication.published.entries == (ListEntry("YRD-SB-0101", 1), ListEntry("YRD-SB-0102", 2))
    assert publication.superseded is None
    with pytest.raises(ItemRuleViolation):
        publication.published.edit(name_en="changed")
    with pytest.raises(ItemRuleViolation):
        publish_list(publication.published, {}, None, NOW)
    second = publication.published.next_version(2)
    assert (second.id, second.status, second.entries[0].revision) == ("yrd-first-list.v2", "draft", None)
    items = {i.code: i for i in (draft_item.publish(), live_item)}
    again = publish_list(second.edit(item_codes=["YRD-SB-0102"]), items, publication.published, NOW)
    assert again.superseded is not None and again.superseded.status == "superseded"
    assert again.items_published == ()


def test_list_publication_refusals() -> None:
    withdrawn = _item().publish().withdraw()
    with pytest.raises(ItemRuleViolation, match="withdrawn"):
        publish_list(_list("YRD-SB-0101"), {"YRD-SB-0101": withdrawn}, None, NOW)
    with pytest.raises(ItemRuleViolation, match="unknown"):
        publish_list(_list("YRD-SB-0101"), {}, None, NOW)
    with pytest.raises(ItemRuleViolation, match="no items"):
        publish_list(_list(), {}, None, NOW)
    with pytest.raises(InvalidContent, match="twice"):
        _list("YRD-SB-0101", "YRD-SB-0101")
    with pytest.raises(InvalidContent):
        _list(slug="First List")
    newer = _list("YRD-SB-0101", version=3, status="published")
    with pytest.raises(ItemRuleViolation, match="not newer"):
        publish_list(_list("YRD-SB-0101", version=2), {"YRD-SB-0101": _item()}, newer, NOW)


def test_cursors_are_opaque_and_bound_to_their_filters() -> None:
    filters = {"terms": ["医保"], "area": None}
    cursor = encode_cursor("YRD-YB-0105", filters)
    assert "YRD" not in cursor
    assert decode_cursor(cursor, filters) == "YRD-YB-0105"
    with pytest.raises(InvalidContent, match="other filters"):
        decode_cursor(cursor, {"terms": ["社保"]})
    for junk in ("%%%", "abc", encode_cursor("x", filters)[:-3]):
        with pytest.raises(InvalidContent) as bad:
            decode_cursor(junk, filters)
        assert bad.value.field == "cursor"
