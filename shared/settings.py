"""Settings of every Tongban process, read from ``TONGBAN_*`` environment variables.

Every field below is an environment variable: ``TONGBAN_`` followed by the field name in
upper case (``TONGBAN_BUS``, ``TONGBAN_KAFKA_BOOTSTRAP_SERVERS``, ...). The defaults run the
embedded system: SQLite files under ``.data/`` and the in-process bus.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_NAMES: tuple[str, ...] = ("catalogue", "routing", "authorization", "delivery")
"""The four services; each has its own database and its own consumer group."""

DEFAULT_PORTS: dict[str, int] = {
    "catalogue": 8101,
    "routing": 8102,
    "authorization": 8103,
    "delivery": 8104,
    "dashboard": 8105,
}
"""Default port of each application: the four services and the operators' dashboard."""

AUDIENCES: dict[str, str] = {name: f"tongban-{name}" for name in (*SERVICE_NAMES, "dashboard")}
"""The ``aud`` value each service (and the operators' dashboard) requires in access tokens."""


class Settings(BaseSettings):
    """Process settings. Each field is the environment variable ``TONGBAN_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="TONGBAN_", extra="ignore")

    data_dir: Path = Field(Path(".data"), description="Folder of the embedded SQLite databases.")
    bus: Literal["memory", "kafka"] = Field(
        "memory", description="Event bus backend: in-process (embedded) or Apache Kafka."
    )
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:19092", description="Comma-separated Kafka bootstrap servers."
    )
    topic_prefix: str = Field("tongban", description="Prefix of every topic name.")
    topic_partitions: int = Field(3, ge=1, description="Partitions of each locality topic.")
    topic_replication_factor: int = Field(1, ge=1, description="Replication factor of topics.")
    localities_file: Path | None = Field(
        None, description="JSON file of extra localities, added to the built-in four."
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL of this service's database "
        "(default: sqlite+aiosqlite under data_dir).",
    )
    database_pool_size: int = Field(10, ge=1, description="Connection pool size (PostgreSQL).")
    host: str = Field("127.0.0.1", description="Address that `tongban serve`/`up` binds.")
    port: int | None = Field(None, description="Port of `tongban serve` (default per service).")
    port_offset: int = Field(
        0, ge=0, le=65535 - 8105, description="Added to every default port (8101-8105), e.g. to run two systems."
    )
    outbox_poll_seconds: float = Field(
        1.0, gt=0, description="Fallback poll of the outbox relay; commits wake it at once."
    )
    outbox_batch_size: int = Field(200, ge=1, description="Outbox rows published per round.")
    outbox_max_backoff_seconds: float = Field(
        5.0, gt=0, description="Longest wait between relay retries while the bus is down."
    )
    handler_max_attempts: int = Field(
        5, ge=1, description="Attempts of a failing handler before its event is dead-lettered."
    )
    secret_key: str | None = Field(
        None,
        description="Master secret (keyed hashes of personal data, keys at rest). Default: a random "
        "key generated once into data_dir/secret.key. Set it in production.",
    )
    authorization_url: str | None = Field(
        None,
        description="Base URL of the authorization service, which routing asks about delegations "
        "(default: http://127.0.0.1:<authorization port>).",
    )
    catalogue_url: str | None = Field(
        None,
        description="Base URL of the catalogue, which routing reads items from "
        "(default: http://127.0.0.1:<catalogue port>).",
    )
    deadline_check_seconds: float = Field(
        300, gt=0, description="How often routing looks for cases due soon or overdue."
    )
    auth_jwks_url: str | None = Field(
        None,
        description="JWKS of the authorization service, which every service verifies tokens against "
        "(default: http://127.0.0.1:<authorization port>/.well-known/jwks.json).",
    )
    auth_issuer: str = Field("tongban-authorization", description="Issuer (`iss`) of access tokens.")
    access_token_seconds: int = Field(300, ge=30, le=3600, description="Lifetime of access tokens.")
    auth_clock_skew_seconds: int = Field(30, ge=0, le=300, description="Leeway for exp/nbf checks.")
    audit_checkpoint_seconds: float = Field(
        3600, gt=0, description="How often each locality signs a checkpoint of the audit chain's head."
    )
    object_store: Literal["folder", "s3"] = Field(
        "folder", description="Where case files live: a folder under data_dir (embedded) or an S3 server."
    )
    s3_endpoint_url: str | None = Field(None, description="S3 API of the object store (e.g. SeaweedFS).")
    s3_bucket: str = Field("tongban-case-files", description="Bucket of the case files.")
    s3_access_key: str = Field("tongban", description="S3 access key id.")
    s3_secret_key: str | None = Field(None, description="S3 secret key (keep it in a secret store).")
    s3_region: str = Field("us-east-1", description="S3 region name used in request signatures.")
    file_max_bytes: int = Field(50 * 1024 * 1024, ge=1, description="Largest case file accepted.")
    case_files_max_bytes: int = Field(500 * 1024 * 1024, ge=1, description="Largest total of one case's files.")
    file_key_id: str = Field(
        "k1", pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="Id of the key that wraps new files' data keys; older ids still unwrap old files.",
    )
    file_retention_days: int = Field(
        1095, ge=0, description="Days a closed or withdrawn case's files are kept before the purge job."
    )
    file_maintenance_seconds: float = Field(
        3600, gt=0, description="How often routing runs the retention purge and the orphan sweeper."
    )
    file_sweep_grace_seconds: float = Field(
        3600, ge=0, description="Age an object without a row must reach before the sweeper removes it."
    )
    log_level: str = Field("INFO", description="Logging level.")
    log_json: bool = Field(True, description="Log as JSON lines.")

    def database_url_for(self, service: str) -> str:
        """The database URL of ``service``: the configured one or its SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / (service + '.db')}"

    def derived_key(self, purpose: str) -> bytes:
        """A 32-byte key for ``purpose``, derived from the master secret."""
        master = self.secret_key.encode("utf-8") if self.secret_key else _local_secret(self.data_dir)
        return hmac.new(master, purpose.encode("utf-8"), hashlib.sha256).digest()

    def authorization_base_url(self) -> str:
        """Where the authorization service answers."""
        return (self.authorization_url or f"http://127.0.0.1:{self.default_port('authorization')}").rstrip("/")

    def catalogue_base_url(self) -> str:
        """Where the catalogue answers."""
        return (self.catalogue_url or f"http://127.0.0.1:{self.default_port('catalogue')}").rstrip("/")

    def jwks_url(self) -> str:
        """Where the JWKS of the authorization service is published."""
        return self.auth_jwks_url or self.authorization_base_url() + "/.well-known/jwks.json"

    def default_port(self, service: str) -> int:
        """The default port of ``service``, shifted by ``port_offset``."""
        return DEFAULT_PORTS[service] + self.port_offset

    def port_for(self, service: str) -> int:
        """The port that ``tongban serve <service>`` listens on."""
        return self.port if self.port is not None else self.default_port(service)


def _local_secret(data_dir: Path) -> bytes:
    """The embedded system's master secret, made once under ``data_dir``."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
