"""Items: search and listing, the item, its business standards and their differences, procedures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.convertors import StringConvertor, register_url_convertor

from services.catalogue.api.common import (
    LOCALITY_PATTERN,
    Ctx,
    LocalityCode,
    Reader,
    Regional,
    StandardWriter,
    Uow,
    check_locality,
    concurrently_changed,
    conditional_json,
    invalid,
    invalid_content,
)
from services.catalogue.api.schemas import (
    DifferenceView,
    ItemDetail,
    ItemDraft,
    ItemPage,
    ItemPatch,
    ItemStatusName,
    ItemView,
    ProcedureBody,
    ProcedureView,
    StandardBody,
    StandardsDiff,
    StandardsView,
    StandardView,
    Withdrawal,
)
from services.catalogue.domain.diff import compare
from services.catalogue.domain.errors import InvalidContent, ItemRuleViolation
from services.catalogue.domain.items import AREA_KEY, ITEM_CODE, Item
from services.catalogue.domain.lists import LIST_ID
from services.catalogue.domain.paging import decode_cursor, encode_cursor
from services.catalogue.domain.search import query_terms
from services.catalogue.service import save_item
from services.catalogue.store import ItemFilter, ItemRepository
from services.catalogue.store_lists import ListRepository
from services.catalogue.store_standards import StandardRepository
from shared.contracts.catalogue import HandlingMode
from shared.problems import Conflict, NotFound

router = APIRouter(prefix="/v1/items", tags=["items"])


class _Locality(StringConvertor):
    """A path segment that is a locality code: ``/standards/diff`` is then no locality's standard."""

    regex = r"\d{6}"


register_url_convertor("locality", _Locality())
MAX_TERMS = 32


async def _load(repo: ItemRepository, code: str) -> Item:
    item = await repo.get(code) if ITEM_CODE.match(code) else None
    if item is None:
        raise NotFound(f"no item {code}")
    return item


@router.get(
    "",
    summary="Search and list items",
    response_model=ItemPage,
    responses={304: {"description": "Not modified (If-None-Match)"}},
)
async def list_items(
    request: Request,
    uow: Uow,
    ctx: Ctx,
    _caller: Reader,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description=(
        "Full-text search in Chinese or English (every term must match): 医保, 社保卡, business licence"
    ))] = None,
    area: Annotated[str | None, Query(pattern=AREA_KEY.pattern, examples=["medical_insurance"])] = None,
    locality: Annotated[str | None, Query(pattern=LOCALITY_PATTERN, description=(
        "Items with a business standard in this locality"
    ))] = None,
    mode: HandlingMode | None = None,
    list_id: Annotated[str | None, Query(alias="list", pattern=LIST_ID.pattern, examples=["yrd-first-list.v1"])] = None,
    status_: Annotated[ItemStatusName | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=512, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    check_locality(ctx, locality)
    terms = query_terms(q) if q is not None else []
    if q is not None and not terms:
        raise invalid("query.q", "holds no searchable word or character")
    if len(terms) > MAX_TERMS:
        raise invalid("query.q", f"holds more than {MAX_TERMS} search terms")
    filters = {"terms": terms, "area": area, "locality": locality, "mode": mode, "list": list_id, "status": status_}
    try:
        after = decode_cursor(cursor, filters) if cursor else None
    except InvalidContent as exc:
        raise invalid_content(exc, "query") from exc
    async with uow:
        if list_id and not await ListRepository(uow.session).exists(list_id):
            raise invalid("query.list", f"there is no list {list_id}")
        found = await ItemRepository(uow.session).search(
            ItemFilter(terms=terms, area=area, locality=locality, mode=mode, list_id=list_id, status=status_),
            after, limit + 1,
        )
    page = found[:limit]
    next_cursor = encode_cursor(page[-1].code, filters) if len(found) > limit else None
    return conditional_json(request, ItemPage(items=[ItemView.of(i) for i in page], next_cursor=next_cursor))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a draft item")
async def create_item(draft: ItemDraft, uow: Uow, _caller: Regional) -> ItemView:
    try:
        item = Item(**{**draft.model_dump(), "modes": tuple(draft.modes), "keywords": tuple(draft.keywords),
                       "licence_types": tuple((t.code, t.name) for t in draft.licence_types)})
    except InvalidContent as exc:
        raise invalid_content(exc) from exc
    async with uow, concurrently_changed():
        if await ItemRepository(uow.session).get(draft.code) is not None:
            raise Conflict(f"item {draft.code} exists already")
        item = await save_item(uow, None, item)
        await uow.commit()
    return ItemView.of(item)


@router.get(
    "/{code}",
    summary="One item, with its committed time limit in each locality",
    response_model=ItemDetail,
    responses={304: {"description": "Not modified"}, 404: {"description": "No such item"}},
)
async def get_item(code: str, request: Request, uow: Uow, _caller: Reader) -> Response:
    async with uow:
        items = ItemRepository(uow.session)
        item = await _load(items, code)
        days = await StandardRepository(uow.session).days_by_locality(code)
        codes = {s.locality: s.implementation_code
                 for s in await StandardRepository(uow.session).of_item(code) if s.implementation_code}
        lists = await items.lists_of(code)
    detail = ItemDetail(
        **ItemView.of(item).model_dump(),
        committed_days_by_locality={loc: committed for loc, (_legal, committed) in days.items()},
        legal_days_by_locality={loc: legal for loc, (legal, _committed) in days.items()},
        localities=list(days),
        lists=lists,
        implementation_codes_by_locality=codes,
    )
    return conditional_json(request, detail)


@router.patch("/{code}", summary="Edit an item (a published item becomes its next revision)")
async def edit_item(code: str, body: ItemPatch, uow: Uow, _caller: Regional) -> ItemView:
    changes = body.model_dump(exclude_none=True)
    async with uow, concurrently_changed():
        stores = StandardRepository(uow.session)
        before = await _load(ItemRepository(uow.session), code)
        if "committed_days" in changes and await stores.days_by_locality(code):
            raise Conflict(f"the committed time limit of {code} follows its business standards; change those")
        if "modes" in changes:
            orphaned = [p.mode for p in await stores.procedures_of(code) if p.mode not in changes["modes"]]
            if orphaned:
                raise Conflict(f"item {code} has a procedure for the mode {orphaned[0]}; it must keep that mode")
        try:
            after = before.edit(**changes)
        except ItemRuleViolation as exc:
            raise Conflict(str(exc)) from exc
        except InvalidContent as exc:
            raise invalid_content(exc) from exc
        after = await save_item(uow, before, after)
        await uow.commit()
    return ItemView.of(after)


@router.post("/{code}/publish", summary="Publish an item to every locality")
async def publish_item(code: str, uow: Uow, _caller: Regional) -> ItemView:
    async with uow, concurrently_changed():
        before = await _load(ItemRepository(uow.session), code)
        try:
            after = before.publish()
        except ItemRuleViolation as exc:
            raise Conflict(str(exc)) from exc
        after = await save_item(uow, before, after)
        await uow.commit()
    return ItemView.of(after)


@router.post("/{code}/withdraw", summary="Withdraw a published item")
async def withdraw_item(code: str, body: Withdrawal, uow: Uow, _caller: Regional) -> ItemView:
    async with uow, concurrently_changed():
        before = await _load(ItemRepository(uow.session), code)
        try:
            after = before.withdraw()
        except ItemRuleViolation as exc:
            raise Conflict(str(exc)) from exc
        after = await save_item(uow, before, after, withdrawal_reason=body.reason)
        await uow.commit()
    return ItemView.of(after)


# ---------------------------------------------------------------------------- standards


@router.get(
    "/{code}/standards",
    summary="The item's business standards (of one locality with ?locality=)",
    response_model=StandardsView,
    responses={304: {"description": "Not modified"}, 404: {"description": "No such item, or no standard there"}},
)
async def get_standards(
    code: str,
    request: Request,
    uow: Uow,
    ctx: Ctx,
    _caller: Reader,
    locality: Annotated[str | None, Query(pattern=LOCALITY_PATTERN)] = None,
) -> Response:
    check_locality(ctx, locality)
    async with uow:
        item = await _load(ItemRepository(uow.session), code)
        standards = await StandardRepository(uow.session).of_item(code)
    if locality is not None:
        standards = [s for s in standards if s.locality == locality]
        if not standards:
            raise NotFound(f"item {code} has no business standard in {locality}")
    view = StandardsView(
        item_code=item.code, status=item.status, revision=item.revision,
        ownership_rule=item.ownership_rule,  # type: ignore[arg-type]
        modes=list(item.modes),  # type: ignore[arg-type]
        committed_days=item.committed_days,
        standards=[StandardView.of(s) for s in standards],
    )
    return conditional_json(request, view)


@router.get(
    "/{code}/standards/diff",
    summary="Where the localities' standards of the item differ, field by field",
    response_model=StandardsDiff,
    responses={304: {"description": "Not modified"}, 404: {"description": "No such item"}},
)
async def diff_standards(
    code: str,
    request: Request,
    uow: Uow,
    ctx: Ctx,
    _caller: Reader,
    localities: Annotated[str | None, Query(
        pattern=r"^[1-8]\d{5}(,[1-8]\d{5})*$", description="Comma-separated localities to compare (default: all)"
    )] = None,
) -> Response:
    chosen = localities.split(",") if localities else None
    for locality in chosen or ():
        check_locality(ctx, locality, "query.localities")
    async with uow:
        await _load(ItemRepository(uow.session), code)
        standards = await StandardRepository(uow.session).of_item(code)
    if chosen is not None:
        standards = [s for s in standards if s.locality in chosen]
    differences, identical = compare({s.locality: s.content() for s in standards})
    view = StandardsDiff(
        item_code=code, localities=[s.locality for s in standards],
        differences=[DifferenceView(field=d.field, values=d.values) for d in differences], identical=identical,
    )
    return conditional_json(request, view)


@router.put("/{code}/standards/{locality:locality}", summary="Set the item's business standard in a locality")
async def put_standard(
    code: str, locality: LocalityCode, body: StandardBody, uow: Uow, ctx: Ctx, _caller: StandardWriter
) -> StandardView:
    if not ITEM_CODE.match(code):
        raise NotFound(f"no item {code}")
    if locality not in ctx.localities:
        raise NotFound(f"no locality {locality}")
    try:
        standard = body.domain(code, locality)
    except InvalidContent as exc:
        raise invalid_content(exc) from exc
    async with uow, concurrently_changed():
        before = await _load(ItemRepository(uow.session), code)
        if await StandardRepository(uow.session).get(code, locality) != standard:
            try:
                after = before.revised()
            except ItemRuleViolation as exc:
                raise Conflict(str(exc)) from exc
            await save_item(uow, before, after, standards=[standard])
            await uow.commit()
    return StandardView.of(standard)


@router.delete(
    "/{code}/standards/{locality:locality}", status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove the item's business standard in a locality",
)
async def delete_standard(code: str, locality: LocalityCode, uow: Uow, ctx: Ctx, _caller: StandardWriter) -> Response:
    if locality not in ctx.localities:
        raise NotFound(f"no locality {locality}")
    async with uow, concurrently_changed():
        before = await _load(ItemRepository(uow.session), code)
        try:
            after = before.revised()
        except ItemRuleViolation as exc:
            raise Conflict(str(exc)) from exc
        if not await StandardRepository(uow.session).remove(code, locality):
            raise NotFound(f"item {code} has no business standard in {locality}")
        await save_item(uow, before, after)
        await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------------------- procedures


@router.get("/{code}/procedures", summary="The item's handling procedures, one per mode",
            response_model=list[ProcedureView])
async def get_procedures(code: str, request: Request, uow: Uow, _caller: Reader) -> Response:
    async with uow:
        item = await _load(ItemRepository(uow.session), code)
        procedures = await StandardRepository(uow.session).procedures_of(code)
    ordered = sorted(procedures, key=lambda p: item.modes.index(p.mode) if p.mode in item.modes else 99)
    return conditional_json(request, [ProcedureView.of(p) for p in ordered])


@router.put("/{code}/procedures/{mode}", summary="Set the item's procedure in one mode")
async def put_procedure(
    code: str, mode: HandlingMode, body: ProcedureBody, uow: Uow, _caller: Regional
) -> ProcedureView:
    if not ITEM_CODE.match(code):
        raise NotFound(f"no item {code}")
    try:
        procedure = body.domain(code, mode)
    except InvalidContent as exc:
        raise invalid_content(exc) from exc
    async with uow, concurrently_changed():
        before = await _load(ItemRepository(uow.session), code)
        if mode not in before.modes:
            raise invalid("path.mode", f"item {code} does not support the mode {mode}")
        current = {p.mode: p for p in await StandardRepository(uow.session).procedures_of(code)}
        if current.get(mode) != procedure:
            try:
                after = before.revised()
            except ItemRuleViolation as exc:
                raise Conflict(str(exc)) from exc
            await save_item(uow, before, after, procedures=[procedure])
            await uow.commit()
    return ProcedureView.of(procedure)
