"""month-end close: journals and close runs

Revision ID: 0007
Revises: 0006

Reserved link of the chain, so work written side by side chains without a second head.
Tables of :mod:`pshub.store.close_tables`: close runs, per-contract results, the aggregated
journals posted to the ERP, and operator reopenings.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pshub.store.types import ExactDecimal, UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _money(name: str) -> sa.Column[object]:
    return sa.Column(name, ExactDecimal(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "close_runs",
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("legal_entity", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("contracts", sa.Integer(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("workflow_id"),
    )
    op.create_index("ix_close_runs_entity_period", "close_runs", ["legal_entity", "period"])
    op.create_table(
        "close_contract_results",
        sa.Column("legal_entity", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("contract_id", sa.String(length=80), nullable=False),
        sa.Column("project_id", sa.String(length=80), nullable=True),
        sa.Column("billing_model", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        *(
            _money(name)
            for name in (
                "revenue",
                "cumulative_revenue",
                "billed",
                "cumulative_billed",
                "cumulative_collected",
                "receivable",
                "contract_asset",
                "contract_liability",
                "transaction_price",
            )
        ),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("legal_entity", "period", "contract_id"),
    )
    op.create_table(
        "close_journals",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("canonical_id", sa.String(length=80), nullable=False),
        sa.Column("legal_entity", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        _money("total_debit"),
        _money("total_credit"),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("contracts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("erp_id", sa.String(length=80), nullable=True),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("posted_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_close_journals_entity_period", "close_journals", ["legal_entity", "period"])
    op.create_table(
        "close_reopens",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("legal_entity", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("reopened_by", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_close_reopens_entity_period", "close_reopens", ["legal_entity", "period"])


def downgrade() -> None:
    op.drop_index("ix_close_reopens_entity_period", table_name="close_reopens")
    op.drop_table("close_reopens")
    op.drop_index("ix_close_journals_entity_period", table_name="close_journals")
    op.drop_table("close_journals")
    op.drop_table("close_contract_results")
    op.drop_index("ix_close_runs_entity_period", table_name="close_runs")
    op.drop_table("close_runs")
