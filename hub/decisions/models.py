"""What a decision about a person leaves behind: every move of a suspension, and appeals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from hub.store.types import UTCDateTime, utc_now


class SuspensionEvent(SQLModel, table=True):
    """One move of a suspension's lifecycle: who moved it, when, from which state, and why."""

    __tablename__ = "suspension_event"

    id: int | None = Field(default=None, primary_key=True)
    suspension_id: int = Field(foreign_key="suspension.id", index=True)
    at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    actor: str = Field(max_length=64, description="client name, or rule:<rule> / scheduler")
    action: str = Field(max_length=24)
    from_state: str | None = Field(default=None, max_length=10)
    to_state: str = Field(max_length=10)
    reason: str | None = Field(default=None, max_length=500)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class Appeal(SQLModel, table=True):
    """An appeal against a confirmed suspension, at first (CSW) or second (central) degree."""

    id: int | None = Field(default=None, primary_key=True)
    suspension_id: int = Field(foreign_key="suspension.id", index=True)
    degree: int = Field(ge=1, le=2)
    state: str = Field(default="pending", max_length=12, description="pending, upheld, overturned")
    lodged_on: date
    lodged_by: str = Field(max_length=64)
    lodged_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    grounds: str = Field(max_length=500)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_reason: str | None = Field(default=None, max_length=500)
