"""Alembic environment of the delivery service's database."""

from services.delivery.store import Base
from shared.migrations import run_env

run_env(Base.metadata)
