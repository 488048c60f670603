"""How a process authenticates to Kafka: nothing (a plain loopback broker) or SASL/SCRAM over TLS.

Every aiokafka client of a process (producer, consumers, admin) takes the same keyword arguments
from :meth:`KafkaSecurity.client_options`, so the bus, the dashboard's lag reader and the command
line all connect as the process's own principal. The password is a setting (or a file named by a
setting, e.g. a mounted Kubernetes secret); it is never logged and never in the repository.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.settings import Settings


class KafkaSecurityError(ValueError):
    """The Kafka security settings do not fit together (raised at start, not at first use)."""


@dataclass(frozen=True)
class KafkaSecurity:
    """The security settings of one Kafka client identity."""

    protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: Path | None = None

    def __post_init__(self) -> None:
        if self.protocol not in ("PLAINTEXT", "SASL_SSL"):
            raise KafkaSecurityError(f"unsupported Kafka security protocol {self.protocol!r}")
        if self.protocol == "SASL_SSL" and not (self.username and self.password):
            raise KafkaSecurityError(
                "TONGBAN_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs TONGBAN_KAFKA_USERNAME and "
                "TONGBAN_KAFKA_PASSWORD or TONGBAN_KAFKA_PASSWORD_FILE"
            )
        if self.cafile is not None and not self.cafile.is_file():
            raise KafkaSecurityError(f"TONGBAN_KAFKA_SSL_CAFILE {self.cafile} is not a readable file")

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaSecurity:
        """The identity the settings name; a password file wins over an inline password."""
        password = settings.kafka_password.get_secret_value() if settings.kafka_password else None
        if settings.kafka_password_file is not None:
            try:
                password = settings.kafka_password_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise KafkaSecurityError(
                    f"cannot read TONGBAN_KAFKA_PASSWORD_FILE {settings.kafka_password_file}: {exc}"
                ) from exc
        return cls(
            protocol=settings.kafka_security_protocol,
            mechanism=settings.kafka_sasl_mechanism,
            username=settings.kafka_username,
            password=password,
            cafile=settings.kafka_ssl_cafile,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context that checks the broker's certificate and host name."""
        context = ssl.create_default_context(cafile=str(self.cafile) if self.cafile else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for every aiokafka client (producer, consumer, admin)."""
        if self.protocol == "PLAINTEXT":
            return {}
        return {
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
            "ssl_context": self.ssl_context(),
        }
