"""Canonical store, feed watermarks, quarantine and the identity review queue.

Revision ID: 0001
Revises: (first migration)
Create Date: 2026-11-23 08:54:07.164254
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import hub.store.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
        sa.Column("municipality_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("created_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("golden_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_municipality_code"), ["municipality_code"], unique=False
        )

    op.create_table(
        "quarantined_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("record_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("feed_seq", sa.Integer(), nullable=True),
        sa.Column("field_path", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("quarantined_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quarantined_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quarantined_record_source_registry"), ["source_registry"], unique=False
        )

    op.create_table(
        "watermark",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("cursor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("changes_read", sa.Integer(), nullable=False),
        sa.Column("updated_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source_registry", "stream"),
    )
    op.create_table(
        "benefit_case",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("applicant_person_id", sa.Integer(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("municipality_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("office_code", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["applicant_person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_key"),
    )
    with op.batch_alter_table("benefit_case", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_benefit_case_applicant_person_id"), ["applicant_person_id"], unique=False
        )

    op.create_table(
        "benefit_case_member",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("relation", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_key", "person_id", name="uq_benefit_case_member"),
    )
    with op.batch_alter_table("benefit_case_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_benefit_case_member_case_key"), ["case_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_benefit_case_member_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "benefit_decision",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("case_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("monthly_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("decision_key"),
    )
    with op.batch_alter_table("benefit_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_benefit_decision_case_key"), ["case_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_benefit_decision_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "benefit_payment",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("case_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("month", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("payment_key"),
    )
    with op.batch_alter_table("benefit_payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_benefit_payment_case_key"), ["case_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_benefit_payment_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "civil_event",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_key"),
    )
    with op.batch_alter_table("civil_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_civil_event_person_id"), ["person_id"], unique=False)

    op.create_table(
        "employment_contract",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("employer_tin", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
        sa.Column("employer_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contract_key"),
    )
    with op.batch_alter_table("employment_contract", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_employment_contract_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "household",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("municipality_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("head_person_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["head_person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("household_key"),
    )
    op.create_table(
        "household_member",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("relation", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("household_key", "person_id", name="uq_household_member"),
    )
    with op.batch_alter_table("household_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_household_member_household_key"), ["household_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_household_member_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "job_offer",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("employer_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("occupation_code", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("offered_on", sa.Date(), nullable=False),
        sa.Column("response", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("offer_key"),
    )
    with op.batch_alter_table("job_offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_offer_person_id"), ["person_id"], unique=False)

    op.create_table(
        "jobseeker_registration",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jobseeker_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("office_code", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("terminated_on", sa.Date(), nullable=True),
        sa.Column("termination_reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("profiling_segment", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("education_level", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("jobseeker_key"),
    )
    with op.batch_alter_table("jobseeker_registration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jobseeker_registration_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "payroll_declaration",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("employer_tin", sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("gross_wage", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("declaration_key", name="uq_payroll_declaration_key"),
    )
    with op.batch_alter_table("payroll_declaration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payroll_declaration_period"), ["period"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payroll_declaration_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "person_attribute",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "person_id", "name", "source_registry", name="uq_person_attribute_source"
        ),
    )
    with op.batch_alter_table("person_attribute", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_attribute_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "person_identifier",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("value", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scheme", "value", name="uq_person_identifier_scheme_value"),
    )
    with op.batch_alter_table("person_identifier", schema=None) as batch_op:
        batch_op.create_index(
            "ix_person_identifier_person_scheme", ["person_id", "scheme"], unique=False
        )

    op.create_table(
        "placement",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("placement_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("measure_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("placement_key"),
    )
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_placement_person_id"), ["person_id"], unique=False)

    op.create_table(
        "refusal",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("refused_on", sa.Date(), nullable=False),
        sa.Column("reason_code", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("justified", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("offer_key"),
    )
    with op.batch_alter_table("refusal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refusal_person_id"), ["person_id"], unique=False)

    op.create_table(
        "returnee_case",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("returnee_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("case_no", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("first_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("last_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("sex", sqlmodel.sql.sqltypes.AutoString(length=1), nullable=True),
        sa.Column("municipality_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("returned_on", sa.Date(), nullable=False),
        sa.Column("country_from", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("case_status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("emis_registered", sa.Boolean(), nullable=False),
        sa.Column("employment_status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("support_packages", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("returnee_key"),
    )
    with op.batch_alter_table("returnee_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returnee_case_person_id"), ["person_id"], unique=False)

    op.create_table(
        "review_pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("record_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("created_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", hub.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_registry", "record_key", "person_id", name="uq_review_pair"),
    )
    with op.batch_alter_table("review_pair", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_pair_person_id"), ["person_id"], unique=False)

    op.create_table(
        "suspension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("case_key", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("policy_profile", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("suspended_from", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("decided_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("suspension", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suspension_person_id"), ["person_id"], unique=False)

    op.create_table(
        "unemployment_certificate",
        sa.Column("source_registry", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("as_of", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", hub.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_no", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("revocation_reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("certificate_no", "source_registry", name="uq_certificate_source"),
    )
    with op.batch_alter_table("unemployment_certificate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unemployment_certificate_certificate_no"),
            ["certificate_no"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_unemployment_certificate_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("unemployment_certificate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unemployment_certificate_person_id"))
        batch_op.drop_index(batch_op.f("ix_unemployment_certificate_certificate_no"))

    op.drop_table("unemployment_certificate")
    with op.batch_alter_table("suspension", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suspension_person_id"))

    op.drop_table("suspension")
    with op.batch_alter_table("review_pair", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_pair_person_id"))

    op.drop_table("review_pair")
    with op.batch_alter_table("returnee_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_returnee_case_person_id"))

    op.drop_table("returnee_case")
    with op.batch_alter_table("refusal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refusal_person_id"))

    op.drop_table("refusal")
    with op.batch_alter_table("placement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placement_person_id"))

    op.drop_table("placement")
    with op.batch_alter_table("person_identifier", schema=None) as batch_op:
        batch_op.drop_index("ix_person_identifier_person_scheme")

    op.drop_table("person_identifier")
    with op.batch_alter_table("person_attribute", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_attribute_person_id"))

    op.drop_table("person_attribute")
    with op.batch_alter_table("payroll_declaration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payroll_declaration_person_id"))
        batch_op.drop_index(batch_op.f("ix_payroll_declaration_period"))

    op.drop_table("payroll_declaration")
    with op.batch_alter_table("jobseeker_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobseeker_registration_person_id"))

    op.drop_table("jobseeker_registration")
    with op.batch_alter_table("job_offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_offer_person_id"))

    op.drop_table("job_offer")
    with op.batch_alter_table("household_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_household_member_person_id"))
        batch_op.drop_index(batch_op.f("ix_household_member_household_key"))

    op.drop_table("household_member")
    op.drop_table("household")
    with op.batch_alter_table("employment_contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_employment_contract_person_id"))

    op.drop_table("employment_contract")
    with op.batch_alter_table("civil_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_civil_event_person_id"))

    op.drop_table("civil_event")
    with op.batch_alter_table("benefit_payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_benefit_payment_person_id"))
        batch_op.drop_index(batch_op.f("ix_benefit_payment_case_key"))

    op.drop_table("benefit_payment")
    with op.batch_alter_table("benefit_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_benefit_decision_person_id"))
        batch_op.drop_index(batch_op.f("ix_benefit_decision_case_key"))

    op.drop_table("benefit_decision")
    with op.batch_alter_table("benefit_case_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_benefit_case_member_person_id"))
        batch_op.drop_index(batch_op.f("ix_benefit_case_member_case_key"))

    op.drop_table("benefit_case_member")
    with op.batch_alter_table("benefit_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_benefit_case_applicant_person_id"))

    op.drop_table("benefit_case")
    op.drop_table("watermark")
    with op.batch_alter_table("quarantined_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantined_record_source_registry"))

    op.drop_table("quarantined_record")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_municipality_code"))

    op.drop_table("person")
