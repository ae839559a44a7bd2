"""T&M invoicing runs and credit notes: tm_invoice_lines, credit_notes, credited_lines

Revision ID: 0008
Revises: 0007

Reserved link of the chain, so work written side by side chains without a second head.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pshub.store.types import ExactDecimal, UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tm_invoice_lines",
        sa.Column("invoice_id", sa.String(length=80), nullable=False),
        sa.Column("source_key", sa.String(length=100), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rebill", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", "source_key"),
    )
    with op.batch_alter_table("tm_invoice_lines", schema=None) as batch_op:
        batch_op.create_index("ix_tm_invoice_lines_source", ["source_key"], unique=False)
        batch_op.create_index(
            "ix_tm_invoice_lines_project_state", ["project_id", "state"], unique=False
        )

    op.create_table(
        "credit_notes",
        sa.Column("erp_id", sa.String(length=80), nullable=False),
        sa.Column("credit_note_id", sa.String(length=80), nullable=False),
        sa.Column("invoice_id", sa.String(length=80), nullable=False),
        sa.Column("number", sa.String(length=80), nullable=True),
        sa.Column("total", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("origin", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("erp_modified", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("correlation_id", sa.String(length=160), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("erp_id"),
    )
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.create_index("ix_credit_notes_invoice", ["invoice_id"], unique=False)

    op.create_table(
        "credited_lines",
        sa.Column("erp_id", sa.String(length=80), nullable=False),
        sa.Column("source_key", sa.String(length=100), nullable=False),
        sa.Column("invoice_id", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("erp_id", "source_key"),
    )
    with op.batch_alter_table("credited_lines", schema=None) as batch_op:
        batch_op.create_index("ix_credited_lines_source", ["source_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("credited_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_credited_lines_source")
    op.drop_table("credited_lines")
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_notes_invoice")
    op.drop_table("credit_notes")
    with op.batch_alter_table("tm_invoice_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_tm_invoice_lines_project_state")
        batch_op.drop_index("ix_tm_invoice_lines_source")
    op.drop_table("tm_invoice_lines")
