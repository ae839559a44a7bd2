"""time-to-bill: no planned state between planning and the ERP's answer

Revision ID: 0011
Revises: 0010

Billing lines are now stored once, as the ERP answered them (decision 0010). Lines an earlier
version planned but never sent, or sent without recording the answer, are dropped and their
entries go back to pending: the next run plans them again under the same keys, and the ERP
upserts by external id, so nothing is posted twice. Batches no longer have lines waiting in
them, so the lines' batch index (read only to send a batch) goes.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE work_items SET status = 'pending' WHERE kind || ':' || source_id IN "
        "(SELECT source_key FROM billing_lines WHERE status = 'planned')"
    )
    op.execute("DELETE FROM billing_lines WHERE status = 'planned'")
    op.execute("UPDATE billing_batches SET status = 'replanned' WHERE status = 'planned'")
    with op.batch_alter_table("billing_lines") as batch_op:
        batch_op.drop_index("ix_billing_lines_batch")


def downgrade() -> None:
    with op.batch_alter_table("billing_lines") as batch_op:
        batch_op.create_index("ix_billing_lines_batch", ["batch_id"], unique=False)
