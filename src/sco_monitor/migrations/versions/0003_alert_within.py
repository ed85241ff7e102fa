"""N-of-M confirmation of alerts: the rule's window (`within`) and the breach bits of its last
evaluations, kept on the alert row so the state machine survives a restart.

Existing alerts get 0 for both: a window of 0 means the plain `for` count, as before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("within_count", sa.Integer(), nullable=False, server_default=sa.text("0")))
    op.add_column("alerts", sa.Column("breach_bits", sa.Integer(), nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("breach_bits")
        batch.drop_column("within_count")
