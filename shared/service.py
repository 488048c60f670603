"""The frame of every service: a FastAPI application with its database, outbox, bus and probes.

A service hands :func:`create_app` a :class:`ServiceDefinition` (its tables, routes, event
handlers and migrations); the frame runs its migrations, its outbox relay and its consumer group,
and adds ``/healthz``, ``/readyz``, ``/metrics``, problem+json errors, trace ids and JSON logs.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import MetaData, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.responses import JSONResponse

import shared.contracts  # noqa: F401  (registers every event type)
from shared import asyncapi, openapi
from shared import clock as clock_module
from shared.auth import JwksCache, JwksFetcher, TokenVerifier, http_jwks_fetcher
from shared.background import BackgroundTask, BackgroundTasks
from shared.bus import Bus, Subscription, create_bus
from shared.consumer import EventDispatcher, EventHandler
from shared.contracts.authorization import ClientRevoked
from shared.db import create_engine, secure_data_dir
from shared.envelope import Envelope, Event, Record
from shared.http_observe import RequestObserver
from shared.kafka_security import KafkaSecurity
from shared.limits import RequestLimits
from shared.localities import LocalityRegistry
from shared.metrics import ServiceMetrics
from shared.migrations import upgrade
from shared.outbox import OutboxRelay
from shared.problems import install_problem_handlers
from shared.settings import AUDIENCES, Settings
from shared.uow import UnitOfWork

log = logging.getLogger("tongban.service")

DOCS_PAGES = frozenset({"/docs", "/redoc"})
DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'")
"""The docs pages load only what the service serves (ReDoc's bundle would fetch its logo from a CDN)."""


@dataclass
class ServiceDefinition:
    """What makes one service: its name, tables, routes, handlers and migrations."""

    name: str
    title: str
    metadata: MetaData
    outbox: Table
    inbox: Table
    migrations: Path
    routers: list[APIRouter] = field(default_factory=list)
    handlers: dict[str, EventHandler] = field(default_factory=dict)
    on_startup: Callable[[ServiceContext], Awaitable[None]] | None = None
    description: str = ""
    on_shutdown: Callable[[ServiceContext], Awaitable[None]] | None = None
    consumes_dead_letters: bool = False
    """Also read the dead-letter topics (records reach ``record_observers`` only)."""
    record_observers: list[Callable[[ServiceContext, Record], Awaitable[None]]] = field(default_factory=list)
    """Called with every raw record the service reads, before it is decoded (e.g. for a live view)."""
    batch_observers: list[Callable[[ServiceContext, Sequence[Record]], Awaitable[None]]] = field(
        default_factory=list)
    """Like ``record_observers``, with the raw records of a whole fetch at once (one transaction for them)."""
    event_observers: list[Callable[[ServiceContext, Envelope, Event], None]] = field(default_factory=list)
    """Called with every valid event the service reads (each copy, before the inbox), e.g. to drop a cache."""
    local_jwks: Callable[[ServiceContext], JwksFetcher] | None = None
    """Where the service reads the JWKS from itself (the authorization service); others use HTTP."""
    embedded_routers: list[APIRouter] = field(default_factory=list)
    """Development routes, mounted only in the embedded system (never under production settings)."""
    streamed_bodies: dict[str, Callable[[Settings], int]] = field(default_factory=dict)
    """Path → the body cap of a route that reads its own body as a stream (the frame does not buffer it)."""
    key_names: tuple[str, ...] = ()
    """The service's own keys (shared/keys.py), read (or, embedded, generated) at start: a missing one stops it."""

    @property
    def group(self) -> str:
        """The service's consumer group."""
        return f"tongban-{self.name}"


class ServiceContext:
    """What a running service holds: settings, database, bus, relay, metrics."""

    def __init__(
        self,
        definition: ServiceDefinition,
        settings: Settings,
        localities: LocalityRegistry,
        engine: AsyncEngine,
        bus: Bus,
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.localities = localities
        self.engine = engine
        self.bus = bus
        self.metrics = ServiceMetrics(definition.name)
        self.keys = settings.keys_for(definition.name)
        """This service's own keys (no other service's); repositories find them in ``session.info``."""
        self.sessionmaker = async_sessionmaker(engine, expire_on_commit=False, info={"keys": self.keys})
        self.relay = OutboxRelay(
            engine,
            definition.outbox,
            bus,
            self.metrics,
            batch_size=settings.outbox_batch_size,
            poll_seconds=settings.outbox_poll_seconds,
            max_backoff_seconds=settings.outbox_max_backoff_seconds,
        )
        self.tasks = BackgroundTasks()
        """The service's background tasks (``on_startup`` starts them): stopped before ``on_shutdown`` runs."""
        self.subscription: Subscription | None = None
        self.topics_ready = False
        self.commit_listeners: list[Callable[[], None]] = []
        """Called after every commit (the outbox relay is woken only by commits that wrote events)."""
        self.state: dict[str, Any] = {}
        """Service-specific objects made at start (e.g. the authorization service's keyring)."""
        fetcher = (
            definition.local_jwks(self) if definition.local_jwks else http_jwks_fetcher(settings.jwks_url())
        )
        self.jwks = JwksCache(fetcher)
        self.clock = clock_module.with_offset(settings.clock_offset_seconds)
        """The process's clock (``TONGBAN_CLOCK_OFFSET_SECONDS``): every time-dependent rule reads it."""
        self.verifier = TokenVerifier(
            self.jwks, settings.auth_issuer, AUDIENCES[definition.name], settings.auth_clock_skew_seconds,
            clock=self.clock,
        )

    def uow(self) -> UnitOfWork:
        """A new unit of work on this service's database."""
        return UnitOfWork(
            self.sessionmaker,
            self.definition.outbox,
            self.definition.inbox,
            self.localities,
            source=f"/tongban/{self.definition.name}",
            on_commit=self._committed,
            on_publish=self.relay.notify,
        )

    def _committed(self) -> None:
        for listener in self.commit_listeners:
            listener()

    def dispatcher(self) -> EventDispatcher:
        """The record handler of this service's consumer group."""
        return EventDispatcher(
            self.definition.group,
            self.definition.handlers,
            self.uow,
            self.bus,
            self.metrics,
            self.localities.dead_letter_topic_of,
            max_attempts=self.settings.handler_max_attempts,
            observers=[self._observe],
            record_observers=[partial(watch, self) for watch in self.definition.record_observers],
            batch_observers=[partial(batch, self) for batch in self.definition.batch_observers],
            context=self,
        )

    def _observe(self, envelope: Envelope, event: Event) -> None:
        if isinstance(event, ClientRevoked):
            self.jwks.revoke_client(event.client_id)
        for observe in self.definition.event_observers:
            observe(self, envelope, event)

    async def connect_bus(self) -> None:
        """Create the topics and join the consumer group, retrying while the bus is away."""
        delay = 0.5
        while True:
            try:
                await self.bus.ensure_topics(
                    self.localities.all_topics,
                    self.settings.topic_partitions,
                    self.settings.topic_replication_factor,
                )
                break
            except Exception as exc:
                log.warning("topics not ready; retrying", extra={"error": repr(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.topics_ready = True
        self.relay.start()
        topics = self.localities.all_topics if self.definition.consumes_dead_letters else self.localities.topics
        self.subscription = await self.bus.subscribe(self.definition.group, topics, self.dispatcher())


# The dependencies are coroutines: FastAPI runs a plain ``def`` dependency in its thread pool, a hop
# to a worker thread and back on every request for what is an attribute lookup.


async def get_context(request: Request) -> ServiceContext:
    """FastAPI dependency: the running service."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx


async def get_uow(request: Request) -> UnitOfWork:
    """FastAPI dependency: a unit of work of the running service."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx.uow()


def _metrics_of(app: Any) -> ServiceMetrics | None:
    ctx: ServiceContext | None = getattr(getattr(app, "state", None), "ctx", None)
    return ctx.metrics if ctx is not None else None


def _docs_headers(path: str) -> dict[str, str]:
    return {"Content-Security-Policy": DOCS_POLICY} if path in DOCS_PAGES else {}


def create_app(
    definition: ServiceDefinition,
    settings: Settings,
    *,
    bus: Bus | None = None,
    database_url: str | None = None,
    event_consumers: Mapping[str, Collection[str]] | None = None,
) -> FastAPI:
    """The FastAPI application of one service.

    ``bus`` is given when several services share one in-process bus (``tongban up``); otherwise
    the service makes and owns the bus its settings name. ``event_consumers`` (service → handled
    event types) fills the consumers of the AsyncAPI document; by default only this service's.
    """
    owns_bus = bus is None
    localities = LocalityRegistry.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not (database_url or settings.database_url):  # the embedded data folder: the owner's alone
            secure_data_dir(settings.data_dir)
        engine = create_engine(
            database_url or settings.database_url_for(definition.name), settings.database_pool_size
        )
        await upgrade(engine, definition.migrations)
        the_bus = bus or create_bus(
            settings.bus, settings.kafka_bootstrap_servers, client_id=f"tongban-{definition.name}",
            security=KafkaSecurity.from_settings(settings) if settings.bus == "kafka" else None,
            batch_wait_ms=settings.consumer_batch_wait_ms, fetch_min_bytes=settings.consumer_fetch_min_bytes,
            fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
        )
        if owns_bus:
            await the_bus.start()
        ctx = ServiceContext(definition, settings, localities, engine, the_bus)
        for key_name in definition.key_names:  # fail now, not on the first request that needs it
            ctx.keys.keyset(key_name)
        app.state.ctx = ctx
        if definition.on_startup is not None:
            await definition.on_startup(ctx)
        connecting = BackgroundTask(f"{definition.name}-connect-bus", ctx.connect_bus)
        connecting.start()
        # What start-up made (modules, tables, models) lives as long as the process: out of the
        # garbage collector's generations, full collections under load no longer walk it.
        gc.collect()
        gc.freeze()
        log.info("service started", extra={"service": definition.name, "bus": type(the_bus).__name__})
        try:
            yield
        finally:
            await connecting.stop()
            if ctx.subscription is not None:
                await ctx.subscription.stop()
            await ctx.tasks.stop_all()
            if definition.on_shutdown is not None:
                await definition.on_shutdown(ctx)
            await ctx.relay.stop()
            if owns_bus:
                await the_bus.stop()
            await engine.dispose()

    # Swagger UI and ReDoc from the fastapi-offline package's own copies: locality networks often
    # have no internet access, so the docs may load nothing from a CDN.
    app = FastAPIOffline(
        title=definition.title,
        description=definition.description,
        version="0.1.0",
        lifespan=lifespan,
        generate_unique_id_function=openapi.operation_id,
    )
    install_problem_handlers(app)
    openapi.install(app)  # the problems every route answers, one Problem schema, Location on 201
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        max_header_bytes=settings.max_header_bytes,
        max_json_depth=settings.max_json_depth,
        streamed={path: cap(settings) for path, cap in definition.streamed_bodies.items()},
    )

    app.add_middleware(RequestObserver, metrics=_metrics_of, extra_headers=_docs_headers)

    probes = APIRouter(tags=["probes"])

    @probes.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> Liveness:
        return Liveness(status="ok", service=definition.name)

    @probes.get("/readyz", summary="Readiness: 503 without the database; degraded without the bus",
                response_model=Readiness,
                responses={503: {"model": Readiness, "description": "the database is not reachable"}})
    async def readyz(ctx: ServiceContext = Depends(get_context)) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with ctx.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        checks["bus"] = "ok" if await ctx.bus.healthy() else "unavailable"
        checks["topics"] = "ok" if ctx.topics_ready else "not yet created"
        # Without the bus the service still takes requests (events wait in the outbox): degraded, not
        # unready, so that a Kafka outage does not take every replica out of its load balancer.
        if checks["database"] != "ok":
            state, code = "not ready", 503
        elif checks["bus"] != "ok" or checks["topics"] != "ok":
            state, code = "degraded", 200
        else:
            state, code = "ready", 200
        return JSONResponse({"status": state, "service": definition.name, "checks": checks}, status_code=code)

    @probes.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics(ctx: ServiceContext = Depends(get_context)) -> Response:
        return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    consumers = dict(event_consumers or {definition.name: set(definition.handlers)})

    @probes.get("/asyncapi.json", summary="The AsyncAPI 3.0 document of every topic and event type",
                response_class=JSONResponse)
    async def asyncapi_document() -> dict[str, Any]:
        return asyncapi.build(localities, consumers, partitions=settings.topic_partitions,
                              replicas=settings.topic_replication_factor)

    app.include_router(probes)
    for router in definition.routers:
        app.include_router(router)
    if settings.environment == "embedded" and settings.bus == "memory":
        for router in definition.embedded_routers:
            app.include_router(router)
    return app


class Liveness(BaseModel):
    """The process answers."""

    status: str = Field(examples=["ok"])
    service: str


class Readiness(BaseModel):
    """Whether the service can take requests, and what it checked."""

    status: str = Field(description="`ready`, `degraded` (no bus: events wait in the outbox) or `not ready`.")
    service: str
    checks: dict[str, str] = Field(description="database, bus, topics: `ok` or why not.")


SessionFactory = async_sessionmaker[AsyncSession]


@asynccontextmanager
async def standalone(
    definition: ServiceDefinition, settings: Settings, database_url: str | None = None
) -> AsyncIterator[ServiceContext]:
    """A service's context without its server, for command-line tasks on its database.

    Events written here wait in the outbox until the service itself runs and relays them.
    """
    from shared.bus import MemoryBus

    engine = create_engine(database_url or settings.database_url_for(definition.name))
    await upgrade(engine, definition.migrations)
    ctx = ServiceContext(definition, settings, LocalityRegistry.from_settings(settings), engine, MemoryBus())
    try:
        yield ctx
    finally:
        await engine.dispose()
