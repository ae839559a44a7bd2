"""time-to-bill throughput (indexes, bulk paths)

Revision ID: 0010
Revises: 0009

Reserved link of the chain (empty until its work lands), so work written side by side
chains without a second head.
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
