"""Alembic environment of the webhooks service's database."""

from services.webhooks.store import Base
from shared.migrations import run_env

run_env(Base.metadata)
