"""A fenced outbox: each claim of a message carries a fencing counter.

Every claim increments ``outbox_message.claim``; settlements and lease renewals
name the claim they belong to, so a dispatcher whose claim was taken over
changes nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        # existing messages have not been claimed under a fence yet: claim 0
        batch_op.add_column(sa.Column("claim", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("claim")
