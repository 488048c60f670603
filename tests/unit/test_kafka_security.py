"""The Kafka security settings: what every aiokafka client of a process connects with."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from shared.kafka_security import KafkaSecurity, KafkaSecurityError
from shared.settings import Settings


def test_the_plain_broker_needs_nothing() -> None:
    assert KafkaSecurity.from_settings(Settings()).client_options() == {}


def test_sasl_ssl_takes_the_password_file_over_the_inline_password(tmp_path: Path) -> None:
    secret = tmp_path / "routing.password"
    secret.write_text("from-the-file-0123\n")
    ca = tmp_path / "ca.pem"
    ca.write_text("")  # only its existence is checked here; the TLS context is built on demand
    security = KafkaSecurity.from_settings(Settings(
        kafka_security_protocol="SASL_SSL", kafka_username="tongban-routing", kafka_password="inline-password",
        kafka_password_file=secret, kafka_ssl_cafile=ca,
    ))
    assert (security.username, security.password, security.mechanism) == (
        "tongban-routing", "from-the-file-0123", "SCRAM-SHA-512")
    assert "from-the-file" not in repr(security), "the password must not appear in logs"


def test_sasl_ssl_options_verify_the_broker() -> None:
    options = KafkaSecurity("SASL_SSL", "SCRAM-SHA-512", "tongban-locality-320505", "secret-secret").client_options()
    assert options["security_protocol"] == "SASL_SSL" and options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("tongban-locality-320505",
                                                                                 "secret-secret")
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize("settings", [
    {"kafka_security_protocol": "SASL_SSL"},
    {"kafka_security_protocol": "SASL_SSL", "kafka_username": "tongban-routing"},
    {"kafka_security_protocol": "SASL_SSL", "kafka_password": "x" * 16},
    {"kafka_security_protocol": "SASL_SSL", "kafka_username": "u", "kafka_password_file": "/nonexistent/pw"},
    {"kafka_security_protocol": "SASL_SSL", "kafka_username": "u", "kafka_password": "x" * 16,
     "kafka_ssl_cafile": "/nonexistent/ca.pem"},
])
def test_incomplete_settings_stop_the_process_at_start(settings: dict[str, str]) -> None:
    with pytest.raises(KafkaSecurityError):
        KafkaSecurity.from_settings(Settings(**settings))
