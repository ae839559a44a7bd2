"""T&M invoicing runs and credit notes

Revision ID: 0008
Revises: 0007

Reserved link of the chain (empty until its work lands), so work written side by side
chains without a second head.
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
