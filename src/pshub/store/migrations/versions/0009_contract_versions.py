"""contract versions and change orders

Revision ID: 0009
Revises: 0008

Contract versions (append-only, with their diff), the change-order inbox (one row per source
change; ``waiting`` while the ERP record is pending approval) and ``ContractAmended`` events.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pshub.store.types import ExactDecimal, UtcDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contract_versions",
        sa.Column("contract_id", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("source_system", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.String(length=120), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("price", ExactDecimal(), nullable=False),
        sa.Column("price_change", ExactDecimal(), nullable=False),
        sa.Column("added_scope", ExactDecimal(), nullable=False),
        sa.Column("removed_scope", ExactDecimal(), nullable=False),
        sa.Column("distinct", sa.Boolean(), nullable=True),
        sa.Column("standalone_price", sa.Boolean(), nullable=True),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("diff", sa.JSON(), nullable=True),
        sa.Column("correlation_id", sa.String(length=160), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("contract_id", "version"),
    )
    op.create_table(
        "change_orders",
        sa.Column("change_key", sa.String(length=200), nullable=False),
        sa.Column("contract_id", sa.String(length=80), nullable=False),
        sa.Column("source_system", sa.String(length=40), nullable=False),
        sa.Column("source_id", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("change", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("change_key"),
    )
    with op.batch_alter_table("change_orders", schema=None) as batch_op:
        batch_op.create_index("ix_change_orders_status", ["status"], unique=False)
        batch_op.create_index("ix_change_orders_contract", ["contract_id"], unique=False)
    op.create_table(
        "contract_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=160), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("contract_id", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )


def downgrade() -> None:
    op.drop_table("contract_events")
    with op.batch_alter_table("change_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_change_orders_contract")
        batch_op.drop_index("ix_change_orders_status")
    op.drop_table("change_orders")
    op.drop_table("contract_versions")
