"""Console sessions live in the store, so that every API process knows every session.

Until this revision each API process held its console sessions in memory: behind several
processes (``--workers N``) a user signed in on one was sent to the sign-in page by the
next. Sessions held in memory when the hub is upgraded end; their users sign in again.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_session",
        sa.Column("token_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("client_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("csrf_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("flashes", sa.JSON(), nullable=False),
        sa.Column("watched", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["api_client.id"]),
        sa.PrimaryKeyConstraint("token_digest"),
    )
    op.create_index(
        op.f("ix_console_session_client_id"), "console_session", ["client_id"], unique=False
    )
    op.create_index(
        op.f("ix_console_session_last_seen"), "console_session", ["last_seen"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_console_session_last_seen"), table_name="console_session")
    op.drop_index(op.f("ix_console_session_client_id"), table_name="console_session")
    op.drop_table("console_session")
