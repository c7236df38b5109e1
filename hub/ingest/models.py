"""Ingestion state: a watermark per registry feed, and the quarantine of unmappable records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from hub.store.types import UTCDateTime, utc_now


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
