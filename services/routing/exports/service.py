"""The case export's service layer: a page of a locality's cases as exchange rows."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.routing.exports.rows import ExportCase, Step, build_row
from services.routing.exports.store import cases_in_period, items_of, steps_of
from services.routing.store import CaseRow, KnownItemRow, TimelineRow, filters_fingerprint
from shared.api_types import aware
from shared.bounded_json import loads_json
from shared.uow import UnitOfWork


@dataclass(frozen=True)
class ExportFilters:
    """Which cases an export holds: the caller's locality's, submitted in ``[since, until)``, of a status."""

    locality: str
    since: datetime | None = None
    until: datetime | None = None
    status: str | None = None

    def fingerprint(self) -> str:
        """What a cursor is bound to."""
        return filters_fingerprint(export=True, since=self.since, until=self.until, status=self.status)


def encode_position(row: CaseRow, filters: ExportFilters) -> str:
    """An opaque cursor after ``row``."""
    raw = json.dumps(["export", aware(row.submitted_at).isoformat(), row.id, filters.fingerprint()]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(cursor: str, filters: ExportFilters) -> tuple[datetime, str]:
    """The position a cursor names; ValueError when it is not an export cursor of these filters."""
    try:
        kind, at, case_id, made_with = loads_json(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position = datetime.fromisoformat(at), str(case_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc
    if kind != "export" or made_with != filters.fingerprint():
        raise ValueError("the cursor was made for other filters (since, until, status); start again without one")
    return position


def export_case(row: CaseRow, steps: list[TimelineRow], item: KnownItemRow | None) -> ExportCase:
    """What the row builder needs of one case."""
    return ExportCase(
        id=row.id, item_code=row.item_code, item_name=item.name_zh if item else "", mode=row.mode,
        accepting_locality=row.accepting_locality, owners=tuple(row.owners), applicant_kind=row.applicant_kind,
        status=row.status, attestation_id=row.attestation_id, submitted_at=row.submitted_at,
        steps=tuple(Step(s.action, s.to_status, s.at, str((s.detail or {}).get("reason", ""))) for s in steps),
        notices=tuple(row.notices or []),
        national_code=(item.national_code or "") if item else "",
        implementation_codes=dict(item.implementation_codes or {}) if item else {},
    )


async def export_page(uow: UnitOfWork, filters: ExportFilters, after: tuple[datetime, str] | None,
                      limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """One page of rows, oldest case first, and the cursor on (None on the last page)."""
    session = uow.session
    rows = await cases_in_period(session, filters.locality, filters.since, filters.until, filters.status, after,
                                 limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    steps = await steps_of(session, [r.id for r in rows])
    items = await items_of(session, {r.item_code for r in rows})
    built = [build_row(export_case(r, steps.get(r.id, []), items.get(r.item_code))) for r in rows]
    return built, encode_position(rows[-1], filters) if more and rows else None


async def export_all(new_uow: Callable[[], UnitOfWork], filters: ExportFilters,
                     page: int = 200) -> AsyncIterator[dict[str, Any]]:
    """Every row of the export, page by page, each page read in its own unit of work (for streaming)."""
    after: tuple[datetime, str] | None = None
    while True:
        async with new_uow() as uow:
            rows, cursor = await export_page(uow, filters, after, page)
        for row in rows:
            yield row
        if cursor is None:
            return
        after = decode_position(cursor, filters)
