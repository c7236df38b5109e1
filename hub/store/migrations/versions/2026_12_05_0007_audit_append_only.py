"""The audit log is append-only on PostgreSQL: a trigger refuses UPDATE, DELETE and TRUNCATE.

The refusal holds for every role, the table's owner and superusers included, as long as
the trigger is there. The owner can drop it, and a superuser can disable triggers
(``session_replication_role = replica``): run the hub under a role that owns nothing
(INSERT and SELECT granted), migrate with another, and anchor the chain
(``hub audit checkpoint``) for the rest. SQLite
has no roles: anyone with the file can change it, which the chain and its checkpoints show.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "audit_entry_append_only"
ROW_TRIGGER = "audit_entry_no_update_or_delete"
TRUNCATE_TRIGGER = "audit_entry_no_truncate"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_entry is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'audit entries are never changed or deleted; see hub audit verify';
        END;
        $$
        """
    )
    op.execute(
        f"CREATE TRIGGER {ROW_TRIGGER} BEFORE UPDATE OR DELETE ON audit_entry "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )
    op.execute(
        f"CREATE TRIGGER {TRUNCATE_TRIGGER} BEFORE TRUNCATE ON audit_entry "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON audit_entry")
    op.execute(f"DROP TRIGGER IF EXISTS {ROW_TRIGGER} ON audit_entry")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
