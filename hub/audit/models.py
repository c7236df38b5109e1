"""Audit entries: who saw or received which person's data, for which purpose, when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from hub.store.types import UTCDateTime, utc_now


class AuditEntry(SQLModel, table=True):
    """One read or delivery of personal data; ``entry_hash`` chains it to the previous entry."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    action: str = Field(max_length=16, description="read, delivery or decision")
    actor: str = Field(max_length=64, description="API client name, or the dispatcher")
    purpose: str = Field(max_length=48, description="the scope or flow that justified it")
    person_id: int | None = Field(default=None, index=True)
    fields: list[str] = Field(default_factory=list, sa_type=JSON)
    target: str = Field(max_length=120, description="endpoint read, or registry.operation")
    request_id: str | None = Field(default=None, max_length=64)
    prev_hash: str = Field(max_length=64)
    entry_hash: str = Field(max_length=64, unique=True)
