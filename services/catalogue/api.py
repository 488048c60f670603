"""REST API of the catalogue: items and their publication."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from services.catalogue.domain import ITEM_CODE, Item, ItemRuleViolation
from services.catalogue.store import ItemRepository
from shared.auth import Caller, Role, authenticated, require
from shared.contracts.catalogue import HandlingMode, ItemPublished, ItemWithdrawn, OwnershipRule
from shared.problems import Conflict, NotFound
from shared.service import get_uow
from shared.uow import UnitOfWork

router = APIRouter(prefix="/v1/items", tags=["items"])
Uow = Annotated[UnitOfWork, Depends(get_uow)]
Reader = Annotated[Caller, Depends(authenticated)]
Maintainer = Annotated[Caller, Depends(require(Role.MAINTAINER))]


class ItemDraft(BaseModel):
    """A new item, created as a draft."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=ITEM_CODE.pattern, examples=["YRD-SB-0001"])
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=300)
    area: str = Field(min_length=1, max_length=64, examples=["social_security"])
    modes: list[HandlingMode] = Field(min_length=1)
    ownership_rule: OwnershipRule
    committed_days: int = Field(ge=0, le=365)


class ItemView(ItemDraft):
    """An item as the catalogue holds it."""

    status: Literal["draft", "published", "withdrawn"]
    revision: int

    @classmethod
    def of(cls, item: Item) -> ItemView:
        """The view of a domain item."""
        return cls(
            code=item.code,
            name_zh=item.name_zh,
            name_en=item.name_en,
            area=item.area,
            modes=list(item.modes),  # type: ignore[arg-type]
            ownership_rule=item.ownership_rule,  # type: ignore[arg-type]
            committed_days=item.committed_days,
            status=item.status,
            revision=item.revision,
        )


class ItemPage(BaseModel):
    """One page of items; ``next_cursor`` fetches the next."""

    items: list[ItemView]
    next_cursor: str | None


@router.get("", summary="List items")
async def list_items(
    uow: Uow,
    _caller: Reader,
    area: Annotated[str | None, Query(max_length=64)] = None,
    status_: Annotated[Literal["draft", "published", "withdrawn"] | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ItemPage:
    async with uow:
        items = await ItemRepository(uow.session).list(area, status_, cursor, limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return ItemPage(items=[ItemView.of(i) for i in items], next_cursor=items[-1].code if more else None)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a draft item")
async def create_item(draft: ItemDraft, uow: Uow, _caller: Maintainer) -> ItemView:
    async with uow:
        repo = ItemRepository(uow.session)
        if await repo.get(draft.code) is not None:
            raise Conflict(f"item {draft.code} exists already")
        item = Item(**{**draft.model_dump(), "modes": tuple(draft.modes)})
        await repo.save(item)
        await uow.commit()
    return ItemView.of(item)


async def _load(repo: ItemRepository, code: str) -> Item:
    item = await repo.get(code)
    if item is None:
        raise NotFound(f"no item {code}")
    return item


@router.get("/{code}", summary="One item")
async def get_item(code: str, uow: Uow, _caller: Reader) -> ItemView:
    async with uow:
        return ItemView.of(await _load(ItemRepository(uow.session), code))


@router.post("/{code}/publish", summary="Publish an item to every locality")
async def publish_item(code: str, uow: Uow, _caller: Maintainer) -> ItemView:
    async with uow:
        repo = ItemRepository(uow.session)
        try:
            item = (await _load(repo, code)).publish()
        except ItemRuleViolation as exc:
            raise Conflict(str(exc)) from exc
        await repo.save(item)
        uow.publish_everywhere(
            ItemPublished(
                code=item.code,
                name_zh=item.name_zh,
                name_en=item.name_en,
                area=item.area,
                modes=list(item.modes),  # type: ignore[arg-type]
                ownership_rule=item.ownership_rule,  # type: ignore[arg-type]
                committed_days=item.committed_days,
                revision=item.revision,
            )
        )
        await uow.commit()
    return ItemView.of(item)


class Withdrawal(BaseModel):
    """Why an item is withdrawn."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)


@router.post("/{code}/withdraw", summary="Withdraw a published item")
async def withdraw_item(code: str, body: Withdrawal, uow: Uow, _caller: Maintainer) -> ItemView:
    async with uow:
        repo = ItemRepository(uow.session)
        try:
            item = (await _load(repo, code)).withdraw()
        except ItemRuleViolation as exc:
            raise Conflict(str(exc)) from exc
        await repo.save(item)
        uow.publish_everywhere(ItemWithdrawn(code=item.code, revision=item.revision, reason=body.reason))
        await uow.commit()
    return ItemView.of(item)
