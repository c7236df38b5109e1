"""The review queue of uncertain identity pairs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from hub.store.types import UTCDateTime, utc_now


class ReviewPair(SQLModel, table=True):
    """A source record that may be a known person: an operator accepts or rejects the link.

    The hub also records the pairs it linked itself (status ``linked``), so that the
    reasons of every decision stay with it: ``components`` holds, per field, the level of
    agreement and its weight in bits, the total weight, the prior, the probability and the
    thresholds that applied.
    """

    __tablename__ = "review_pair"
    __table_args__ = (
        UniqueConstraint("source_registry", "record_key", "person_id", name="uq_review_pair"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_registry: str = Field(max_length=8, description="where the unidentified record lives")
    record_key: str = Field(max_length=64, description="e.g. the CMS returnee id")
    person_id: int = Field(foreign_key="person.id", index=True)
    score: float
    components: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(
        default="pending", max_length=10, description="pending/accepted/rejected/linked"
    )
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=64)
