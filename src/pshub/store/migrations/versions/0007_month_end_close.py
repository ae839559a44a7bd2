"""month-end close: journals and close runs

Revision ID: 0007
Revises: 0006

Reserved link of the chain (empty until its work lands), so work written side by side
chains without a second head.
"""

from __future__ import annotations

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
