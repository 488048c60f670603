"""Helpers of the test suite: real Kafka, real PostgreSQL, services as processes."""
