"""The deployment manifests run Kafka secured (issue 14), and every client has its own principal.

Compose and Kubernetes brokers listen only with TLS (SASL/SCRAM for clients, mutual TLS between
brokers and controllers) with StandardAuthorizer on; every container that talks to Kafka connects as
its own principal with a password from a secret, never one written into a manifest.
"""

from __future__ import annotations

from shared.settings import SERVICE_NAMES
from tests.unit.test_deploy_manifests import (
    _interpolated,
    compose,
    compose_brokers,
    compose_command,
    compose_env,
    effective_env,
    k8s_find,
    k8s_of_kind,
    only_container,
    secrets,
)


def _assert_secured_broker(where: str, env: dict[str, str]) -> None:
    protocols = dict(pair.split(":", 1) for pair in env.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(","))
    assert "PLAINTEXT" not in protocols.values() and "SASL_PLAINTEXT" not in protocols.values(), (
        f"{where}: a listener without TLS: {protocols}"
    )
    listeners = [item.split("://")[0] for item in env.get("KAFKA_LISTENERS", "").split(",")]
    assert set(listeners) == set(protocols), f"{where}: listeners {listeners} vs protocol map {protocols}"
    assert protocols.get("CLIENT") == "SASL_SSL", f"{where}: the CLIENT listener is not SASL_SSL"
    assert env.get("KAFKA_SASL_ENABLED_MECHANISMS") == "SCRAM-SHA-512", f"{where}: SASL mechanisms"
    for listener, protocol in protocols.items():
        if protocol == "SSL":
            assert env.get(f"KAFKA_LISTENER_NAME_{listener}_SSL_CLIENT_AUTH") == "required", (
                f"{where}: the {listener} listener does not require client certificates"
            )
    assert env.get("KAFKA_AUTHORIZER_CLASS_NAME") == "org.apache.kafka.metadata.authorizer.StandardAuthorizer", (
        f"{where}: authorizer {env.get('KAFKA_AUTHORIZER_CLASS_NAME')!r}"
    )
    assert env.get("KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND") == "false", f"{where}: allows everyone without ACLs"
    assert set(env.get("KAFKA_SUPER_USERS", "").split(";")) == {"User:broker", "User:admin"}, f"{where}: super-users"
    advertised = _interpolated(env.get("KAFKA_ADVERTISED_LISTENERS", "CLIENT://x,INTERNAL://x"))
    assert {a.split("://")[0] for a in advertised.split(",")} == {"CLIENT", "INTERNAL"}, f"{where}: advertised"


def test_kafka_listens_only_with_authentication_and_authorization() -> None:
    for name, broker in compose_brokers().items():
        _assert_secured_broker(f"compose {name}", compose_env(broker))
        mounts = [str(v) for v in broker.get("volumes", [])]
        assert "./secrets/tls:/etc/kafka/tls:ro" in mounts, f"compose {name}: TLS material not mounted"
    kafka = only_container(k8s_find("StatefulSet", "kafka"))
    env = {e["name"]: str(e.get("value", "<secret>")) for e in kafka.get("env", [])}
    _assert_secured_broker("StatefulSet kafka", env)
    password = next(e for e in kafka["env"] if e["name"] == "KAFKA_SSL_KEYSTORE_PASSWORD")
    assert "secretKeyRef" in password.get("valueFrom", {}), "StatefulSet kafka: keystore password not from a Secret"


def test_every_kafka_client_container_has_its_own_principal_from_a_secret() -> None:
    from shared.localities import BUILT_IN

    compose_secrets = compose().get("secrets") or {}
    for name, service in compose()["services"].items():
        command = compose_command(service)
        if command[:2] not in (["tongban", "serve"], ["tongban", "kafka"]):
            continue
        env = compose_env(service)
        principal = f"tongban-{command[2]}" if command[1] == "serve" else "tongban-topics"
        assert env.get("TONGBAN_KAFKA_SECURITY_PROTOCOL") == "SASL_SSL", f"compose {name}: Kafka without SASL_SSL"
        user = env.get("TONGBAN_KAFKA_USERNAME")
        assert user == principal, f"compose {name}: principal {user}"
        assert "TONGBAN_KAFKA_PASSWORD" not in env, f"compose {name}: a Kafka password written into the file"
        mounted = {m["target"]: m["source"] for m in service.get("secrets", [])}
        assert env.get("TONGBAN_KAFKA_PASSWORD_FILE") == "/run/secrets/kafka-password" and "kafka-password" in mounted
        assert compose_secrets[mounted["kafka-password"]]["file"] == f"./secrets/credentials/{principal}.password"
        assert env.get("TONGBAN_KAFKA_SSL_CAFILE") == "/run/secrets/kafka-ca.pem" and "kafka-ca.pem" in mounted
    template = secrets()["tongban-kafka-credentials"]
    for kind in ("Deployment", "Job"):
        for workload in k8s_of_kind(kind):
            container = only_container(workload)
            command = [str(c) for c in container.get("command") or []]
            if command[:2] not in (["tongban", "serve"], ["tongban", "kafka"]):
                continue
            where = f"{kind} {workload['metadata']['name']}"
            env = effective_env(container)
            principal = f"tongban-{command[2]}" if command[1] == "serve" else "tongban-topics"
            assert env.get("TONGBAN_KAFKA_SECURITY_PROTOCOL") == "SASL_SSL", f"{where}: Kafka without SASL_SSL"
            user = env.get("TONGBAN_KAFKA_USERNAME")
            assert user == principal, f"{where}: principal {user}"
            password = next(e for e in container["env"] if e["name"] == "TONGBAN_KAFKA_PASSWORD")
            ref = password["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) == ("tongban-kafka-credentials", f"{principal}.password"), where
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            cafile = env.get("TONGBAN_KAFKA_SSL_CAFILE", "")
            assert cafile.rsplit("/", 1)[0] in mounts, f"{where}: the CA file {cafile} is not mounted"
    wanted = {f"tongban-{n}.password" for n in (*SERVICE_NAMES, "dashboard", "webhooks", "topics")}
    wanted |= {f"tongban-locality-{loc.code}.password" for loc in BUILT_IN}
    assert wanted <= set(template), f"Secret tongban-kafka-credentials lacks {sorted(wanted - set(template))}"
    setup = only_container(k8s_find("Job", "kafka-secure-setup"))
    codes = next(e["value"] for e in setup["env"] if e["name"] == "KAFKA_LOCALITIES").split(",")
    assert codes == [loc.code for loc in BUILT_IN], f"Job kafka-secure-setup: localities {codes}"
    compose_codes = _interpolated(compose_env(compose()["services"]["kafka-secure-setup"])["KAFKA_LOCALITIES"])
    assert compose_codes.split(",") == codes, f"compose kafka-secure-setup: localities {compose_codes}"
