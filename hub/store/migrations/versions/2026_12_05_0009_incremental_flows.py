"""Incremental flows: each flow's marks over the canonical changes, the indexes it reads them
through, and a restamp of every update that does not stamp its row itself.

A flow reads what changed since its marks by ``recorded_at`` (persons: ``updated_at``).
Ingestion stamps each row it writes; any other update (the resolver linking a returnee, an
operator's correction) is stamped by the database, so that no change hides from the flows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import hub.store.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "ix_unemployment_certificate_changes",
        "unemployment_certificate",
        ("source_registry", "recorded_at", "id"),
    ),
    ("ix_refusal_changes", "refusal", ("recorded_at", "id")),
    ("ix_job_offer_changes", "job_offer", ("recorded_at", "id")),
    ("ix_jobseeker_registration_changes", "jobseeker_registration", ("recorded_at", "id")),
    ("ix_placement_changes", "placement", ("recorded_at", "id")),
    ("ix_payroll_declaration_changes", "payroll_declaration", ("recorded_at", "id")),
    ("ix_benefit_case_changes", "benefit_case", ("recorded_at", "id")),
    ("ix_benefit_case_member_changes", "benefit_case_member", ("recorded_at", "id")),
    ("ix_civil_event_changes", "civil_event", ("recorded_at", "id")),
    ("ix_returnee_case_changes", "returnee_case", ("recorded_at", "id")),
    ("ix_person_changes", "person", ("updated_at", "id")),
    ("ix_suspension_event_changes", "suspension_event", ("at", "id")),
    ("ix_outbox_message_delivered", "outbox_message", ("operation", "delivered_at", "id")),
    ("ix_unemployment_certificate_issued_on", "unemployment_certificate", ("issued_on",)),
    ("ix_refusal_refused_on", "refusal", ("refused_on",)),
    ("ix_jobseeker_registration_registered_on", "jobseeker_registration", ("registered_on",)),
    ("ix_placement_start_date", "placement", ("start_date",)),
    ("ix_benefit_case_since", "benefit_case", ("since",)),
    ("ix_civil_event_event_date", "civil_event", ("event_date",)),
    ("ix_returnee_case_returned_on", "returnee_case", ("returned_on",)),
    ("ix_returnee_case_birth_date", "returnee_case", ("birth_date",)),
    ("ix_person_death_date", "person", ("death_date",)),
    ("ix_person_birth_date", "person", ("birth_date",)),
    ("ix_suspension_due", "suspension", ("status", "suspended_until")),
)

STAMPED: tuple[tuple[str, str], ...] = (
    ("unemployment_certificate", "recorded_at"),
    ("refusal", "recorded_at"),
    ("job_offer", "recorded_at"),
    ("jobseeker_registration", "recorded_at"),
    ("placement", "recorded_at"),
    ("payroll_declaration", "recorded_at"),
    ("benefit_case", "recorded_at"),
    ("benefit_case_member", "recorded_at"),
    ("civil_event", "recorded_at"),
    ("returnee_case", "recorded_at"),
    ("person", "updated_at"),
)
"""Tables whose updates are restamped when the update leaves the stamp as it was."""

# SQLAlchemy keeps SQLite timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff' text, in UTC
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f000', 'now')"


def upgrade() -> None:
    op.create_table(
        "flow_watermark",
        sa.Column("flow", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("stamp", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("window_from", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_rows", sa.Integer(), nullable=False),
        sa.Column("window_ids", sa.BigInteger(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("basis", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("flow", "stream"),
    )
    for name, table, columns in INDEXES:
        op.create_index(name, table, list(columns), unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, stamp in STAMPED:
        trigger = f"{table}_restamp"
        if postgres:
            op.execute(
                f"CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN NEW.{stamp} := clock_timestamp(); RETURN NEW; END $$"
            )
            op.execute(
                f"CREATE TRIGGER {trigger} BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN (NEW.{stamp} IS NOT DISTINCT FROM OLD.{stamp}) "
                f"EXECUTE FUNCTION {trigger}()"
            )
        else:
            op.execute(  # the names are this module's constants
                f"CREATE TRIGGER {trigger} AFTER UPDATE ON {table} FOR EACH ROW "  # noqa: S608
                f"WHEN NEW.{stamp} IS OLD.{stamp} "
                f"BEGIN UPDATE {table} SET {stamp} = {SQLITE_NOW} WHERE id = NEW.id; END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, _stamp in STAMPED:
        trigger = f"{table}_restamp"
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {trigger}()")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table("flow_watermark")
