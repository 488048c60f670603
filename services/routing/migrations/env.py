"""Alembic environment of the routing service's database."""

from services.routing.store import Base
from shared.migrations import run_env

run_env(Base.metadata)
