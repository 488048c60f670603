"""The fault suite uses the integration suite's fixtures: services as processes on real Kafka and PostgreSQL."""

from tests.integration.conftest import private_kafka, start_system

__all__ = ["private_kafka", "start_system"]
