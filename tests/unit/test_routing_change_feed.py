"""The change feed's stamp and cursor on SQLite (the embedded system): commit order, each case once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.routing.domain import Case, Material, applicant_ref
from services.routing.store import CaseRepository, decode_feed_cursor, encode_feed_cursor
from shared.db import create_engine
from shared.migrations import upgrade
from tongban.registry import definition

KEY = b"k" * 32


def _case(number: int) -> Case:
    return Case(id=f"c-{number:03d}", item_code="YRD-SB-0001", mode="fully_online", accepting_locality="320505",
                owners=("341600",), applicant=applicant_ref("11010519491231002X", KEY),
                materials=(Material("申请表", "paper"),))


async def test_feed_pages_return_each_changed_case_once_in_commit_order(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'routing.db'}")
    await upgrade(engine, definition("routing").migrations)
    from sqlalchemy.ext.asyncio import async_sessionmaker

    sessions = async_sessionmaker(engine, expire_on_commit=False)
    since = datetime.now(UTC) - timedelta(seconds=1)
    async with sessions() as session:
        repo = CaseRepository(session)
        for n in range(25):  # one transaction: the same millisecond for many of them
            await repo.add(_case(n), 5)
        await session.commit()
    async with sessions() as session:  # changed again, in reverse order: they move to the end, reversed
        repo = CaseRepository(session)
        for n in (3, 1):
            row = await repo.row(f"c-{n:03d}")
            assert row is not None
            CaseRepository.write(row, replace(_case(n), sequence=2))
            await session.flush()
        await session.commit()
    seen: list[str] = []
    after = None
    async with sessions() as session:
        repo = CaseRepository(session)
        while True:
            rows = await repo.changed_since("320505", since, after, 4)
            if not rows:
                break
            seen += [r.id for r in rows]
            _since, seq, case_id = decode_feed_cursor(encode_feed_cursor(since, rows[-1]))
            after = (seq, case_id)
        assert await repo.changed_since("341600", since, None, 100)  # the owner sees them too
        assert await repo.changed_since("310110", since, None, 100) == []
    await engine.dispose()
    assert len(seen) == len(set(seen)) == 25
    assert seen[-2:] == ["c-003", "c-001"]
