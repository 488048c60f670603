"""Subscriptions of the caller's locality: create, read, change, delete, rotate the secret, resume."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Response, status

from services.webhooks.api.common import Ctx, Manager, Operator, Reader, Uow, domain_errors, now, rules
from services.webhooks.api.schemas import (
    Resumed,
    RotationIn,
    SecretRotated,
    SubscriptionChange,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)
from services.webhooks.service import (
    change_subscription,
    create_subscription,
    load_own,
    resume,
    rotate_secret,
)
from services.webhooks.store import SubscriptionRepository

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])
REFUSED: dict[int | str, dict[str, Any]] = {
    422: {"description": "the endpoint is refused (not HTTPS, or it resolves to a private address)"}}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated, responses=REFUSED,
             summary="Subscribe an endpoint to the caller's locality's events (the secret is shown once)")
async def create(body: SubscriptionIn, uow: Uow, ctx: Ctx, caller: Manager) -> SubscriptionCreated:
    async with uow:
        with domain_errors():
            sub, secret = await create_subscription(uow, rules(ctx), caller.locality, str(body.url),
                                                    body.event_types, body.description, now(ctx))
    return SubscriptionCreated(**SubscriptionOut.of(sub).model_dump(), secret=secret)


@router.get("", response_model=SubscriptionList, summary="The caller's locality's subscriptions")
async def list_subscriptions(uow: Uow, ctx: Ctx, caller: Reader) -> SubscriptionList:
    async with uow:
        subs = await SubscriptionRepository(uow.session, rules(ctx).sealer).of_locality(caller.locality)
    return SubscriptionList(subscriptions=[SubscriptionOut.of(s) for s in subs])


@router.get("/{subscription_id}", response_model=SubscriptionOut, summary="One subscription")
async def get_subscription(subscription_id: str, uow: Uow, ctx: Ctx, caller: Reader) -> SubscriptionOut:
    async with uow:
        return SubscriptionOut.of(await load_own(uow, rules(ctx), subscription_id, caller.locality))


@router.patch("/{subscription_id}", response_model=SubscriptionOut, responses=REFUSED,
              summary="Change a subscription's endpoint, filter or description")
async def change(subscription_id: str, body: SubscriptionChange, uow: Uow, ctx: Ctx,
                 caller: Manager) -> SubscriptionOut:
    async with uow:
        sub = await load_own(uow, rules(ctx), subscription_id, caller.locality, for_update=True)
        with domain_errors():
            await change_subscription(uow, rules(ctx), sub, str(body.url) if body.url else None,
                                      body.event_types, body.description, now(ctx))
    return SubscriptionOut.of(sub)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               summary="Delete a subscription with its waiting deliveries and its log")
async def delete(subscription_id: str, uow: Uow, ctx: Ctx, caller: Manager) -> Response:
    async with uow:
        await load_own(uow, rules(ctx), subscription_id, caller.locality, for_update=True)
        await SubscriptionRepository(uow.session, rules(ctx).sealer).delete(subscription_id)
        await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{subscription_id}/secret", response_model=SecretRotated,
             summary="Rotate the secret: the old one keeps signing beside the new one for the overlap")
async def rotate(subscription_id: str, uow: Uow, ctx: Ctx, caller: Manager,
                 body: RotationIn | None = None) -> SecretRotated:
    seconds = body.overlap_seconds if body is not None else None
    overlap = timedelta(seconds=seconds) if seconds is not None else None
    async with uow:
        sub = await load_own(uow, rules(ctx), subscription_id, caller.locality, for_update=True)
        with domain_errors():
            secret = await rotate_secret(uow, rules(ctx), sub, overlap, now(ctx))
    previous = [s.expires_at for s in sub.secrets[1:] if s.expires_at is not None]
    return SecretRotated(secret=secret, previous_valid_until=max(previous) if previous else None,
                         subscription=SubscriptionOut.of(sub))


@router.post("/{subscription_id}/resume", response_model=Resumed,
             responses={409: {"description": "the subscription is not failing"}},
             summary="Resume a failing subscription (operators): its waiting deliveries go out in order")
async def resume_subscription(subscription_id: str, uow: Uow, ctx: Ctx, caller: Operator) -> Resumed:
    async with uow:
        sub = await load_own(uow, rules(ctx), subscription_id, caller.locality, for_update=True)
        with domain_errors():
            waiting = await resume(uow, rules(ctx), sub, caller.client_id, now(ctx))
    ctx.state["dispatcher"].notify()
    return Resumed(subscription=SubscriptionOut.of(sub), waiting=waiting)
