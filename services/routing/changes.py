"""The stamp that orders case changes for the change feed (``GET /v1/cases?updated_since=``).

Timestamps cannot order a feed: many cases change in the same millisecond, and a transaction that
took its time earlier may commit after one that took it later, so a reader paging by time would miss
it. Each change of a case is stamped instead with a number that follows commit order where readers
can rely on it:

- PostgreSQL: the 64-bit id of the writing transaction. A reader returns only stamps below the
  oldest transaction still running (``pg_snapshot_xmin``): every change below it has committed or
  rolled back, so nothing can later appear behind a cursor. A long transaction holds the feed back
  (it shows later changes once it ends); it never makes it skip one.
- SQLite (the embedded system): one writer at a time, so the largest stamp plus one, taken inside
  the write, is already in commit order.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement

if TYPE_CHECKING:
    from services.routing.store import CaseRow


class ChangeStamp(FunctionElement[int]):
    """The stamp of a change being written (evaluated by the database when the row is flushed)."""

    type = BigInteger()
    inherit_cache = True
    name = "change_stamp"


@compiles(ChangeStamp, "postgresql")
def _stamp_postgresql(_element: ChangeStamp, _compiler: Any, **_kw: Any) -> str:
    return "(pg_current_xact_id()::text::bigint)"


@compiles(ChangeStamp)
def _stamp_default(_element: ChangeStamp, _compiler: Any, **_kw: Any) -> str:
    return "(SELECT COALESCE(MAX(change_seq), 0) + 1 FROM cases)"


def feed_horizon(dialect: str) -> ColumnElement[int] | None:
    """Stamps at or above this may still be joined by earlier ones; None where every stamp is final."""
    if dialect == "postgresql":
        return literal_column("(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)", BigInteger())
    return None


def encode_feed_cursor(since: datetime, row: CaseRow | None) -> str:
    """An opaque change-feed cursor after ``row`` (or before every change), keeping its ``updated_since``."""
    raw = json.dumps(["feed", since.isoformat(), row.change_seq if row else -1, row.id if row else ""]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_feed_cursor(cursor: str) -> tuple[datetime, int, str]:
    """The ``updated_since`` and position a feed cursor names; ValueError when it is not one of ours."""
    try:
        kind, since, seq, case_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if kind != "feed" or not isinstance(seq, int):
            raise ValueError("not a change-feed cursor")
        return datetime.fromisoformat(since), seq, str(case_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("invalid cursor") from exc
