"""console users, API clients and the console's read indexes

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pshub.store.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# (name, table, columns): the console's list and lineage pages read through these.
INDEXES = (
    ("ix_audit_at", "audit_log", ["at"]),
    ("ix_audit_actor_id", "audit_log", ["actor", "id"]),
    ("ix_audit_entity", "audit_log", ["entity_type", "entity_id"]),
    ("ix_audit_action_id", "audit_log", ["action", "id"]),
    ("ix_exc_status_flow_amount", "business_exceptions", ["status", "flow", "amount_minor"]),
    ("ix_exc_kind_status_amount", "business_exceptions", ["kind", "status", "amount_minor"]),
    ("ix_exc_entity", "business_exceptions", ["legal_entity"]),
    ("ix_flow_runs_started", "flow_runs", ["started_at"]),
    ("ix_flow_runs_finished", "flow_runs", ["finished_at"]),
    ("ix_flow_runs_flow_started", "flow_runs", ["flow", "started_at"]),
)


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "api_clients",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=80), nullable=False),
        sa.Column("secret_hash", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("rate_per_minute", sa.Integer(), nullable=False),
        sa.Column("burst", sa.Integer(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id"),
    )
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table("api_clients")
    op.drop_table("console_users")
