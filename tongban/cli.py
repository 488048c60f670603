"""``tongban``: run the whole system embedded, or one service as its own process."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
import uvicorn

from shared.localities import LocalityRegistry
from shared.observability import configure_logging
from shared.settings import Settings
from tongban.registry import APPLICATION_NAMES
from tongban.simulator import carrier_app

app = typer.Typer(help="Tongban (通办): cross-provincial handling of government services.",
                  no_args_is_help=True)
db_app = typer.Typer(help="Databases of the services.", no_args_is_help=True)
kafka_app = typer.Typer(help="Kafka topics of the localities.", no_args_is_help=True)
clients_app = typer.Typer(help="Client credentials of locality systems.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
app.add_typer(db_app, name="db")
app.add_typer(kafka_app, name="kafka")
app.add_typer(carrier_app, name="carrier")


def _service(name: str) -> str:
    if name not in APPLICATION_NAMES:
        raise typer.BadParameter(f"one of {', '.join(APPLICATION_NAMES)}")
    return name


@app.command()
def up() -> None:
    """Run all four services and the dashboard in this process: SQLite under the data folder, in-process bus."""
    from tongban.embedded import run_embedded

    settings = Settings(bus="memory", environment="embedded")
    configure_logging(settings.log_level, settings.log_json)
    try:
        asyncio.run(run_embedded(settings))
    except KeyboardInterrupt:
        pass


@app.command()
def serve(service: Annotated[str, typer.Argument(callback=_service, help="Which service.")]) -> None:
    """Run one service (or the dashboard) as its own process, configured by TONGBAN_* environment variables."""
    from shared.service import create_app
    from tongban.registry import declared_consumers, definition

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    application = create_app(definition(service), settings, event_consumers=declared_consumers())
    # The dashboard's live streams never end by themselves: give them a moment, then close them.
    grace = {"timeout_graceful_shutdown": 3} if service == "dashboard" else {}
    uvicorn.run(application, host=settings.host, port=settings.port_for(service), log_config=None,
                access_log=False, **grace)  # type: ignore[arg-type]


@app.command()
def localities() -> None:
    """List the localities and their topics."""
    registry = LocalityRegistry.from_settings(Settings())
    for loc in registry:
        typer.echo(f"{loc.code}  {registry.topic(loc.code):<32} {loc.name_zh} / {loc.name_en}")


@db_app.command("upgrade")
def db_upgrade(service: Annotated[str, typer.Argument(callback=_service)]) -> None:
    """Bring a service's database (TONGBAN_DATABASE_URL) to the newest migration."""
    from shared.db import create_engine
    from shared.migrations import upgrade
    from tongban.registry import definition

    settings = Settings()

    async def run() -> None:
        engine = create_engine(settings.database_url_for(service))
        await upgrade(engine, definition(service).migrations)
        await engine.dispose()

    asyncio.run(run())
    typer.echo(f"{service}: database at the newest revision")


@kafka_app.command("create-topics")
def kafka_create_topics() -> None:
    """Create every locality topic and dead-letter topic that is missing."""
    from shared.kafka_bus import KafkaBus
    from shared.kafka_security import KafkaSecurity

    settings = Settings()
    registry = LocalityRegistry.from_settings(settings)

    async def run() -> None:
        bus = KafkaBus(settings.kafka_bootstrap_servers, security=KafkaSecurity.from_settings(settings))
        await bus.ensure_topics(registry.all_topics, settings.topic_partitions,
                                settings.topic_replication_factor)

    asyncio.run(run())
    typer.echo(json.dumps(registry.all_topics, indent=2))


@app.command()
def traffic(
    rate: Annotated[float, typer.Option(min=0.1, max=200, help="New cases per second.")] = 2.0,
    duration: Annotated[float, typer.Option(min=1, max=86_400, help="Seconds to play (then it stops).")] = 60.0,
    max_cases: Annotated[int | None, typer.Option(min=1, max=1_000_000,
                                                  help="Stop after this many cases (default rate x duration).")] = None,
    credentials: Annotated[str | None, typer.Option(
        help="JSON file of client credentials (default: TONGBAN_DATA_DIR/credentials.json of `tongban up`).")] = None,
    host: Annotated[str, typer.Option(help="Where the services answer (loopback only).")] = "127.0.0.1",
    seed: Annotated[int | None, typer.Option(help="Seed of the random choices, for a repeatable run.")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar; print the summary only.")] = False,
) -> None:
    """Play realistic cases across the localities against a running system, with a progress bar."""
    from pathlib import Path

    from tongban.traffic import TrafficError, TrafficPlan, run_traffic

    settings = Settings()
    configure_logging("WARNING", False)
    plan = TrafficPlan(rate=rate, duration=duration, max_cases=max_cases, seed=seed)
    try:
        summary = asyncio.run(run_traffic(settings, plan, host=host,
                                          credentials=Path(credentials) if credentials else None,
                                          progress=not quiet))
    except TrafficError as exc:
        typer.echo(f"traffic: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
    if summary.submitted == 0:
        raise typer.Exit(1)


@clients_app.command("bootstrap")
def clients_bootstrap() -> None:
    """Create one client per locality in the authorization database; print them as JSON (secrets once)."""
    from services.authorization.service import bootstrap_clients
    from shared.service import standalone
    from tongban.registry import definition

    settings = Settings()

    async def run() -> list[dict[str, object]]:
        async with standalone(definition("authorization"), settings) as ctx, ctx.uow() as uow:
            issued = await bootstrap_clients(uow)
            await uow.commit()
            return issued

    typer.echo(json.dumps(asyncio.run(run()), ensure_ascii=False, indent=2))


@clients_app.command("register")
def clients_register(
    locality: Annotated[str, typer.Option(help="The locality the client belongs to (e.g. the joint office's host).")],
    name: Annotated[str, typer.Option(help="What the client is, e.g. 长三角区域合作办公室 catalogue desk.")],
    role: Annotated[list[str] | None, typer.Option(help="A role to grant (repeat the option); any role, "
                                                         "the regional ones included.")] = None,
    regional: Annotated[bool, typer.Option(help="Grant the joint office's roles: regional_catalogue, "
                                                "regional_calendar and regional_operator.")] = False,
) -> None:
    """Register one client with chosen roles; print it as JSON (its secret once).

    The only way to grant the joint office's regional roles: it needs the authorization service's
    database, which the operators of the deployment hold, not a locality's maintainer token.
    """
    from services.authorization.service import REGIONAL_OFFICE_ROLES, register_client
    from shared.auth import Role
    from shared.service import standalone
    from tongban.registry import definition

    try:
        roles = [Role(r) for r in role or []] + (REGIONAL_OFFICE_ROLES if regional else [])
    except ValueError as exc:
        raise typer.BadParameter(f"{exc}; roles: {', '.join(r.value for r in Role)}") from exc
    if not roles:
        raise typer.BadParameter("name at least one --role, or --regional")
    settings = Settings()

    async def run() -> dict[str, object]:
        async with standalone(definition("authorization"), settings) as ctx, ctx.uow() as uow:
            if locality not in uow.localities:
                raise typer.BadParameter(f"locality {locality} is not registered")
            client, secret = await register_client(uow, locality, name, roles)
            await uow.commit()
            return {"locality": locality, "name": name, "client_id": client.client_id, "client_secret": secret,
                    "roles": [r.value for r in client.roles]}

    typer.echo(json.dumps(asyncio.run(run()), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    app()
