"""forecast snapshots, ForecastRevised events and publications to FP&A

Revision ID: 0005
Revises: 0003

Chained after 0003, the newest revision when this was written; the hub upgrades to
"heads", so a 0004 written alongside makes a second head that upgrades fine.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pshub.store.types import UtcDateTime

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
APPEND_ONLY = ("forecast_snapshots", "forecast_events")


def upgrade() -> None:
    op.create_table(
        "forecast_snapshots",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("snapshot_id", sa.String(length=40), nullable=False),
        sa.Column("previous_id", sa.String(length=40), nullable=True),
        sa.Column("as_of_month", sa.String(length=7), nullable=False),
        sa.Column("horizon_months", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=120), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("cells", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_index("ix_forecast_snapshots_id", "forecast_snapshots", ["snapshot_id"])
    op.create_index("ix_forecast_snapshots_as_of", "forecast_snapshots", ["as_of_month", "version"])
    op.create_table(
        "forecast_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=120), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_table(
        "forecast_publications",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("task_id", sa.String(length=80), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("rows_imported", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("version", "target"),
    )
    for table in APPEND_ONLY:
        _append_only(table)


def _append_only(table: str) -> None:
    """Snapshots and events are immutable: the database refuses UPDATE and DELETE."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
        return
    op.execute(
        f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql"
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
    )


def downgrade() -> None:
    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "sqlite":
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    op.drop_table("forecast_publications")
    op.drop_table("forecast_events")
    op.drop_index("ix_forecast_snapshots_as_of", table_name="forecast_snapshots")
    op.drop_index("ix_forecast_snapshots_id", table_name="forecast_snapshots")
    op.drop_table("forecast_snapshots")
