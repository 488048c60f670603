"""Lists: named, versioned lists of items, their publication, and the differences between versions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from services.catalogue.api.common import (
    Reader,
    Regional,
    Uow,
    concurrently_changed,
    conditional_json,
    invalid,
    invalid_content,
)
from services.catalogue.api.schemas import (
    ChangeView,
    ItemChanges,
    ListDetail,
    ListDiff,
    ListDraft,
    ListItem,
    ListPatch,
    ListSummary,
)
from services.catalogue.domain.diff import changes
from services.catalogue.domain.errors import InvalidContent, ItemRuleViolation
from services.catalogue.domain.lists import LIST_ID, CatalogueList, ListEntry
from services.catalogue.service import publish_list_version
from services.catalogue.store import ItemRepository
from services.catalogue.store_lists import ListRepository
from services.catalogue.store_standards import StandardRepository
from shared.problems import Conflict, NotFound
from shared.uow import UnitOfWork

router = APIRouter(prefix="/v1/lists", tags=["lists"])


async def _load(lists: ListRepository, list_id: str) -> CatalogueList:
    found = await lists.get(list_id) if LIST_ID.match(list_id) else None
    if found is None:
        raise NotFound(f"no list {list_id}")
    return found


async def _detail(uow: UnitOfWork, lst: CatalogueList) -> ListDetail:
    items = await ItemRepository(uow.session).get_many(lst.item_codes)
    rows = [
        ListItem(code=e.item_code, name_zh=items[e.item_code].name_zh, name_en=items[e.item_code].name_en,
                 area=items[e.item_code].area, revision=e.revision)
        for e in lst.entries if e.item_code in items
    ]
    return ListDetail(**ListSummary.of(lst, len(lst.entries)).model_dump(), provenance=lst.provenance, items=rows)


async def _check_codes(uow: UnitOfWork, codes: list[str]) -> None:
    found = await ItemRepository(uow.session).get_many(codes)
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise invalid("body.item_codes", f"unknown items: {', '.join(unknown[:10])}")


@router.get("", summary="Every list version", response_model=list[ListSummary])
async def list_lists(request: Request, uow: Uow, _caller: Reader) -> Response:
    async with uow:
        summaries = await ListRepository(uow.session).summaries()
    return conditional_json(request, [ListSummary.of(lst, n) for lst, n in summaries])


@router.get("/{list_id}", summary="One list version with its items", response_model=ListDetail,
            responses={304: {"description": "Not modified"}, 404: {"description": "No such list"}})
async def get_list(list_id: str, request: Request, uow: Uow, _caller: Reader) -> Response:
    async with uow:
        detail = await _detail(uow, await _load(ListRepository(uow.session), list_id))
    return conditional_json(request, detail)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a draft list (a new name, or its next version)")
async def create_list(body: ListDraft, uow: Uow, _caller: Regional) -> ListDetail:
    async with uow, concurrently_changed():
        lists = ListRepository(uow.session)
        versions = await lists.versions(body.slug)
        drafts = [v.id for v in versions if v.status == "draft"]
        if drafts:
            raise Conflict(f"list {drafts[0]} is a draft already; edit it or publish it first")
        await _check_codes(uow, body.item_codes)
        try:
            lst = CatalogueList(
                slug=body.slug, version=(versions[-1].version + 1) if versions else 1, name_zh=body.name_zh,
                name_en=body.name_en, entries=tuple(ListEntry(c) for c in body.item_codes),
                announced_on=body.announced_on, provenance=body.provenance,
            )
        except InvalidContent as exc:
            raise invalid_content(exc) from exc
        await lists.save(lst)
        detail = await _detail(uow, lst)
        await uow.commit()
    return detail


@router.post("/{list_id}/versions", status_code=status.HTTP_201_CREATED,
             summary="Start the next version of a list as a draft holding the same items")
async def new_version(list_id: str, uow: Uow, _caller: Regional) -> ListDetail:
    async with uow, concurrently_changed():
        lists = ListRepository(uow.session)
        base = await _load(lists, list_id)
        versions = await lists.versions(base.slug)
        drafts = [v.id for v in versions if v.status == "draft"]
        if drafts:
            raise Conflict(f"list {drafts[0]} is a draft already; edit it or publish it first")
        lst = base.next_version(versions[-1].version + 1)
        await lists.save(lst)
        detail = await _detail(uow, lst)
        await uow.commit()
    return detail


@router.patch("/{list_id}", summary="Edit a draft list (a published list is immutable)")
async def edit_list(list_id: str, body: ListPatch, uow: Uow, _caller: Regional) -> ListDetail:
    edits: dict[str, Any] = body.model_dump(exclude_unset=True)
    async with uow, concurrently_changed():
        lists = ListRepository(uow.session)
        lst = await _load(lists, list_id)
        if edits.get("item_codes") is not None:
            await _check_codes(uow, edits["item_codes"])
        try:
            lst = lst.edit(**{k: v for k, v in edits.items() if v is not None or k == "announced_on"})
        except ItemRuleViolation as exc:
            raise Conflict(str(exc)) from exc
        except InvalidContent as exc:
            raise invalid_content(exc) from exc
        await lists.save(lst)
        detail = await _detail(uow, lst)
        await uow.commit()
    return detail


@router.post("/{list_id}/publish", summary="Publish a draft list: its items and the list reach every locality")
async def publish(list_id: str, uow: Uow, _caller: Regional) -> ListDetail:
    async with uow, concurrently_changed():
        draft = await _load(ListRepository(uow.session), list_id)
        try:
            publication = await publish_list_version(uow, draft)
        except ItemRuleViolation as exc:
            raise Conflict(str(exc)) from exc
        detail = await _detail(uow, publication.published)
        await uow.commit()
    return detail


@router.get("/{list_id}/diff/{other_id}", summary="What changed from one list version to another",
            response_model=ListDiff, responses={304: {"description": "Not modified"},
                                                404: {"description": "No such list"}})
async def diff_lists(list_id: str, other_id: str, request: Request, uow: Uow, _caller: Reader) -> Response:
    async with uow:
        lists = ListRepository(uow.session)
        before, after = await _load(lists, list_id), await _load(lists, other_id)
        old = {e.item_code: e.revision for e in before.entries}
        new = {e.item_code: e.revision for e in after.entries}
        shared = [c for c in new if c in old]
        contents = await _contents(uow, [(c, old[c]) for c in shared], [(c, new[c]) for c in shared])
    changed: list[ItemChanges] = []
    for code in shared:
        if old[code] is not None and old[code] == new[code]:
            continue
        delta = changes(contents[(code, old[code])], contents[(code, new[code])])
        if delta:
            changed.append(ItemChanges(code=code, from_revision=old[code], to_revision=new[code],
                                       changes=[ChangeView(field=c.field, before=c.before, after=c.after)
                                                for c in delta]))
    view = ListDiff(
        from_list=before.id, to_list=after.id,
        added=[c for c in new if c not in old], removed=[c for c in old if c not in new],
        changed=changed, unchanged=len(shared) - len(changed),
    )
    return conditional_json(request, view)


async def _contents(
    uow: UnitOfWork, *sides: list[tuple[str, int | None]]
) -> dict[tuple[str, int | None], dict[str, Any]]:
    """The content of each (item, revision): the recorded snapshot, or the live item for a draft entry."""
    items = ItemRepository(uow.session)
    keys = {k for side in sides for k in side}
    pinned = await items.revisions((c, r) for c, r in keys if r is not None)
    found: dict[tuple[str, int | None], dict[str, Any]] = dict(pinned)  # type: ignore[arg-type]
    stores = StandardRepository(uow.session)
    for code, revision in keys:
        if (code, revision) in found:
            continue
        item = await items.get(code)
        found[(code, revision)] = await stores.snapshot_of(item) if item else {}
    return found
