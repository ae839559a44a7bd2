"""invoicing: milestone completions, invoices (the receivables feed), invoice payments

Revision ID: 0006
Revises: 0005

Chained after 0005, the newest revision when this was written; the hub upgrades to "heads",
so a revision written alongside (e.g. 0004 after 0003) makes a second head that upgrades fine.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pshub.store.types import ExactDecimal, UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "milestone_billings",
        sa.Column("milestone_id", sa.String(length=80), nullable=False),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("psa_project_id", sa.String(length=80), nullable=False),
        sa.Column("psa_story_id", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
        sa.Column("completion_event", sa.String(length=80), nullable=True),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("accepted_at", UtcDateTime(), nullable=True),
        sa.Column("accepted_by", sa.String(length=80), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("invoice_id", sa.String(length=80), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("milestone_id"),
    )
    with op.batch_alter_table("milestone_billings", schema=None) as batch_op:
        batch_op.create_index("ix_milestone_billings_status", ["status"], unique=False)
        batch_op.create_index("ix_milestone_billings_project", ["project_id"], unique=False)

    op.create_table(
        "invoices",
        sa.Column("invoice_id", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("contract_id", sa.String(length=80), nullable=False),
        sa.Column("opportunity_id", sa.String(length=80), nullable=True),
        sa.Column("legal_entity", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("net", ExactDecimal(), nullable=False),
        sa.Column("tax", ExactDecimal(), nullable=False),
        sa.Column("tax_code", sa.String(length=40), nullable=False),
        sa.Column("total", ExactDecimal(), nullable=True),
        sa.Column("remaining", ExactDecimal(), nullable=True),
        sa.Column("erp_id", sa.String(length=80), nullable=True),
        sa.Column("number", sa.String(length=80), nullable=True),
        sa.Column("erp_status", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("psa_billing_milestone_id", sa.String(length=80), nullable=True),
        sa.Column("correlation_id", sa.String(length=160), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id"),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoices_erp", ["erp_id"], unique=False)
        batch_op.create_index("ix_invoices_status", ["status"], unique=False)
        batch_op.create_index("ix_invoices_opportunity", ["opportunity_id"], unique=False)

    op.create_table(
        "invoice_payments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("erp_payment_id", sa.String(length=80), nullable=False),
        sa.Column("invoice_erp_id", sa.String(length=80), nullable=False),
        sa.Column("invoice_id", sa.String(length=80), nullable=True),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=False),
        sa.Column("erp_modified", sa.String(length=40), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("erp_payment_id", "invoice_erp_id", name="uq_invoice_payments"),
    )
    with op.batch_alter_table("invoice_payments", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_payments_invoice", ["invoice_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invoice_payments", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_payments_invoice")
    op.drop_table("invoice_payments")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_opportunity")
        batch_op.drop_index("ix_invoices_status")
        batch_op.drop_index("ix_invoices_erp")
    op.drop_table("invoices")
    with op.batch_alter_table("milestone_billings", schema=None) as batch_op:
        batch_op.drop_index("ix_milestone_billings_project")
        batch_op.drop_index("ix_milestone_billings_status")
    op.drop_table("milestone_billings")
