"""The repository of versioned item lists (drafts, publications, pinned entries)."""


from __future__ import annotations

from sqlalchemy import (
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.catalogue.domain.lists import CatalogueList, ListEntry
from services.catalogue.store import (
    ListEntryRow,
    ListRow,
    _utc,
)

# ---------------------------------------------------------------------------- lists


class ListRepository:
    """Versions of named lists."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _entries(self, list_id: str) -> tuple[ListEntry, ...]:
        rows = await self.session.scalars(
            select(ListEntryRow).where(ListEntryRow.list_id == list_id).order_by(ListEntryRow.position)
        )
        return tuple(ListEntry(r.item_code, r.revision) for r in rows)

    def _list(self, row: ListRow, entries: tuple[ListEntry, ...]) -> CatalogueList:
        return CatalogueList(
            slug=row.slug, version=row.version, name_zh=row.name_zh, name_en=row.name_en,
            status=row.status,  # type: ignore[arg-type]
            entries=entries, announced_on=row.announced_on, published_at=_utc(row.published_at),
            provenance=row.provenance or "",
        )

    async def get(self, list_id: str) -> CatalogueList | None:
        """A list version with its entries, or None."""
        row = await self.session.get(ListRow, list_id)
        return self._list(row, await self._entries(row.id)) if row else None

    async def exists(self, list_id: str) -> bool:
        """Whether a list version exists."""
        return await self.session.get(ListRow, list_id) is not None

    async def summaries(self) -> list[tuple[CatalogueList, int]]:
        """Every list version (without entries) and its number of items, by slug and version."""
        counts = (
            select(ListEntryRow.list_id, func.count().label("n")).group_by(ListEntryRow.list_id).subquery()
        )
        rows = await self.session.execute(
            select(ListRow, counts.c.n).outerjoin(counts, counts.c.list_id == ListRow.id)
            .order_by(ListRow.slug, ListRow.version)
        )
        return [(self._list(row, ()), int(n or 0)) for row, n in rows]

    async def versions(self, slug: str) -> list[CatalogueList]:
        """The versions of a list (without entries), oldest first."""
        rows = await self.session.scalars(select(ListRow).where(ListRow.slug == slug).order_by(ListRow.version))
        return [self._list(r, ()) for r in rows]

    async def published(self, slug: str) -> CatalogueList | None:
        """The slug's published version, or None."""
        row = (await self.session.scalars(
            select(ListRow).where(ListRow.slug == slug, ListRow.status == "published")
        )).first()
        return self._list(row, await self._entries(row.id)) if row else None

    async def save(self, lst: CatalogueList) -> None:
        """Insert or update a list version and replace its entries."""
        row = await self.session.get(ListRow, lst.id)
        values = {"slug": lst.slug, "version": lst.version, "name_zh": lst.name_zh, "name_en": lst.name_en,
                  "status": lst.status, "announced_on": lst.announced_on, "published_at": lst.published_at,
                  "provenance": lst.provenance}
        if row is None:
            self.session.add(ListRow(id=lst.id, **values))
        else:
            for key, value in values.items():
                setattr(row, key, value)
        await self.session.flush()
        await self.session.execute(delete(ListEntryRow).where(ListEntryRow.list_id == lst.id))
        if lst.entries:
            await self.session.execute(insert(ListEntryRow), [
                {"list_id": lst.id, "item_code": e.item_code, "position": n, "revision": e.revision}
                for n, e in enumerate(lst.entries, start=1)
            ])
