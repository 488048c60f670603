"""Alembic environment of the catalogue's database."""

from services.catalogue.store import Base
from shared.migrations import run_env

run_env(Base.metadata)
