"""The decision lifecycle: suspensions proposed and decided, their events, appeals; CSW-bound
clients; the kind of a job offer.

Suspensions recorded before this revision were set by the rule alone: they become
``confirmed`` by ``automatic`` decision, keyed by their id as trigger.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 05:49:22.023853
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import hub.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_String = sqlmodel.sql.sqltypes.AutoString
_Moment = hub.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "appeal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suspension_id", sa.Integer(), nullable=False),
        sa.Column("degree", sa.Integer(), nullable=False),
        sa.Column("state", _String(length=12), nullable=False),
        sa.Column("lodged_on", sa.Date(), nullable=False),
        sa.Column("lodged_by", _String(length=64), nullable=False),
        sa.Column("lodged_at", _Moment(timezone=True), nullable=False),
        sa.Column("grounds", _String(length=500), nullable=False),
        sa.Column("decided_by", _String(length=64), nullable=True),
        sa.Column("decided_at", _Moment(timezone=True), nullable=True),
        sa.Column("decision_reason", _String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["suspension_id"], ["suspension.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeal_suspension_id"), ["suspension_id"])

    op.create_table(
        "suspension_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suspension_id", sa.Integer(), nullable=False),
        sa.Column("at", _Moment(timezone=True), nullable=False),
        sa.Column("actor", _String(length=64), nullable=False),
        sa.Column("action", _String(length=24), nullable=False),
        sa.Column("from_state", _String(length=10), nullable=True),
        sa.Column("to_state", _String(length=10), nullable=False),
        sa.Column("reason", _String(length=500), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["suspension_id"], ["suspension.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("suspension_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suspension_event_suspension_id"), ["suspension_id"])

    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offices", sa.JSON(), nullable=False, server_default="[]"))

    with op.batch_alter_table("job_offer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", _String(length=12), nullable=False, server_default="job_offer")
        )

    with op.batch_alter_table("suspension", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office_code", _String(length=8), nullable=True))
        batch_op.add_column(
            sa.Column("profile_version", _String(length=32), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("trigger_offer_key", _String(length=16), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("decision_mode", _String(length=10), nullable=False, server_default="csw")
        )
        batch_op.add_column(sa.Column("suspended_until", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "proposed_at",
                _Moment(timezone=True),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
        batch_op.add_column(sa.Column("decided_by", _String(length=64), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", _String(length=500), nullable=True))
        batch_op.add_column(sa.Column("hold_note", _String(length=500), nullable=True))
        batch_op.add_column(sa.Column("lifted_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("lift_reason", _String(length=24), nullable=True))
        batch_op.add_column(sa.Column("arrears_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("arrears_until", sa.Date(), nullable=True))
        batch_op.alter_column("decided_at", existing_type=_Moment(timezone=True), nullable=True)
    op.execute(
        "UPDATE suspension SET trigger_offer_key = 'legacy-' || id, decision_mode = 'automatic',"
        " status = CASE status WHEN 'lifted' THEN 'lifted' ELSE 'confirmed' END,"
        " decided_by = 'rule:' || rule, proposed_at = decided_at"
    )
    with op.batch_alter_table("suspension", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suspension_office_code"), ["office_code"])
        batch_op.create_index(batch_op.f("ix_suspension_status"), ["status"])
        batch_op.create_unique_constraint(
            "uq_suspension_trigger", ["person_id", "rule", "trigger_offer_key"]
        )


def downgrade() -> None:
    op.execute("UPDATE suspension SET decided_at = proposed_at WHERE decided_at IS NULL")
    with op.batch_alter_table("suspension", schema=None) as batch_op:
        batch_op.drop_constraint("uq_suspension_trigger", type_="unique")
        batch_op.drop_index(batch_op.f("ix_suspension_status"))
        batch_op.drop_index(batch_op.f("ix_suspension_office_code"))
        batch_op.alter_column("decided_at", existing_type=_Moment(timezone=True), nullable=False)
        for column in (
            "arrears_until",
            "arrears_from",
            "lift_reason",
            "lifted_on",
            "hold_note",
            "decision_reason",
            "decided_by",
            "proposed_at",
            "suspended_until",
            "decision_mode",
            "trigger_offer_key",
            "profile_version",
            "office_code",
        ):
            batch_op.drop_column(column)

    with op.batch_alter_table("job_offer", schema=None) as batch_op:
        batch_op.drop_column("kind")

    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.drop_column("offices")

    with op.batch_alter_table("suspension_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suspension_event_suspension_id"))
    op.drop_table("suspension_event")
    with op.batch_alter_table("appeal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeal_suspension_id"))
    op.drop_table("appeal")
