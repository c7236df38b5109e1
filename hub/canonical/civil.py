"""Households (family union) and civil events from the civil registry."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field

from hub.canonical.provenance import Provenance


class Household(Provenance, table=True):
    """A family union as the civil registry records it."""

    id: int | None = Field(default=None, primary_key=True)
    household_key: str = Field(max_length=32, unique=True, description="CRA household id")
    municipality_code: str | None = Field(default=None, max_length=2)
    head_person_id: int | None = Field(default=None, foreign_key="person.id")


class HouseholdMember(Provenance, table=True):
    """A person's membership of a household and relation to its head."""

    __tablename__ = "household_member"
    __table_args__ = (UniqueConstraint("household_key", "person_id", name="uq_household_member"),)

    id: int | None = Field(default=None, primary_key=True)
    household_key: str = Field(max_length=32, index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    relation: str = Field(max_length=8, description="head, spouse, child, parent, other")


class CivilEvent(Provenance, table=True):
    """A birth, death, address change or family union."""

    __tablename__ = "civil_event"

    id: int | None = Field(default=None, primary_key=True)
    event_key: str = Field(max_length=32, unique=True, description="CRA event id")
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=16)
    event_date: date
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
