"""contract versions and change orders

Revision ID: 0009
Revises: 0008

Reserved link of the chain (empty until its work lands), so work written side by side
chains without a second head.
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
