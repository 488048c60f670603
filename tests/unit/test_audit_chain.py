"""The audit log's hash chain names its first broken link."""

from __future__ import annotations

from dataclasses import replace

from services.authorization.domain import GENESIS, AuditEntry, audit_hash, first_broken_link


def chain(n: int) -> list[AuditEntry]:
    entries, prev = [], GENESIS
    for seq in range(1, n + 1):
        entry = AuditEntry(seq, f"2026-01-01T00:00:{seq:02d}", "320505", "c", "token.issued", f"s{seq}", "ok",
                           {"n": seq}, prev)
        entry = replace(entry, hash=audit_hash(entry))
        entries.append(entry)
        prev = entry.hash
    return entries


def test_an_intact_chain_holds() -> None:
    assert first_broken_link(chain(10)) is None


def test_an_altered_row_is_named() -> None:
    entries = chain(10)
    entries[4] = replace(entries[4], outcome="denied")
    assert first_broken_link(entries) == (5, "its content does not match its hash (the row was altered)")


def test_a_rehashed_row_breaks_the_next_link() -> None:
    entries = chain(10)
    forged = replace(entries[4], detail={"n": 99})
    entries[4] = replace(forged, hash=audit_hash(forged))
    broken = first_broken_link(entries)
    assert broken is not None and broken[0] == 6 and "previous-hash" in broken[1]


def test_a_missing_row_is_named() -> None:
    entries = chain(10)
    del entries[3]
    broken = first_broken_link(entries)
    assert broken is not None and broken[0] == 5 and "missing" in broken[1]
