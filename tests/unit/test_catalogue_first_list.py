"""The first list as shipped: 72 items in four areas, standards for the four localities, some differing."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path

from services.catalogue.domain.diff import compare
from services.catalogue.domain.items import WINDOW_MODES
from services.catalogue.firstlist import FIRST_LIST, read

LOCALITIES = {"310110", "320505", "331000", "341600"}
DATA = Path(FIRST_LIST).parent


def test_seventy_two_items_in_four_areas_for_four_localities() -> None:
    data = read()
    assert data.catalogue_list.id == "yrd-first-list.v1" and data.catalogue_list.status == "draft"
    assert str(data.catalogue_list.announced_on) == "2021-04-20"
    assert len(data.items) == 72 and len(data.catalogue_list.entries) == 72
    areas = Counter(item.area for item, _s, _p in data.items)
    assert set(areas) == {"market_supervision", "social_security", "medical_insurance", "archive_query"}
    assert min(areas.values()) >= 10
    rules = {item.ownership_rule for item, _s, _p in data.items}
    assert rules == {"household_registration_place", "insured_place", "enterprise_registration_place",
                     "property_location"}
    modes = {m for item, _s, _p in data.items for m in item.modes}
    assert modes == {"fully_online", "accepted_here_handled_there", "joint_handling"}
    for item, standards, procedures in data.items:
        assert {s.locality for s in standards} == LOCALITIES, item.code
        assert {p.mode for p in procedures} == set(item.modes), item.code
        assert item.committed_days == max(s.committed_days for s in standards)
        assert all(s.materials and s.legal_basis for s in standards), item.code
        assert item.illustrative and all(s.illustrative for s in standards), "not official: marked so"


def test_some_standards_differ_beyond_the_department() -> None:
    data = read()
    differing: dict[str, set[str]] = {}
    for item, standards, _p in data.items:
        differences, _same = compare({s.locality: s.content() for s in standards})
        fields = {d.field.split("[")[0] for d in differences} - {"competent_department", "note"}
        if fields:
            differing[item.code] = fields
    assert len(differing) >= 20, differing
    kinds = set().union(*differing.values())
    assert {"committed_days", "materials", "fee", "conditions"} <= kinds


def test_codes_do_not_collide_with_the_examples_of_other_tests() -> None:
    codes = {item.code for item, _s, _p in read().items}
    assert not codes & {"YRD-SB-0001", "YRD-MS-0001", "YRD-YB-0001", "YRD-SB-0002", "YRD-SB-0003"}
    assert not any(c.startswith("YRD-AQ-") for c in codes)


def test_windows_of_every_locality_accept_window_items() -> None:
    data = read()
    items = {item.code: item for item, _s, _p in data.items}
    assert {w.locality for w in data.windows} == LOCALITIES
    for window in data.windows:
        assert window.illustrative and window.item_codes
        assert all(any(m in WINDOW_MODES for m in items[c].modes) for c in window.item_codes)


def test_the_committed_file_is_what_the_script_builds() -> None:
    spec = importlib.util.spec_from_file_location("build_first_list", DATA / "build_first_list.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == json.loads(FIRST_LIST.read_text(encoding="utf-8"))
