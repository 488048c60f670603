"""The catalogue's search terms: Chinese characters and pairs, English words, item codes."""

from __future__ import annotations

from services.catalogue.domain.search import index_terms, query_terms


def _finds(text: list[str], query: str) -> bool:
    terms = query_terms(query)
    return bool(terms) and set(terms) <= index_terms(text)


def test_chinese_pairs_and_single_characters() -> None:
    text = ["异地就医登记备案", "医保", "医疗保障"]
    assert _finds(text, "医保")
    assert _finds(text, "就医备案") is False  # "医备" is not in the text: pairs must be adjacent
    assert _finds(text, "就医")
    assert _finds(text, "医")
    assert query_terms("医") == ["医"]
    assert query_terms("社保卡") == ["社保", "保卡"]
    assert not _finds(text, "社保")


def test_english_words_stop_words_plurals_and_spellings() -> None:
    text = ["Replacement of a lost business licence"]
    assert _finds(text, "business licence")
    assert _finds(text, "Business License")  # case and American spelling
    assert _finds(text, "licences")
    assert _finds(text, "the lost licence")  # stop words are ignored
    assert not _finds(text, "business permit")
    assert query_terms("of the a") == []
    assert query_terms("status") == ["status"]
    assert query_terms("activities") == ["activity"]


def test_full_width_mixed_and_codes() -> None:
    text = ["YRD-SB-0101", "社会保障卡申领", "Social security card"]
    assert _finds(text, "ＳＯＣＩＡＬ")  # full-width letters
    assert _finds(text, "yrd-sb-0101")
    assert query_terms("YRD-SB-0101") == ["yrd-sb-0101"]
    assert _finds(text, "社会 card")
    assert not _finds(text, "yrd-sb-0102")
    assert "yrd" not in index_terms(text)


def test_query_terms_are_unique_and_ordered() -> None:
    assert query_terms("医保 医保 medical Medical") == ["医保", "medical"]
