"""Alembic environment of the dashboard's database."""

from services.dashboard.store import Base
from shared.migrations import run_env

run_env(Base.metadata)
