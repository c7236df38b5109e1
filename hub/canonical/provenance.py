"""Provenance shared by every canonical fact: which registry said it, and as of when."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from hub.store.types import UTCDateTime, utc_now


class Provenance(SQLModel):
    """Mixin: the source registry of a fact and the time the source says it held."""

    source_registry: str = Field(max_length=8, description="emis, sas, tak, cra or cms")
    as_of: datetime = Field(sa_type=UTCDateTime, description="when the source recorded it")
    recorded_at: datetime = Field(
        default_factory=utc_now, sa_type=UTCDateTime, description="when the hub stored it"
    )
