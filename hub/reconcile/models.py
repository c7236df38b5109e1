"""Reconciliation runs and their findings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from hub.store.types import UTCDateTime, utc_now


class ReconciliationRun(SQLModel, table=True):
    """One comparison of the registries; ``progress`` in percent while it runs."""

    __tablename__ = "reconciliation_run"

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default="running", max_length=10, description="running, done, failed")
    dry_run: bool = False
    progress: int = 0
    counts: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    error: str | None = Field(default=None, max_length=500)
    started_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Finding(SQLModel, table=True):
    """An inconsistency between registries, its evidence and the action proposed."""

    __tablename__ = "reconciliation_finding"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="reconciliation_run.id", index=True)
    kind: str = Field(max_length=40, index=True)
    person_id: int | None = Field(default=None, index=True)
    subject_key: str = Field(
        max_length=64, description="what it is about: a case, certificate, ..."
    )
    evidence: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    proposed_action: dict[str, Any] | None = Field(
        default=None, sa_type=JSON, description="target, operation and payload of the fix"
    )
    status: str = Field(default="open", max_length=10, description="open, applied, dismissed")
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outbox_key: str | None = Field(default=None, max_length=128)
