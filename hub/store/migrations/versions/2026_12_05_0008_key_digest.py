"""API keys are found by a SHA-256 digest (unique index), no longer verified by PBKDF2.

``api_client.key_digest`` holds the SHA-256 of a client's key; a request's key is looked
up by it in one indexed read, whatever the key. ``key_hash`` (PBKDF2) becomes nullable:
a key issued before this revision keeps its hash until its first use after the upgrade,
when the hub verifies it once more with PBKDF2 (in a worker thread, never on the event
loop), stores its digest and clears the hash. Nothing for operators to do; a client that
should not wait for its first call to lose its PBKDF2 hash (for example one whose prefix
is known outside) can be re-issued instead: ``hub clients revoke NAME`` then
``hub clients add`` under a new name.

Downgrading drops the digests: a client added or upgraded after this revision has no
PBKDF2 hash left and cannot authenticate under the old code (re-issue it).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("key_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.alter_column(
            "key_hash", existing_type=sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True
        )
        batch_op.create_index(batch_op.f("ix_api_client_key_digest"), ["key_digest"], unique=True)


def downgrade() -> None:
    op.execute("UPDATE api_client SET key_hash = '' WHERE key_hash IS NULL")
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_client_key_digest"))
        batch_op.alter_column(
            "key_hash", existing_type=sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False
        )
        batch_op.drop_column("key_digest")
