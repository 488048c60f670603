"""The authorization service as an application."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import Any

from services.authorization import api, events, store, throttling
from services.authorization.domain import ISSUER, verify_secret_or_dummy
from services.authorization.service import AuditChainer, Keyring, sign_checkpoint
from shared.auth import JwksFetcher
from shared.background import every
from shared.service import ServiceContext, ServiceDefinition

log = logging.getLogger("tongban.authorization")


async def on_startup(ctx: ServiceContext) -> None:
    """Give every locality and the token issuer a key; start chaining and checkpointing the audit log."""
    keyring = Keyring(ctx.keys, ctx.settings.crypto_suite)
    ctx.state["keyring"] = keyring
    async with ctx.uow() as uow:
        await keyring.ensure(uow.session, [ISSUER, *ctx.localities.codes])
        await uow.commit()
    ctx.state["throttle"] = throttling.token_throttle(ctx)
    verify_secret_or_dummy("", None)  # the dummy hash made now, not on the first unknown id
    ctx.tasks.start("authorization-failure-audit", every(
        throttling.audit_interval(ctx), partial(throttling.audit_closed_windows, ctx),
        "auditing failed attempts", first_after=True))
    chainer = AuditChainer(ctx.engine, hash_alg=keyring.suite.hash)
    ctx.state["chainer"] = chainer
    ctx.commit_listeners.append(chainer.notify)
    chainer.start()
    ctx.tasks.start("authorization-checkpoints", every(
        ctx.settings.audit_checkpoint_seconds, partial(_checkpoint_all, ctx, keyring), "audit checkpoints",
        first_after=True))


async def _checkpoint_all(ctx: ServiceContext, keyring: Keyring) -> None:
    for code in ctx.localities.codes:
        try:
            async with ctx.uow() as uow:
                await sign_checkpoint(uow.session, keyring, code)
                await uow.commit()
        except Exception as exc:
            log.warning("audit checkpoint failed", extra={"locality": code, "error": repr(exc)})


async def on_shutdown(ctx: ServiceContext) -> None:
    """Stop chaining the audit log (the frame stopped the other background tasks)."""
    await ctx.state["chainer"].stop()


def local_jwks(ctx: ServiceContext) -> JwksFetcher:
    """The authorization service reads its own keys from its database."""

    async def fetch() -> dict[str, Any]:
        async with ctx.uow() as uow:
            return await Keyring.jwks(uow.session)

    return fetch


DEFINITION = ServiceDefinition(
    name="authorization",
    key_names=(Keyring.SEAL_KEY,),
    title="Tongban authorization",
    description="Trust between localities: keys, agreements, delegations, attestations, consents, "
    "credentials for locality systems, and a tamper-evident audit log.",
    metadata=store.Base.metadata,
    outbox=store.outbox,
    inbox=store.inbox,
    migrations=Path(__file__).parent / "migrations",
    routers=api.routers,
    handlers=events.HANDLERS,
    on_startup=on_startup,
    on_shutdown=on_shutdown,
    local_jwks=local_jwks,
)
