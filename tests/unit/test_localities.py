"""The locality registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.localities import LocalityRegistry, UnknownLocality
from shared.settings import Settings


def test_built_in_localities_and_topics() -> None:
    registry = LocalityRegistry.from_settings(Settings())
    assert registry.codes == ["310110", "320505", "331000", "341600"]
    assert registry.get("331000").name_zh == "浙江省台州市"  # Zhejiang's Taizhou, not Jiangsu's 泰州
    assert registry.topic("310110") == "tongban.locality.310110"
    assert registry.dead_letter_topic("310110") == "tongban.locality.310110.dlt"
    assert len(registry.all_topics) == 8
    with pytest.raises(UnknownLocality):
        registry.topic("321200")


def test_a_fifth_locality_comes_from_configuration(tmp_path: Path) -> None:
    extra = tmp_path / "more.json"
    extra.write_text(json.dumps([{"code": "320200", "name_zh": "无锡市", "name_en": "Wuxi",
                                  "province_zh": "江苏省", "province_en": "Jiangsu"}]))
    registry = LocalityRegistry.from_settings(Settings(localities_file=extra, topic_prefix="yrd"))
    assert len(registry) == 5
    assert registry.topic("320200") == "yrd.locality.320200"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "cannot read"),
        ('{"code": "1"}', "must hold a JSON list"),
        ('[{"code": "12", "name_zh": "x", "name_en": "x", "province_zh": "x", "province_en": "x"}]', "code"),
        ('[{"code": "310110", "name_zh": "x", "name_en": "x", "province_zh": "x", "province_en": "x"}]',
         "registered twice"),
    ],
)
def test_bad_locality_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    extra = tmp_path / "bad.json"
    extra.write_text(content)
    with pytest.raises(ValueError, match=message):
        LocalityRegistry.from_settings(Settings(localities_file=extra))
