"""Alembic environment of the authorization service's database."""

from services.authorization.store import Base
from shared.migrations import run_env

run_env(Base.metadata)
