"""Use cases of the catalogue that several entry points share (API routes, import, start-up load).

Each function works inside the caller's unit of work: it loads through the repositories, applies
the domain's rules, saves, and adds the events to the outbox; the caller commits once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from services.catalogue.domain.items import Item
from services.catalogue.domain.lists import CatalogueList, Publication, publish_list
from services.catalogue.domain.snapshot import snapshot
from services.catalogue.domain.standards import Procedure, Standard, headline_days
from services.catalogue.domain.tabular_import import ImportPlan
from services.catalogue.store import ItemRepository
from services.catalogue.store_lists import ListRepository
from services.catalogue.store_standards import AreaRepository, StandardRepository, WindowRepository
from shared.contracts.catalogue import ItemPublished, ItemWithdrawn, LicenceTypeRef, ListPublished, StandardMaterial
from shared.uow import UnitOfWork


def item_published(item: Item, standards: Iterable[Standard]) -> ItemPublished:
    """The event of a published item revision."""
    standards = list(standards)
    return ItemPublished(
        code=item.code,
        name_zh=item.name_zh,
        name_en=item.name_en,
        area=item.area,
        modes=list(item.modes),  # type: ignore[arg-type]
        ownership_rule=item.ownership_rule,  # type: ignore[arg-type]
        committed_days=item.committed_days,
        revision=item.revision,
        committed_days_by_locality={s.locality: s.committed_days for s in standards},
        materials_by_locality={s.locality: [StandardMaterial(name=m.name, form=m.form, count=m.count,  # type: ignore[arg-type]
                                                             electronic_accepted=m.electronic_accepted,
                                                             commitment=m.commitment.as_dict() if m.commitment
                                                             else None)  # type: ignore[arg-type]
                                            for m in s.materials] for s in standards},
        national_code=item.national_code,
        implementation_codes_by_locality={s.locality: s.implementation_code for s in standards
                                          if s.implementation_code},
        licence_types=[LicenceTypeRef(code=c, name=n) for c, n in item.licence_types],
    )


async def save_item(
    uow: UnitOfWork,
    before: Item | None,
    after: Item,
    standards: Iterable[Standard] | None = None,
    procedures: Iterable[Procedure] | None = None,
    withdrawal_reason: str = "",
) -> Item:
    """Save an item (and, when given, standards and procedures to insert or replace).

    The item's headline committed time limit follows its standards. A new published revision is
    recorded (its snapshot) and announced to every locality: ``ItemPublished``, or
    ``ItemWithdrawn`` for a withdrawal.
    """
    items, stores = ItemRepository(uow.session), StandardRepository(uow.session)
    area = await AreaRepository(uow.session).get(after.area)
    await items.save(after, area)
    for standard in standards or ():
        await stores.save(standard)
    for procedure in procedures or ():
        await stores.save_procedure(procedure)
    current = await stores.of_item(after.code)
    if current:
        derived = headline_days(current, after.committed_days)
        if derived != after.committed_days:
            after = replace(after, committed_days=derived)
            await items.save(after, area)
    if before is not None and before.revision == after.revision:
        return after
    if after.status == "draft":
        return after
    content = snapshot(after, current, await stores.procedures_of(after.code))
    await items.record_revision(after, content)
    if after.status == "withdrawn":
        uow.publish_everywhere(ItemWithdrawn(code=after.code, revision=after.revision, reason=withdrawal_reason))
    else:
        uow.publish_everywhere(item_published(after, current))
    return after


async def publish_list_version(uow: UnitOfWork, draft: CatalogueList) -> Publication:
    """Publish a draft list: its draft items, the list (superseding the slug's published version), events."""
    lists, items = ListRepository(uow.session), ItemRepository(uow.session)
    current = await lists.published(draft.slug)
    found = await items.get_many(draft.item_codes)
    publication = publish_list(draft, found, current, datetime.now(UTC))
    for item in publication.items_published:
        await save_item(uow, found[item.code], item)
    stores = StandardRepository(uow.session)
    for entry in publication.published.entries:
        # Items published before revisions were recorded get their snapshot now.
        item = (await items.get(entry.item_code)) or found[entry.item_code]
        if entry.revision is not None and await items.revision(item.code, entry.revision) is None:
            await items.record_revision(item, await stores.snapshot_of(item))
    if publication.superseded is not None:
        await lists.save(publication.superseded)
    await lists.save(publication.published)
    published = publication.published
    uow.publish_everywhere(ListPublished(
        list_id=published.id, slug=published.slug, list_version=published.version, name_zh=published.name_zh,
        name_en=published.name_en, item_codes=published.item_codes,
        item_revisions={e.item_code: e.revision for e in published.entries if e.revision is not None},
        published_at=published.published_at or datetime.now(UTC),
        supersedes=publication.superseded.id if publication.superseded else None,
    ))
    return publication


async def apply_import(uow: UnitOfWork, plan: ImportPlan) -> int:
    """Apply an import plan; the number of item events it publishes."""
    events = 0
    items = ItemRepository(uow.session)
    for item_plan in plan.items:
        if not item_plan.changed:
            continue
        before = None if item_plan.created else await items.get(item_plan.item.code)
        after = await save_item(uow, before, item_plan.item, item_plan.standards, item_plan.procedures)
        events += int(after.status != "draft" and (before is None or before.revision != after.revision))
    windows = WindowRepository(uow.session)
    for window_plan in plan.windows:
        if window_plan.changed:
            await windows.save(window_plan.window)
    return events
