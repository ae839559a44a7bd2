"""time-to-bill: posting workflows claim a run's projects one at a time

Revision ID: 0013
Revises: 0012

A billing run's posting workflows used to get fixed groups of projects; the groups finished
unevenly and the vendor's slots stood idle at the end of a month-end run. Each workflow now
claims the next project nobody has taken (decision 0014); a claim is recorded with the
workflow and its step, so a claim step run again after a crash takes the same project.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pshub.store.types import UtcDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_claims",
        sa.Column("run_id", sa.String(length=120), nullable=False),
        sa.Column("project_id", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("claimed_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "project_id"),
        sa.UniqueConstraint("workflow_id", "seq", name="uq_billing_claims_step"),
    )
    op.create_index("ix_billing_claims_position", "billing_claims", ["run_id", "position"])


def downgrade() -> None:
    op.drop_table("billing_claims")
