"""Alembic environment: uses the engine handed over by pshub.store.migrate."""

from __future__ import annotations

from alembic import context

import pshub.store.close_tables  # (month-end close tables on Base.metadata)
import pshub.store.ops_tables  # noqa: F401  (console tables and indexes on Base.metadata)
from pshub.store.tables import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
