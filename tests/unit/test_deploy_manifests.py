"""The deployment manifests agree with the code.

deploy/compose/compose.yaml and every YAML file of deploy/k8s are parsed and checked against
shared/settings.py (service names, default ports, the Settings fields that TONGBAN_* variables
name), the probe routes that shared/service.py really serves, and each other (Kafka broker count
and replication factor, database names). No network, no containers: it only reads files.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from shared.settings import DEFAULT_PORTS, SERVICE_NAMES, Settings
from tongban.registry import APPLICATION_NAMES, definition

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "compose" / "compose.yaml"
INITDB_SQL = DEPLOY / "compose" / "initdb" / "01-databases.sql"
DOCKERFILE = DEPLOY / "Dockerfile"
K8S = DEPLOY / "k8s"
OPERATIONS_DOC = REPO / "docs" / "operations.md"

SINGLE_REPLICA = frozenset({"dashboard"})
"""Applications that run exactly one replica: the dashboard's live stream shows what its one process reads."""
CONSUMER_GROUP_KEYS = ("cn.tongban.consumer-group", "tongban.cn/consumer-group")
"""The compose label and the Kubernetes annotation that name an application's consumer group."""

SETTING_VARIABLES = frozenset("TONGBAN_" + name.upper() for name in Settings.model_fields)
"""Every environment variable that Settings reads: TONGBAN_ + a field name in upper case."""

TONGBAN_NAME = re.compile(r"\bTONGBAN_[A-Z0-9_]+")
KAFKA_IMAGE = "apache/kafka:4.1.1"
REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2


# --------------------------------------------------------------------------- loading


@cache
def compose() -> dict[str, Any]:
    """The parsed compose file (YAML anchors and merge keys resolved)."""
    docs = [d for d in yaml.safe_load_all(COMPOSE_FILE.read_text(encoding="utf-8")) if d is not None]
    assert len(docs) == 1, f"{COMPOSE_FILE} must hold one YAML document, found {len(docs)}"
    data: dict[str, Any] = docs[0]
    return data


def k8s_files() -> list[Path]:
    """Every YAML file of deploy/k8s."""
    return sorted([*K8S.glob("*.yaml"), *K8S.glob("*.yml")])


@cache
def k8s_objects() -> tuple[tuple[str, dict[str, Any]], ...]:
    """Every Kubernetes object of deploy/k8s (not the kustomization) with the file it is in."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in k8s_files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc is None or doc.get("kind") == "Kustomization":
                continue
            assert isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc, (
                f"{path.name}: a document without apiVersion/kind: {str(doc)[:120]}"
            )
            found.append((path.name, doc))
    return tuple(found)


def k8s_find(kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` named ``name``."""
    matches = [d for _f, d in k8s_objects() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} named {name!r} in deploy/k8s, found {len(matches)}"
    return matches[0]


def k8s_of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for _f, d in k8s_objects() if d["kind"] == kind]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def only_container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = pod_spec(workload)["containers"]
    name = workload["metadata"]["name"]
    assert len(containers) == 1, f"{workload['kind']} {name}: expected one container, found {len(containers)}"
    container: dict[str, Any] = containers[0]
    return container


def compose_env(service: dict[str, Any]) -> dict[str, str]:
    """A compose service's environment as a mapping (list or mapping form)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {p[0]: (p[1] if len(p) > 1 else "") for p in pairs}
    return {str(k): "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in env.items()}


def compose_command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if isinstance(command, str):
        return shlex.split(command)
    return [str(c) for c in command or []]


def compose_ports(service: dict[str, Any]) -> list[tuple[int | None, int]]:
    """(published, container) of each port mapping; interpolated host addresses are skipped."""
    mappings: list[tuple[int | None, int]] = []
    for item in service.get("ports") or []:
        if isinstance(item, dict):
            published = item.get("published")
            mappings.append((int(published) if published is not None else None, int(item["target"])))
            continue
        parts = str(item).split("/")[0].rsplit(":", 2)
        container = int(parts[-1])
        published = int(parts[-2]) if len(parts) >= 2 else None
        mappings.append((published, container))
    return mappings


def config_maps() -> dict[str, dict[str, str]]:
    return {d["metadata"]["name"]: d.get("data") or {} for d in k8s_of_kind("ConfigMap")}


def secrets() -> dict[str, dict[str, str]]:
    return {d["metadata"]["name"]: {**(d.get("data") or {}), **(d.get("stringData") or {})}
            for d in k8s_of_kind("Secret")}


def effective_env(container: dict[str, Any]) -> dict[str, str]:
    """A container's environment: envFrom ConfigMaps/Secrets, then env (secrets as placeholders)."""
    env: dict[str, str] = {}
    maps, secs = config_maps(), secrets()
    for source in container.get("envFrom") or []:
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            assert name in maps, f"container {container['name']}: envFrom names ConfigMap {name!r}, not in deploy/k8s"
            env.update(maps[name])
        if "secretRef" in source:
            name = source["secretRef"]["name"]
            assert name in secs, f"container {container['name']}: envFrom names Secret {name!r}, not in deploy/k8s"
            env.update(secs[name])
    for item in container.get("env") or []:
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif "secretKeyRef" in item.get("valueFrom", {}):
            ref = item["valueFrom"]["secretKeyRef"]
            assert ref["name"] in secs and ref["key"] in secs[ref["name"]], (
                f"container {container['name']}: {item['name']} reads Secret {ref['name']}/{ref['key']}, "
                "which the Secret template does not define"
            )
            env[item["name"]] = secs[ref["name"]][ref["key"]]
        elif "configMapKeyRef" in item.get("valueFrom", {}):
            ref = item["valueFrom"]["configMapKeyRef"]
            env[item["name"]] = maps.get(ref["name"], {}).get(ref["key"], "")
    return env


@cache
def service_app(service: str) -> Any:
    """The service's FastAPI application, built as `tongban serve` builds it (lifespan not started)."""
    from shared.service import create_app
    from tongban.registry import definition

    return create_app(definition(service), Settings(localities_file=None))


def serves(service: str, path: str, method: str = "GET") -> bool:
    """Whether a request (GET unless told) of ``path`` reaches a route of the service (included routers too)."""
    from starlette.routing import Match

    scope = {"type": "http", "method": method, "path": path, "root_path": "", "path_params": {},
             "query_string": b"", "headers": []}
    return any(route.matches(scope)[0] == Match.FULL for route in service_app(service).router.routes)


def documented_paths(service: str) -> list[str]:
    """The service's paths in its OpenAPI document (for messages)."""
    return sorted(service_app(service).openapi().get("paths", {}))


def created_databases(sql: str) -> set[str]:
    return set(re.findall(r"CREATE\s+DATABASE\s+\"?([A-Za-z0-9_]+)\"?", sql, flags=re.IGNORECASE))


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[-1].split("?", 1)[0]


def is_tongban_command(command: list[str]) -> bool:
    return bool(command) and command[0] == "tongban"


# --------------------------------------------------------------------------- TONGBAN_* names


def tongban_names_in(obj: Any, where: str) -> Iterator[tuple[str, str]]:
    """(name, where) of every TONGBAN_* key or ``name:`` of an env entry in parsed YAML."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if isinstance(key, str) and key.startswith("TONGBAN_"):
                yield key, f"{where}.{key}"
            if key == "name" and isinstance(value, str) and value.startswith("TONGBAN_"):
                yield value, f"{where}.name"
            yield from tongban_names_in(value, f"{where}.{key}")
    elif isinstance(obj, list):
        for index, item in enumerate(obj):
            if isinstance(item, str) and item.startswith("TONGBAN_"):  # compose list form KEY=VALUE
                yield item.split("=", 1)[0], f"{where}[{index}]"
            yield from tongban_names_in(item, f"{where}[{index}]")


def unknown_tongban_names(named: Iterator[tuple[str, str]]) -> list[str]:
    return sorted({f"{name} (at {where})" for name, where in named if name not in SETTING_VARIABLES})


def manifest_texts() -> list[Path]:
    files = [COMPOSE_FILE, INITDB_SQL, DOCKERFILE, *k8s_files(), *K8S.glob("*.md")]
    if OPERATIONS_DOC.exists():
        files.append(OPERATIONS_DOC)
    return files


# --------------------------------------------------------------------------- files and structure


def test_every_manifest_parses_and_kustomization_lists_all_files() -> None:
    assert isinstance(compose().get("services"), dict), f"{COMPOSE_FILE}: no services mapping"
    assert k8s_objects(), "deploy/k8s holds no Kubernetes objects"
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = set(kustomization.get("resources") or [])
    present = {p.name for p in k8s_files()} - {"kustomization.yaml"}
    assert listed == present, (
        f"kustomization.yaml resources {sorted(listed)} differ from the files in deploy/k8s {sorted(present)}: "
        f"not listed {sorted(present - listed)}, missing files {sorted(listed - present)}"
    )
    assert any(d["kind"] == "Namespace" for _f, d in k8s_objects()), "deploy/k8s has no Namespace"


def test_image_is_built_from_the_dockerfile() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim\b", text, flags=re.MULTILINE), (
        "deploy/Dockerfile is not FROM python:3.11-slim"
    )
    assert re.search(r"pip install[^\n]* \.", text), "deploy/Dockerfile does not pip install the repository"
    for name, service in compose()["services"].items():
        if not is_tongban_command(compose_command(service)):
            continue
        build = service.get("build")
        assert isinstance(build, dict), f"compose service {name}: runs tongban but has no build section"
        built_from = (COMPOSE_FILE.parent / build["context"] / build["dockerfile"]).resolve()
        assert built_from == DOCKERFILE.resolve(), f"compose service {name}: builds {built_from}, not {DOCKERFILE}"


# --------------------------------------------------------------------------- the services and the dashboard


@pytest.mark.parametrize("service", APPLICATION_NAMES)
def test_compose_service_matches_the_code(service: str) -> None:
    services = compose()["services"]
    assert service in services, f"compose.yaml has no service {service!r} (services: {sorted(services)})"
    spec, port = services[service], DEFAULT_PORTS[service]
    command = compose_command(spec)
    assert command == ["tongban", "serve", service], (
        f"compose {service}: command {command}, want tongban serve {service}"
    )
    env = compose_env(spec)
    assert env.get("TONGBAN_PORT") == str(port), (
        f"compose {service}: TONGBAN_PORT={env.get('TONGBAN_PORT')!r}, but DEFAULT_PORTS[{service!r}] is {port}"
    )
    host = env.get("TONGBAN_HOST")
    assert host == "0.0.0.0", f"compose {service}: TONGBAN_HOST={host!r}, want 0.0.0.0"
    mappings = compose_ports(spec)
    assert mappings, f"compose {service}: publishes no port"
    for published, container in mappings:
        assert container == port, f"compose {service}: container port {container}, but DEFAULT_PORTS says {port}"
        assert published in (None, port), f"compose {service}: published port {published}, want {port}"
    url = env.get("TONGBAN_DATABASE_URL", "")
    assert url.startswith("postgresql+asyncpg://"), f"compose {service}: TONGBAN_DATABASE_URL={url!r} is not asyncpg"
    database = database_name(url)
    assert database == f"tongban_{service}", f"compose {service}: database {database!r}, want tongban_{service}"
    assert database in created_databases(INITDB_SQL.read_text(encoding="utf-8")), (
        f"compose {service}: database {database} is not created by {INITDB_SQL.name}"
    )
    test = spec.get("healthcheck", {}).get("test")
    text = " ".join(test) if isinstance(test, list) else str(test)
    found = re.search(r"https?://[^/\s'\"]+:(\d+)(/[^\s'\"]*)", text)
    assert found, f"compose {service}: healthcheck {text!r} calls no http URL"
    assert int(found.group(1)) == port, f"compose {service}: healthcheck port {found.group(1)}, want {port}"
    assert found.group(2) == "/readyz", f"compose {service}: healthcheck path {found.group(2)}, want /readyz"
    assert serves(service, "/readyz"), f"{service} serves no /readyz; its paths: {documented_paths(service)}"


def _probe_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    assert port in named, f"container {container['name']}: probe names port {port!r}, which it does not declare"
    return int(named[port])


@pytest.mark.parametrize("service", APPLICATION_NAMES)
def test_k8s_deployment_and_service_match_the_code(service: str) -> None:
    port = DEFAULT_PORTS[service]
    deployment = k8s_find("Deployment", service)
    replicas = deployment["spec"].get("replicas", 1)
    if service in SINGLE_REPLICA:
        assert replicas == 1, f"Deployment {service}: replicas {replicas}, want exactly 1"
    else:
        assert replicas >= 2, f"Deployment {service}: replicas {replicas} < 2"
    container = only_container(deployment)
    assert container.get("command") == ["tongban", "serve", service], (
        f"Deployment {service}: command {container.get('command')}, want tongban serve {service}"
    )
    ports = [p["containerPort"] for p in container.get("ports", [])]
    assert ports == [port], f"Deployment {service}: containerPorts {ports}, but DEFAULT_PORTS[{service!r}] is {port}"
    env = effective_env(container)
    assert env.get("TONGBAN_PORT") == str(port), (
        f"Deployment {service}: TONGBAN_PORT={env.get('TONGBAN_PORT')!r}, want {port}"
    )
    assert env.get("TONGBAN_HOST") == "0.0.0.0", f"Deployment {service}: TONGBAN_HOST={env.get('TONGBAN_HOST')!r}"
    for probe_name, want in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        probe = container.get(probe_name, {}).get("httpGet")
        assert probe, f"Deployment {service}: no httpGet {probe_name}"
        assert probe["path"] == want, f"Deployment {service}: {probe_name} path {probe['path']}, want {want}"
        assert serves(service, probe["path"]), (
            f"Deployment {service}: {probe_name} path {probe['path']} is not served by {service} "
            f"(its paths: {documented_paths(service)})"
        )
        assert _probe_port(container, probe["port"]) == port, f"Deployment {service}: {probe_name} port is not {port}"
    startup = container.get("startupProbe", {}).get("httpGet")
    if startup:
        assert serves(service, startup["path"]), f"Deployment {service}: startup path {startup['path']} not served"
    resources = container.get("resources", {})
    for part in ("requests", "limits"):
        missing = {"cpu", "memory"} - set(resources.get(part, {}))
        assert not missing, f"Deployment {service}: resources.{part} lacks {sorted(missing)}"
    annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
    assert annotations.get("prometheus.io/scrape") == "true", f"Deployment {service}: no prometheus.io/scrape: 'true'"
    assert annotations.get("prometheus.io/port") == str(port), (
        f"Deployment {service}: prometheus.io/port {annotations.get('prometheus.io/port')!r}, want {port}"
    )
    scrape_path = annotations.get("prometheus.io/path")
    assert scrape_path == "/metrics", f"Deployment {service}: prometheus.io/path is {scrape_path!r}, want /metrics"
    assert serves(service, "/metrics"), f"{service} serves no /metrics"

    svc = k8s_find("Service", service)
    svc_ports = svc["spec"]["ports"]
    svc_port_numbers = [p["port"] for p in svc_ports]
    assert svc_port_numbers == [port], f"Service {service}: ports {svc_port_numbers}, want [{port}]"
    target = svc_ports[0].get("targetPort", port)
    assert _probe_port(container, target) == port, f"Service {service}: targetPort {target!r} does not reach {port}"
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = svc["spec"]["selector"]
    assert selector.items() <= pod_labels.items(), (
        f"Service {service}: selector {selector} does not match the pods' labels {pod_labels}"
    )


@pytest.mark.parametrize("service", APPLICATION_NAMES)
def test_k8s_db_upgrade_job_uses_the_services_database(service: str) -> None:
    jobs = [j for j in k8s_of_kind("Job") if only_container(j).get("command") == ["tongban", "db", "upgrade", service]]
    assert len(jobs) == 1, f"expected one Job running `tongban db upgrade {service}`, found {len(jobs)}"

    def url_key(container: dict[str, Any]) -> tuple[str, str]:
        for item in container.get("env") or []:
            if item["name"] == "TONGBAN_DATABASE_URL":
                ref = item["valueFrom"]["secretKeyRef"]
                return ref["name"], ref["key"]
        raise AssertionError(f"container {container['name']}: TONGBAN_DATABASE_URL is not read from a Secret")

    deployment_key = url_key(only_container(k8s_find("Deployment", service)))
    job_key = url_key(only_container(jobs[0]))
    assert job_key == deployment_key, f"{service}: the upgrade Job reads {job_key}, the Deployment {deployment_key}"
    url = secrets()[deployment_key[0]][deployment_key[1]]
    assert url.startswith("postgresql+asyncpg://"), f"Secret {deployment_key}: {url!r} is not an asyncpg URL"
    assert database_name(url) == f"tongban_{service}", f"Secret {deployment_key}: database {database_name(url)!r}"
    initdb = k8s_find("ConfigMap", "postgres-initdb")
    in_k8s = created_databases("\n".join(initdb["data"].values()))
    in_compose = created_databases(INITDB_SQL.read_text(encoding="utf-8"))
    wanted = {f"tongban_{n}" for n in APPLICATION_NAMES}
    assert in_k8s == in_compose == wanted, (
        f"databases created: k8s init {sorted(in_k8s)}, compose init {sorted(in_compose)}; want {sorted(wanted)}"
    )


def test_no_other_service_is_served() -> None:
    commands = [compose_command(s) for s in compose()["services"].values()]
    served = {c[2] for c in commands if c[:2] == ["tongban", "serve"]}
    assert served == set(APPLICATION_NAMES), f"compose serves {sorted(served)}, want {list(APPLICATION_NAMES)}"
    deployed = {only_container(d)["command"][2] for d in k8s_of_kind("Deployment")
                if only_container(d).get("command", [])[:2] == ["tongban", "serve"]}
    assert deployed == set(APPLICATION_NAMES), f"k8s serves {sorted(deployed)}, want {list(APPLICATION_NAMES)}"


@pytest.mark.parametrize("application", sorted(SINGLE_REPLICA))
def test_a_single_replica_application_is_never_scaled_and_names_its_consumer_group(application: str) -> None:
    group = definition(application).group
    spec = compose()["services"][application]
    replicas = (spec.get("deploy") or {}).get("replicas", 1)
    assert replicas == 1 and "scale" not in spec, f"compose {application}: {replicas} replicas, want exactly 1"
    labels = spec.get("labels") or {}
    assert labels.get(CONSUMER_GROUP_KEYS[0]) == group, (
        f"compose {application}: label {CONSUMER_GROUP_KEYS[0]}={labels.get(CONSUMER_GROUP_KEYS[0])!r}, "
        f"but the application reads in consumer group {group!r}"
    )
    deployment = k8s_find("Deployment", application)
    strategy = deployment["spec"].get("strategy", {}).get("type")
    assert strategy == "Recreate", (
        f"Deployment {application}: strategy {strategy!r}; a rolling update would run two replicas in group {group}"
    )
    for where, notes in (("Deployment", deployment["metadata"].get("annotations") or {}),
                               ("pod template", deployment["spec"]["template"]["metadata"].get("annotations") or {})):
        assert notes.get(CONSUMER_GROUP_KEYS[1]) == group, (
            f"{where} {application}: annotation {CONSUMER_GROUP_KEYS[1]}={notes.get(CONSUMER_GROUP_KEYS[1])!r}, "
            f"want {group!r}"
        )
    pdbs = [d for d in k8s_of_kind("PodDisruptionBudget") if d["metadata"]["name"] == application]
    assert not pdbs, f"PodDisruptionBudget {application}: with one replica it would block every node drain"


def test_the_dashboard_logs_in_at_the_authorization_service() -> None:
    token_path = "/oauth/token"
    assert serves("authorization", token_path, "POST"), f"the authorization service serves no POST {token_path}"
    environments = [("compose dashboard", {k: _interpolated(v) for k, v in
                                           compose_env(compose()["services"]["dashboard"]).items()}),
                    ("Deployment dashboard", effective_env(only_container(k8s_find("Deployment", "dashboard"))))]
    for where, env in environments:
        url = urlsplit(_settings_from(env, where).authorization_base_url())
        assert url.hostname not in ("127.0.0.1", "localhost"), (
            f"{where}: TONGBAN_AUTHORIZATION_URL {url.geturl()} is the loopback default; logins would fail"
        )
        assert url.port == DEFAULT_PORTS["authorization"], f"{where}: {url.geturl()} is not the authorization port"


# --------------------------------------------------------------------------- settings


def test_every_tongban_variable_is_a_setting() -> None:
    named = list(tongban_names_in(compose(), COMPOSE_FILE.name))
    for file_name, doc in k8s_objects():
        named.extend(tongban_names_in(doc, f"{file_name}:{doc['kind']}/{doc['metadata']['name']}"))
    for path in manifest_texts():
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            named.extend((m.group(0), f"{path.relative_to(REPO)}:{line_no}") for m in TONGBAN_NAME.finditer(line))
    assert named, "no TONGBAN_* variable found at all: the scan is broken"
    unknown = unknown_tongban_names(iter(named))
    assert not unknown, (
        f"these TONGBAN_* variables are not fields of shared.settings.Settings: {unknown} "
        f"(the valid ones: {sorted(SETTING_VARIABLES)})"
    )


def test_the_check_catches_a_bogus_variable() -> None:
    bogus = yaml.safe_load(
        "env:\n  - name: TONGBAN_FOO\n    value: x\ndata:\n  TONGBAN_BUS: kafka\n  TONGBAN_BAR: y\n"
    )
    found = unknown_tongban_names(tongban_names_in(bogus, "bogus"))
    assert [f.split()[0] for f in found] == ["TONGBAN_BAR", "TONGBAN_FOO"], f"bogus names not reported: {found}"


def _interpolated(value: str) -> str:
    """A compose value with ${VAR:-default} as its default and any other ${...} as a placeholder."""
    value = re.sub(r"\$\{[A-Za-z0-9_]+:?-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{[^}]*\}", "placeholder", value)


def _settings_from(env: dict[str, str], where: str) -> Settings:
    values = {k.removeprefix("TONGBAN_").lower(): v for k, v in env.items() if k.startswith("TONGBAN_")}
    try:
        return Settings(**values)
    except Exception as exc:
        raise AssertionError(f"{where}: its TONGBAN_* values are not valid Settings: {exc}") from exc


def tongban_containers() -> Iterator[tuple[str, list[str], dict[str, str]]]:
    """(where, command, environment) of every container running `tongban`, compose and k8s."""
    for name, service in compose()["services"].items():
        command = compose_command(service)
        if is_tongban_command(command):
            yield f"compose {name}", command, {k: _interpolated(v) for k, v in compose_env(service).items()}
    for kind in ("Deployment", "Job"):
        for workload in k8s_of_kind(kind):
            container = only_container(workload)
            command = [str(c) for c in container.get("command") or []]
            if is_tongban_command(command):
                yield f"{kind} {workload['metadata']['name']}", command, effective_env(container)


def test_every_tongban_container_is_configured_for_kafka() -> None:
    seen = 0
    for where, command, env in tongban_containers():
        seen += 1
        settings = _settings_from(env, where)
        assert env.get("TONGBAN_BUS") == "kafka", f"{where}: TONGBAN_BUS={env.get('TONGBAN_BUS')!r}, want 'kafka'"
        assert settings.topic_replication_factor == REPLICATION_FACTOR, (
            f"{where}: TONGBAN_TOPIC_REPLICATION_FACTOR={settings.topic_replication_factor}, want {REPLICATION_FACTOR}"
        )
        servers = [s for s in settings.kafka_bootstrap_servers.split(",") if s.strip()]
        assert len(servers) == REPLICATION_FACTOR, f"{where}: bootstrap servers {servers} do not name all brokers"
        if command[1:2] in (["serve"], ["db"]):
            assert (settings.database_url or "").startswith("postgresql+asyncpg://"), (
                f"{where}: TONGBAN_DATABASE_URL={settings.database_url!r} is not PostgreSQL/asyncpg"
            )
    assert seen >= 2 * len(SERVICE_NAMES) + 2, f"only {seen} tongban containers found in compose and k8s"


def test_services_reach_the_authorization_service_for_keys() -> None:
    if "auth_jwks_url" not in Settings.model_fields:
        pytest.skip("this Settings has no auth_jwks_url")
    for where, command, env in tongban_containers():
        if command[1:2] != ["serve"]:
            continue
        url = urlsplit(_settings_from(env, where).jwks_url())
        assert url.hostname not in ("127.0.0.1", "localhost"), (
            f"{where}: JWKS URL {url.geturl()} is the loopback default; each service runs in its own container"
        )
        assert url.port == DEFAULT_PORTS["authorization"], (
            f"{where}: JWKS URL {url.geturl()} is not on the authorization port {DEFAULT_PORTS['authorization']}"
        )
        assert serves("authorization", url.path), f"{where}: the authorization service does not serve {url.path}"


def _key_names(service: str) -> set[str]:
    return set(definition(service).key_names)


def test_no_master_secret_any_more() -> None:
    for path in manifest_texts():
        assert "TONGBAN_SECRET_KEY" not in path.read_text(encoding="utf-8"), (
            f"{path.relative_to(REPO)}: one master secret for every service is gone; keys are per service"
        )


def test_each_compose_service_gets_only_its_own_keys_as_secrets() -> None:
    declared = compose().get("secrets") or {}
    for name, service in compose()["services"].items():
        if not is_tongban_command(compose_command(service)):
            continue
        command = compose_command(service)
        needed = _key_names(command[2]) if command[1:2] == ["serve"] else set()
        # Kafka's CA and the service's Kafka password are checked by test_deploy_kafka_security.py.
        entries = [e for e in service.get("secrets") or [] if not str(e["source"]).startswith("kafka-")]
        if not needed:
            assert not entries and "TONGBAN_KEYS_DIR" not in compose_env(service), (
                f"compose {name}: needs no keys, gets {entries}")
            continue
        keys_dir = compose_env(service).get("TONGBAN_KEYS_DIR", "")
        assert keys_dir.startswith("/run/secrets/"), f"compose {name}: TONGBAN_KEYS_DIR={keys_dir!r}"
        targets = {}
        for entry in entries:
            assert entry["source"].startswith(command[2] + "-"), (
                f"compose {name}: secret {entry['source']} is not one of {command[2]}'s own")
            assert entry["source"] in declared and str(declared[entry["source"]]["file"]).startswith(
                f"./keys/{command[2]}/"), f"compose {name}: {entry['source']} is not a file of keys/{command[2]}/"
            targets[entry["target"]] = entry["source"]
        assert set(targets) == {f"{keys_dir}/{k}" for k in needed}, (
            f"compose {name}: key files {sorted(targets)}, want {sorted(needed)} under {keys_dir}")


def test_each_k8s_deployment_mounts_only_its_own_keys_secret() -> None:
    assert not any("SECRET_KEY" in k for k in secrets().get("tongban-secrets", {})), (
        "tongban-secrets still carries a master secret")
    for deployment in k8s_of_kind("Deployment"):
        service = deployment["metadata"]["name"]
        container = only_container(deployment)
        needed = _key_names(service)
        keys_dir = next((e.get("value") for e in container.get("env", []) if e["name"] == "TONGBAN_KEYS_DIR"), None)
        secret_volumes = {v["name"]: v["secret"]["secretName"] for v in pod_spec(deployment).get("volumes", [])
                          if "secret" in v and v["secret"]["secretName"] != "kafka-tls"}  # Kafka's CA: checked apart
        if not needed:
            assert keys_dir is None and not secret_volumes, f"Deployment {service}: needs no keys"
            continue
        assert secret_volumes == {"keys": f"tongban-{service}-keys"}, (
            f"Deployment {service}: secret volumes {secret_volumes}, want only tongban-{service}-keys")
        mounts = {m["name"]: m for m in container.get("volumeMounts", [])}
        assert mounts["keys"]["mountPath"] == keys_dir and mounts["keys"].get("readOnly") is True, (
            f"Deployment {service}: the keys Secret is not mounted read-only at TONGBAN_KEYS_DIR={keys_dir}")
        held = set(secrets()[f"tongban-{service}-keys"])
        assert held == needed, f"Secret tongban-{service}-keys holds {sorted(held)}, want {sorted(needed)}"


def test_every_carrier_has_an_hmac_key_of_its_own() -> None:
    from services.delivery.reference import reference

    assert {f"carrier-hmac-{code}" for code in reference().carriers} <= _key_names("delivery")


def test_create_topics_jobs_exist() -> None:
    want = ["tongban", "kafka", "create-topics"]
    jobs = [n for n, s in compose()["services"].items() if compose_command(s) == want]
    assert len(jobs) == 1, f"compose: expected one service running {' '.join(want)}, found {jobs}"
    restart = compose()["services"][jobs[0]].get("restart", "no")
    assert restart == "no", f"compose {jobs[0]}: restart {restart!r}; a one-shot must not restart"
    k8s_jobs = [j for j in k8s_of_kind("Job") if only_container(j).get("command") == want]
    assert len(k8s_jobs) == 1, f"k8s: expected one Job running {' '.join(want)}, found {len(k8s_jobs)}"


# --------------------------------------------------------------------------- Kafka and PostgreSQL


def test_compose_kafka_cluster_matches_the_replication_factor() -> None:
    services = compose()["services"]
    brokers = compose_brokers()
    assert len(brokers) == REPLICATION_FACTOR, (
        f"compose: {len(brokers)} Kafka brokers {sorted(brokers)}, want {REPLICATION_FACTOR}"
    )
    node_ids = set()
    for name, broker in brokers.items():
        env = compose_env(broker)
        assert broker["image"] == KAFKA_IMAGE, f"compose {name}: image {broker['image']}, want {KAFKA_IMAGE}"
        assert "broker" in env.get("KAFKA_PROCESS_ROLES", ""), f"compose {name}: not a broker"
        assert "controller" in env.get("KAFKA_PROCESS_ROLES", ""), f"compose {name}: not a KRaft controller"
        assert env.get("KAFKA_MIN_INSYNC_REPLICAS") == str(MIN_INSYNC_REPLICAS), f"compose {name}: min.insync.replicas"
        for key in ("KAFKA_DEFAULT_REPLICATION_FACTOR", "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"):
            assert env.get(key) == str(len(brokers)), f"compose {name}: {key}={env.get(key)}, want {len(brokers)}"
        voters = _interpolated(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "")).split(",")
        assert len(voters) == len(brokers), f"compose {name}: quorum voters {voters} != {len(brokers)} brokers"
        node_ids.add(env.get("KAFKA_NODE_ID"))
    assert len(node_ids) == len(brokers), f"compose: Kafka node ids {node_ids} are not distinct"
    topics_job = next(s for s in services.values() if compose_command(s) == ["tongban", "kafka", "create-topics"])
    waits_for: set[str] = set()
    pending = list(topics_job.get("depends_on") or [])
    while pending:  # directly or through the one-shots it waits for (kafka-secure-setup)
        name = pending.pop()
        if name not in waits_for:
            waits_for.add(name)
            pending.extend(services[name].get("depends_on") or [])
    assert set(brokers) <= waits_for, f"compose: the topic job waits for {sorted(waits_for)}, not all brokers"


def compose_brokers() -> dict[str, dict[str, Any]]:
    """The compose services that are Kafka nodes (not the one-shots that use the same image)."""
    return {n: s for n, s in compose()["services"].items()
            if str(s.get("image", "")).startswith("apache/kafka") and "KAFKA_PROCESS_ROLES" in compose_env(s)}


def test_k8s_kafka_statefulset_matches_the_replication_factor() -> None:
    kafka = k8s_find("StatefulSet", "kafka")
    replicas = kafka["spec"]["replicas"]
    assert replicas == REPLICATION_FACTOR, f"StatefulSet kafka: replicas {replicas}, want {REPLICATION_FACTOR}"
    container = only_container(kafka)
    assert container["image"] == KAFKA_IMAGE, f"StatefulSet kafka: image {container['image']}, want {KAFKA_IMAGE}"
    env = {e["name"]: str(e.get("value", "")) for e in container.get("env", [])}
    assert env.get("KAFKA_PROCESS_ROLES") == "broker,controller", "StatefulSet kafka: nodes are not broker+controller"
    assert env.get("KAFKA_MIN_INSYNC_REPLICAS") == str(MIN_INSYNC_REPLICAS), "StatefulSet kafka: min.insync.replicas"
    assert env.get("KAFKA_DEFAULT_REPLICATION_FACTOR") == str(replicas), "StatefulSet kafka: default.replication.factor"
    voters = env.get("KAFKA_CONTROLLER_QUORUM_VOTERS", "").split(",")
    assert [v.split("@")[0] for v in voters] == [str(i) for i in range(replicas)], (
        f"StatefulSet kafka: quorum voters {voters} are not node ids 0..{replicas - 1}"
    )
    headless = k8s_find("Service", kafka["spec"]["serviceName"])
    assert headless["spec"].get("clusterIP") == "None", f"Service {headless['metadata']['name']} is not headless"
    config = config_maps()["tongban-config"]
    assert config["TONGBAN_TOPIC_REPLICATION_FACTOR"] == str(replicas), (
        f"ConfigMap tongban-config: TONGBAN_TOPIC_REPLICATION_FACTOR={config['TONGBAN_TOPIC_REPLICATION_FACTOR']}, "
        f"but the Kafka StatefulSet has {replicas} brokers"
    )
    servers = config["TONGBAN_KAFKA_BOOTSTRAP_SERVERS"].split(",")
    want = [f"kafka-{i}.{headless['metadata']['name']}:9092" for i in range(replicas)]
    assert servers == want, f"ConfigMap tongban-config: bootstrap servers {servers}, want {want}"


def test_postgres_is_version_15_with_the_init_script() -> None:
    postgres = compose()["services"]["postgres"]
    assert str(postgres["image"]).startswith("postgres:15"), f"compose postgres: image {postgres['image']}"
    mounts = [str(v) for v in postgres.get("volumes", [])]
    assert any(m.startswith("./initdb:/docker-entrypoint-initdb.d") for m in mounts), (
        f"compose postgres: initdb/ is not mounted at /docker-entrypoint-initdb.d ({mounts})"
    )
    statefulset = k8s_find("StatefulSet", "postgres")
    image = only_container(statefulset)["image"]
    assert str(image).startswith("postgres:15"), f"StatefulSet postgres: image {image}, want postgres:15"
