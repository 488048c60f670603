"""Start and stop the real Kafka broker and PostgreSQL server through the deploy/ scripts."""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
KAFKA_SH = REPO / "deploy" / "kafka" / "kafka.sh"
POSTGRES_SH = REPO / "deploy" / "postgres" / "postgres.sh"
SEAWEEDFS_SH = REPO / "deploy" / "seaweedfs" / "seaweedfs.sh"


class InfrastructureMissing(RuntimeError):
    """Kafka, PostgreSQL or SeaweedFS could not be started: the suite fails, it never skips."""


def _run(script: Path, command: str, env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(
        ["bash", str(script), command], env={**os.environ, **env}, capture_output=True, text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise InfrastructureMissing(
            f"{script.name} {command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


@dataclass
class KafkaBroker:
    """A single-node KRaft broker on loopback, started from the Maven-fetched jars."""

    port: int
    state_dir: Path

    @property
    def bootstrap(self) -> str:
        """Bootstrap servers of the broker."""
        return f"127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        return {"KAFKA_PORT": str(self.port), "KAFKA_DIR": str(self.state_dir)}

    def start(self) -> None:
        """Start (or restart, keeping its data) the broker and wait until it answers."""
        _run(KAFKA_SH, "start", self._env())

    def stop(self) -> None:
        """Stop the broker cleanly, keeping its data."""
        _run(KAFKA_SH, "stop", self._env())

    def topics(self) -> list[str]:
        """The topics, as Kafka's own TopicCommand lists them."""
        return _run(KAFKA_SH, "topics", self._env()).split()

    def prepare(self, topic_prefix: str) -> None:
        """Make what services of ``topic_prefix`` need before they start (nothing on a plain broker)."""

    def service_env(self, topic_prefix: str, service: str) -> dict[str, str]:
        """The ``TONGBAN_KAFKA_*`` settings of a service (none on a plain broker)."""
        return {}

    def client_options(self, principal: str | None = None) -> dict[str, Any]:
        """aiokafka keyword arguments to connect as ``principal`` (none on a plain broker)."""
        return {}

    def locality_principal(self, topic_prefix: str, locality: str) -> str | None:
        """The principal a locality's system reads its topic as (none on a plain broker)."""
        return None


@dataclass
class SecuredKafkaBroker(KafkaBroker):
    """The same broker with SASL/SCRAM-SHA-512 over TLS and StandardAuthorizer ACLs on."""

    def _env(self) -> dict[str, str]:
        return {**super()._env(), "KAFKA_SECURITY": "sasl_ssl"}

    @property
    def ca_file(self) -> Path:
        """The local CA's certificate, which clients trust."""
        return self.state_dir / "tls" / "ca.pem"

    @property
    def credentials_dir(self) -> Path:
        """Where ``kafka.sh secure-setup`` keeps one password file per principal."""
        return self.state_dir / "credentials"

    def password_file(self, principal: str) -> Path:
        """The file holding ``principal``'s password (the super-user's is ``admin``)."""
        if principal == "admin":
            return self.state_dir / "secrets" / "admin.password"
        return self.credentials_dir / f"{principal}.password"

    def prepare(self, topic_prefix: str) -> None:
        """Topics, principals and ACLs of a system on ``topic_prefix`` (``kafka.sh secure-setup``)."""
        _run(KAFKA_SH, "secure-setup", {**self._env(), "KAFKA_TOPIC_PREFIX": topic_prefix,
                                        "KAFKA_CREDENTIALS_DIR": str(self.credentials_dir)})

    def service_env(self, topic_prefix: str, service: str) -> dict[str, str]:
        principal = f"{topic_prefix}-{service}"
        return {
            "TONGBAN_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "TONGBAN_KAFKA_USERNAME": principal,
            "TONGBAN_KAFKA_PASSWORD_FILE": str(self.password_file(principal)),
            "TONGBAN_KAFKA_SSL_CAFILE": str(self.ca_file),
        }

    def client_options(self, principal: str | None = None) -> dict[str, Any]:
        from shared.kafka_security import KafkaSecurity

        user = principal or "admin"
        password = self.password_file(user).read_text().strip()
        return KafkaSecurity("SASL_SSL", "SCRAM-SHA-512", user, password, self.ca_file).client_options()

    def locality_principal(self, topic_prefix: str, locality: str) -> str | None:
        return f"{topic_prefix}-locality-{locality}"


@dataclass
class PostgresServer:
    """A PostgreSQL cluster on loopback, owned by the test session."""

    port: int
    state_dir: Path

    def _env(self) -> dict[str, str]:
        return {"PG_PORT": str(self.port), "PG_DIR": str(self.state_dir), "PG_DATABASES": "tongban_test"}

    def start(self) -> None:
        """Install when missing, initialise, start."""
        _run(POSTGRES_SH, "start", self._env())

    def stop(self) -> None:
        """Stop the server."""
        _run(POSTGRES_SH, "stop", self._env())

    def restart(self) -> None:
        """Restart the server (clients lose their connections)."""
        _run(POSTGRES_SH, "restart", self._env())

    async def create_database(self, prefix: str = "t") -> str:
        """A new empty database; its SQLAlchemy async URL."""
        import asyncpg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="tongban", database="tongban_test")
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return f"postgresql+asyncpg://tongban@127.0.0.1:{self.port}/{name}"


@dataclass
class SeaweedFS:
    """A SeaweedFS server (master, volume, filer, S3 gateway) on loopback, from the pinned PyPI wheel."""

    port: int
    state_dir: Path
    access_key: str = "tongban"
    secret_key: str = "tongban-test-secret"

    @property
    def endpoint(self) -> str:
        """The S3 API."""
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        return {"SEAWEEDFS_PORT": str(self.port), "SEAWEEDFS_DIR": str(self.state_dir),
                "SEAWEEDFS_ACCESS_KEY": self.access_key, "SEAWEEDFS_SECRET_KEY": self.secret_key}

    def service_env(self, bucket: str) -> dict[str, str]:
        """Settings that point a service at this server, in a bucket of its own."""
        return {"TONGBAN_OBJECT_STORE": "s3", "TONGBAN_S3_ENDPOINT_URL": self.endpoint, "TONGBAN_S3_BUCKET": bucket,
                "TONGBAN_S3_ACCESS_KEY": self.access_key, "TONGBAN_S3_SECRET_KEY": self.secret_key}

    def start(self) -> None:
        """Start (or restart, keeping its data) and wait until the S3 API answers."""
        _run(SEAWEEDFS_SH, "start", self._env(), timeout=180)

    def stop(self) -> None:
        """Stop the server, keeping its data."""
        _run(SEAWEEDFS_SH, "stop", self._env())
