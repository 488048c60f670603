"""The catalogue's item life cycle."""

from __future__ import annotations

import pytest

from services.catalogue.domain import Item, ItemRuleViolation


def _item() -> Item:
    return Item("YRD-SB-0001", "社会保障卡申领", "Social security card application", "social_security",
                ("fully_online",), "insured_place", 5)


def test_publish_and_withdraw() -> None:
    published = _item().publish()
    assert (published.status, published.revision) == ("published", 1)
    assert published.publish().revision == 2
    withdrawn = published.withdraw()
    assert (withdrawn.status, withdrawn.revision) == ("withdrawn", 2)
    with pytest.raises(ItemRuleViolation):
        withdrawn.publish()
    with pytest.raises(ItemRuleViolation):
        _item().withdraw()
    with pytest.raises(ItemRuleViolation):
        withdrawn.edit(name_en="x")
