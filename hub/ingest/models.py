"""Ingestion state: a watermark per registry feed, and the quarantine of unmappable records.

Also where the flows stand over what ingestion stored (:class:`FlowWatermark`), and the
indexes they read it through (``CHANGE_INDEXES``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index
from sqlmodel import Field, SQLModel

from hub.canonical import (
    BenefitCase,
    BenefitCaseMember,
    CivilEvent,
    JobOffer,
    JobseekerRegistration,
    PayrollDeclaration,
    Person,
    Placement,
    Refusal,
    ReturneeCase,
    Suspension,
    UnemploymentCertificate,
)
from hub.decisions.models import SuspensionEvent
from hub.store.types import UTCDateTime, utc_now
from hub.store.upsert import table_of
from hub.sync.models import OutboxMessage


class Watermark(SQLModel, table=True):
    """How far the hub has read one registry's change feed.

    It moves in the same transaction as the canonical rows the page produced,
    so it never runs ahead of what was stored.
    """

    source_registry: str = Field(primary_key=True, max_length=8)
    stream: str = Field(default="changes", primary_key=True, max_length=32)
    cursor: str | None = Field(default=None, max_length=200)
    changes_read: int = 0
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class QuarantinedRecord(SQLModel, table=True):
    """A source record that did not map, kept with its reason for an operator."""

    __tablename__ = "quarantined_record"

    id: int | None = Field(default=None, primary_key=True)
    source_registry: str = Field(max_length=8, index=True)
    stream: str = Field(max_length=32)
    record_key: str | None = Field(default=None, max_length=64)
    feed_seq: int | None = None
    field_path: str = Field(max_length=120, description="where in the record it failed")
    reason: str = Field(max_length=300, description="why; never the value itself")
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="open", max_length=10, description="open or resolved")
    quarantined_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class FlowWatermark(SQLModel, table=True):
    """How far one flow has derived one stream of canonical changes (:mod:`hub.sync.flows.changes`).

    A stream is one table's rows in the order the hub stamped them (``stamp`` then
    ``row_id``). The mark moves forward only, in the transaction that queues the flow's
    deliveries. ``window_rows``/``window_ids`` count the rows (and sum their ids) stamped
    after ``window_from`` up to the mark, those that could still have been committing when
    the mark was taken: a run that finds that window changed reads it again. ``as_of`` is
    the day the flow last decided for.
    """

    __tablename__ = "flow_watermark"

    flow: str = Field(primary_key=True, max_length=32)
    stream: str = Field(primary_key=True, max_length=48)
    stamp: datetime | None = Field(default=None, sa_type=UTCDateTime)
    row_id: int = 0
    window_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    window_rows: int = 0
    window_ids: int = Field(default=0, sa_type=BigInteger)
    as_of: date | None = None
    basis: str = Field(default="", max_length=64, description="what the marks were taken under")
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


def _index(name: str, model: type[SQLModel], *columns: str) -> Index:
    table = table_of(model)
    return Index(name, *(table.c[column] for column in columns))


CHANGE_INDEXES = (
    # each stream in the order it was stamped: what changed since a flow's mark
    _index(
        "ix_unemployment_certificate_changes",
        UnemploymentCertificate,
        "source_registry",
        "recorded_at",
        "id",
    ),
    _index("ix_refusal_changes", Refusal, "recorded_at", "id"),
    _index("ix_job_offer_changes", JobOffer, "recorded_at", "id"),
    _index("ix_jobseeker_registration_changes", JobseekerRegistration, "recorded_at", "id"),
    _index("ix_placement_changes", Placement, "recorded_at", "id"),
    _index("ix_payroll_declaration_changes", PayrollDeclaration, "recorded_at", "id"),
    _index("ix_benefit_case_changes", BenefitCase, "recorded_at", "id"),
    _index("ix_benefit_case_member_changes", BenefitCaseMember, "recorded_at", "id"),
    _index("ix_civil_event_changes", CivilEvent, "recorded_at", "id"),
    _index("ix_returnee_case_changes", ReturneeCase, "recorded_at", "id"),
    _index("ix_person_changes", Person, "updated_at", "id"),
    _index("ix_suspension_event_changes", SuspensionEvent, "at", "id"),
    _index("ix_outbox_message_delivered", OutboxMessage, "operation", "delivered_at", "id"),
    # what the passing of days makes due: rows whose day falls between two runs' as_of
    _index("ix_unemployment_certificate_issued_on", UnemploymentCertificate, "issued_on"),
    _index("ix_refusal_refused_on", Refusal, "refused_on"),
    _index("ix_jobseeker_registration_registered_on", JobseekerRegistration, "registered_on"),
    _index("ix_placement_start_date", Placement, "start_date"),
    _index("ix_benefit_case_since", BenefitCase, "since"),
    _index("ix_civil_event_event_date", CivilEvent, "event_date"),
    _index("ix_returnee_case_returned_on", ReturneeCase, "returned_on"),
    _index("ix_returnee_case_birth_date", ReturneeCase, "birth_date"),
    _index("ix_person_death_date", Person, "death_date"),
    _index("ix_person_birth_date", Person, "birth_date"),
    _index("ix_suspension_due", Suspension, "status", "suspended_until"),
)
"""Indexes the incremental flows read through (declared here, beside the flows' marks, so
that the metadata matches migration 0009)."""
