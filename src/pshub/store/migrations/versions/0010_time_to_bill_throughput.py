"""time-to-bill throughput (indexes, bulk paths)

Revision ID: 0010
Revises: 0009

An index on billing lines by (project, status): planning reads a project's planned lines
and posting checks a project's refused lines on every batch; without it each is a table scan,
quadratic over a month-end run.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("billing_lines") as batch_op:
        batch_op.create_index(
            "ix_billing_lines_project_status", ["project_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("billing_lines") as batch_op:
        batch_op.drop_index("ix_billing_lines_project_status")
