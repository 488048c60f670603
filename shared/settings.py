"""Settings of every Tongban process, read from ``TONGBAN_*`` environment variables.

Every field below is an environment variable: ``TONGBAN_`` followed by the field name in
upper case (``TONGBAN_BUS``, ``TONGBAN_KAFKA_BOOTSTRAP_SERVERS``, ...). The defaults run the
embedded system: SQLite files under ``.data/`` and the in-process bus.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.keys import ServiceKeys, keys_of

SERVICE_NAMES: tuple[str, ...] = ("catalogue", "routing", "authorization", "delivery", "webhooks")
"""The services; each has its own database and its own consumer group."""

DEFAULT_PORTS: dict[str, int] = {
    "catalogue": 8101,
    "routing": 8102,
    "authorization": 8103,
    "delivery": 8104,
    "dashboard": 8105,
    "webhooks": 8106,
}
"""Default port of each application: the services and the operators' dashboard."""

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
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How Kafka clients connect: plain, or SASL over TLS (a secured broker)."
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = Field(
        "SCRAM-SHA-512", description="SASL mechanism with SASL_SSL."
    )
    kafka_username: str | None = Field(None, description="Kafka principal of this process (SASL_SSL).")
    kafka_password: SecretStr | None = Field(None, description="Its password (prefer kafka_password_file).")
    kafka_password_file: Path | None = Field(
        None, description="File holding the Kafka password, e.g. a mounted secret (wins over kafka_password)."
    )
    kafka_ssl_cafile: Path | None = Field(
        None, description="PEM file of the CA that signed the broker's certificate (default: system CAs)."
    )
    topic_prefix: str = Field("tongban", description="Prefix of every topic name.")
    topic_partitions: int = Field(3, ge=1, description="Partitions of each locality topic.")
    topic_replication_factor: int = Field(1, ge=1, description="Replication factor of topics.")
    consumer_batch_wait_ms: int = Field(
        0, ge=0, le=1000, description="How long a consumer that got records waits for more to join them (one "
        "transaction per batch: larger batches cost less per event); 0 handles each fetch at once (the "
        "broker gathers the batch: consumer_fetch_min_bytes)."
    )
    consumer_fetch_min_bytes: int = Field(
        65536, ge=1, le=16 * 1024 * 1024, description="How many bytes of records the broker gathers before it "
        "answers a consumer's fetch (up to consumer_fetch_max_wait_ms): more means fewer fetches and "
        "transactions per event under load, at up to that wait's latency."
    )
    consumer_fetch_max_wait_ms: int = Field(
        100, ge=1, le=5000, description="The longest the broker holds a consumer's fetch for records (an idle "
        "consumer asks this often)."
    )
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
        0, ge=0, le=65535 - 8106, description="Added to every default port (8101-8106), e.g. to run two systems."
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
    keys_dir: Path | None = Field(
        None,
        description="Folder of this service's own key files (one per purpose, e.g. a mounted Secret). "
        "Default: data_dir/keys/<service>/, where missing keys are generated.",
    )
    throttle_window_seconds: int = Field(
        300, ge=1, le=86400, description="Window over which failed logins are counted (and audited once)."
    )
    throttle_client_failures: int = Field(
        10, ge=1, description="Failed logins of one client id per window before it answers 429."
    )
    throttle_address_failures: int = Field(
        30, ge=1, description="Failed logins from one source address per window before it answers 429."
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
    delegation_cache_seconds: float = Field(
        10.0, ge=0, description="How long routing reuses an allowing delegation decision (forgotten at once "
        "when an agreement or client changes); 0 asks the authorization service for every case."
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
    clock_offset_seconds: float = Field(
        0.0,
        description="Seconds added to the system clock by every rule that reads the time (working days, "
        "due dates, tokens). Zero in production; tests and demonstrations set the same value in every "
        "process to pin the date they mean.",
    )
    audit_checkpoint_seconds: float = Field(
        3600, gt=0, description="How often each locality signs a checkpoint of the audit chain's head."
    )
    environment: Literal["production", "development", "embedded"] = Field(
        "production",
        description="What runs: `production` (the default: session cookies always Secure, no development "
        "routes), `development` (services as processes on plain HTTP, e.g. tests), `embedded` (`tongban up` "
        "sets it: the whole system in one process, with the development carrier simulator).",
    )
    max_body_bytes: int = Field(
        2_000_000, ge=1024, description="Largest request body a service reads (413 past it, before parsing)."
    )
    max_header_bytes: int = Field(
        16_384, ge=1024, description="Largest total size of a request's headers (431 past it)."
    )
    max_json_depth: int = Field(
        64, ge=2, le=500, description="Deepest nesting of arrays and objects in a JSON body (422 past it)."
    )
    carrier_max_body_bytes: int = Field(
        2_000_000, ge=1024, description="Largest body of one carrier webhook request (413 past it)."
    )
    webhook_allow_http_loopback: bool = Field(
        False, description="Allow webhook endpoints over plain HTTP to loopback addresses (development, tests)."
    )
    webhook_allowed_networks: str = Field(
        "", description="Comma-separated CIDR networks webhook endpoints may resolve to although they are "
        "private, link-local or loopback (e.g. a locality system inside 10.20.0.0/16)."
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=60, description="A webhook delivery counts when a 2xx answer comes within this time."
    )
    webhook_retry_first_seconds: float = Field(
        5.0, gt=0, description="Wait after a delivery's first failed attempt; it doubles with each failure."
    )
    webhook_retry_longest_seconds: float = Field(
        21600.0, gt=0, description="Longest wait between two attempts of a delivery (6 h)."
    )
    webhook_retry_horizon_seconds: float = Field(
        259200.0, gt=0, description="How long a delivery is retried from its first attempt before its "
        "subscription is marked failing (3 days)."
    )
    webhook_secret_overlap_seconds: float = Field(
        86400.0, ge=0, description="How long a rotated-out webhook secret keeps signing beside the new one."
    )
    webhook_feed_retention_hours: float = Field(
        168.0, gt=0, description="How long each locality's event feed keeps events (7 days); undelivered "
        "events are kept until delivered."
    )
    webhook_dispatch_poll_seconds: float = Field(
        1.0, gt=0, description="Longest sleep of the webhook dispatcher between looks for due deliveries."
    )
    webhook_concurrency: int = Field(16, ge=1, le=256, description="Webhook deliveries sent side by side.")
    webhook_ca_file: str | None = Field(
        None, description="PEM bundle of certificate authorities trusted for HTTPS webhook endpoints, beside the "
        "system's (a locality's own CA, a test receiver's self-signed certificate)."
    )
    webhook_health_report_seconds: float = Field(
        15.0, gt=0, description="How often the webhooks service looks at each locality's health figures and "
        "publishes them when they changed."
    )
    webhook_health_heartbeat_seconds: float = Field(
        300.0, gt=0, description="Longest time between two health reports of a locality with subscriptions."
    )
    crypto_suite: Literal["international", "national"] = Field(
        "international",
        description="What new keys, hashes and signatures use: international (Ed25519, SHA-256, AES-256-GCM) "
        "or national (SM2 with SM3, SM3, SM4-GCM). Existing keys keep their algorithm; see docs/cryptography.md.",
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

    @property
    def production(self) -> bool:
        """Whether these are production settings (the default unless development or embedded is said)."""
        return self.environment == "production"

    def database_url_for(self, service: str) -> str:
        """The database URL of ``service``: the configured one or its SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / (service + '.db')}"

    def keys_for(self, service: str) -> ServiceKeys:
        """The keys of ``service`` alone (see shared/keys.py)."""
        return keys_of(self.keys_dir, self.data_dir, service, self.crypto_suite)

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


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
