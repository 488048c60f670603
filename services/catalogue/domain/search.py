"""The search index's terms, for Chinese and English alike. Pure.

The catalogue keeps its own inverted index (a ``search_terms`` table of ``(term, item_code)``)
so that the same plain B-tree lookups work on SQLite and PostgreSQL without extensions:

- Chinese (any CJK run): every character and every pair of adjacent characters. A query of one
  character looks up that character; a longer run looks up each of its pairs, so "医保" finds text
  holding "医保" and "社保卡" finds "社保卡" (and, rarely, text holding "社保" and "保卡" apart).
- Latin script: lower-cased words (NFKC, so full-width letters count), without stop words, with
  a light stemmer (plural "s") and one spelling per word ("license" → "licence").
- Item codes (``YRD-SB-0101``) as one term each.

A query matches the items holding every one of its terms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

TOKENIZER_VERSION = 1
"""Raised when the terms change: the service re-indexes items of an older version at start."""
MAX_TERM = 40
_CJK_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CODE = re.compile(r"\byrd-[a-z]{2}-\d{4}\b")
_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a an and are as at be by for from in into is it its of on or the to with without".split()
)
SPELLINGS = {
    "license": "licence", "licensing": "licence", "licenced": "licence", "licensed": "licence",
    "enrollment": "enrolment", "enroll": "enrol", "enrolled": "enrol",
    "center": "centre", "program": "programme", "labor": "labour", "cancelation": "cancellation",
    "organization": "organisation", "authorization": "authorisation", "specialized": "specialised",
}


def normalize(text: str) -> str:
    """NFKC and lower case: full-width letters and digits become ASCII."""
    return unicodedata.normalize("NFKC", text).lower()


def _stem(word: str) -> str:
    word = SPELLINGS.get(word, word)
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return SPELLINGS.get(word, word)[:MAX_TERM]


def _latin(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text) if w not in STOPWORDS]


def index_terms(texts: Iterable[str]) -> set[str]:
    """Every term under which text is found: codes, words, CJK characters and character pairs."""
    terms: set[str] = set()
    for raw in texts:
        text = normalize(raw)
        terms.update(_CODE.findall(text))
        text = _CODE.sub(" ", text)
        for run in _CJK_RUN.findall(text):
            terms.update(run)
            terms.update(run[i : i + 2] for i in range(len(run) - 1))
        terms.update(_latin(_CJK_RUN.sub(" ", text)))
    terms.discard("")
    return terms


def query_terms(query: str) -> list[str]:
    """The terms a query must all match, in order, without repeats (empty: nothing searchable)."""
    text = normalize(query)
    terms: list[str] = list(_CODE.findall(text))
    text = _CODE.sub(" ", text)
    for run in _CJK_RUN.findall(text):
        terms.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
    terms.extend(_latin(_CJK_RUN.sub(" ", text)))
    return list(dict.fromkeys(t for t in terms if t))
