"""Named, versioned lists of items: draft → published → superseded. Pure: no I/O.

A list version is identified as ``<slug>.v<version>`` (``yrd-first-list.v1``). A draft can be
edited; publishing it publishes its draft items, pins every entry to the item revision it
publishes, and supersedes the slug's previously published version. A published version is
immutable: a change makes a new version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from services.catalogue.domain.errors import InvalidContent, ItemRuleViolation
from services.catalogue.domain.items import ITEM_CODE, Item
from services.catalogue.domain.text import clean_text

ListStatus = Literal["draft", "published", "superseded"]
LIST_STATUSES: tuple[ListStatus, ...] = ("draft", "published", "superseded")
LIST_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,62}[a-z0-9]$")
LIST_ID = re.compile(r"^(?P<slug>[a-z][a-z0-9-]{1,62}[a-z0-9])\.v(?P<version>[1-9]\d{0,3})$")
MAX_ENTRIES = 20_000


def list_id(slug: str, version: int) -> str:
    """The id of a list version."""
    return f"{slug}.v{version}"


@dataclass(frozen=True)
class ListEntry:
    """An item of a list; ``revision`` is pinned when the list is published (None in a draft)."""

    item_code: str
    revision: int | None = None


@dataclass(frozen=True)
class CatalogueList:
    """One version of a named list of items."""

    slug: str
    version: int
    name_zh: str
    name_en: str
    status: ListStatus = "draft"
    entries: tuple[ListEntry, ...] = ()
    announced_on: date | None = None
    """When the list was announced by the cooperating localities (e.g. the first list, April 2021)."""
    published_at: datetime | None = None
    """When this version was published in the catalogue."""
    provenance: str = ""

    def __post_init__(self) -> None:
        if not LIST_SLUG.match(self.slug):
            raise InvalidContent("slug", f"{self.slug!r} does not match {LIST_SLUG.pattern}")
        if not 1 <= self.version <= 9999:
            raise InvalidContent("version", "must be between 1 and 9999")
        object.__setattr__(self, "name_zh", clean_text("name_zh", self.name_zh, 200))
        object.__setattr__(self, "name_en", clean_text("name_en", self.name_en, 300))
        object.__setattr__(self, "provenance", clean_text("provenance", self.provenance, 2000, required=False,
                                                          multiline=True))
        codes = [e.item_code for e in self.entries]
        bad = [c for c in codes if not ITEM_CODE.match(c)]
        if bad:
            raise InvalidContent("item_codes", f"{bad[0]!r} is not an item code")
        if len(set(codes)) != len(codes):
            repeated = next(c for c in codes if codes.count(c) > 1)
            raise InvalidContent("item_codes", f"item {repeated} is listed twice")
        if len(codes) > MAX_ENTRIES:
            raise InvalidContent("item_codes", f"a list holds at most {MAX_ENTRIES} items")

    @property
    def id(self) -> str:
        """``<slug>.v<version>``."""
        return list_id(self.slug, self.version)

    @property
    def item_codes(self) -> list[str]:
        """The codes of the list's items, in order."""
        return [e.item_code for e in self.entries]

    def edit(self, **changes: object) -> CatalogueList:
        """The draft with ``changes`` (``item_codes`` replaces the entries); published versions are immutable."""
        if self.status != "draft":
            raise ItemRuleViolation(
                f"list {self.id} is {self.status} and immutable; create a new version to change it"
            )
        if "item_codes" in changes:
            codes: list[str] = changes.pop("item_codes")  # type: ignore[assignment]
            changes["entries"] = tuple(ListEntry(str(c)) for c in codes)
        return replace(self, **changes)  # type: ignore[arg-type]

    def next_version(self, version: int) -> CatalogueList:
        """A new draft version holding the same items."""
        if version <= self.version:
            raise InvalidContent("version", f"a new version must come after {self.version}")
        return replace(self, version=version, status="draft", published_at=None,
                       entries=tuple(ListEntry(e.item_code) for e in self.entries))

    def supersede(self) -> CatalogueList:
        """This published version, replaced by a newer one."""
        if self.status != "published":
            raise ItemRuleViolation(f"list {self.id} is {self.status}; only a published list is superseded")
        return replace(self, status="superseded")


@dataclass(frozen=True)
class Publication:
    """What publishing a draft list does: the list, the items it publishes, the version it supersedes."""

    published: CatalogueList
    items_published: tuple[Item, ...]
    superseded: CatalogueList | None


def publish_list(
    draft: CatalogueList, items: dict[str, Item], current: CatalogueList | None, at: datetime
) -> Publication:
    """Publish ``draft``: its draft items are published, every entry pinned to its item's revision.

    ``items`` holds the list's items by code; ``current`` is the slug's published version, if any.
    A list naming an unknown or withdrawn item cannot be published.
    """
    if draft.status != "draft":
        raise ItemRuleViolation(f"list {draft.id} is {draft.status}; only a draft can be published")
    if not draft.entries:
        raise ItemRuleViolation(f"list {draft.id} holds no items")
    missing = [c for c in draft.item_codes if c not in items]
    if missing:
        raise ItemRuleViolation(f"list {draft.id} names unknown items: {', '.join(missing[:10])}")
    withdrawn = [c for c in draft.item_codes if items[c].status == "withdrawn"]
    if withdrawn:
        raise ItemRuleViolation(f"list {draft.id} holds withdrawn items: {', '.join(withdrawn[:10])}")
    if current is not None and (current.slug != draft.slug or current.version >= draft.version):
        raise ItemRuleViolation(f"list {draft.id} is not newer than the published {current.id}")
    published_items: list[Item] = []
    entries: list[ListEntry] = []
    for code in draft.item_codes:
        item = items[code]
        if item.status == "draft":
            item = item.publish()
            published_items.append(item)
        entries.append(ListEntry(code, item.revision))
    return Publication(
        published=replace(draft, status="published", published_at=at, entries=tuple(entries)),
        items_published=tuple(published_items),
        superseded=current.supersede() if current is not None else None,
    )
