"""Persons, their identifiers in every registry, and attribute values with provenance."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from hub.canonical.provenance import Provenance
from hub.store.types import UTCDateTime, utc_now

PERSONAL_NO_SCHEME = "XK-PN"
"""Identifier scheme of the 10-digit Kosovo personal number."""


class Person(SQLModel, table=True):
    """The golden record of one human: current survivor values of each attribute.

    Every candidate value with its source lives in :class:`PersonAttribute`;
    survivorship rules decide which one is copied here.
    """

    id: int | None = Field(default=None, primary_key=True)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    birth_date: date | None = None
    sex: str | None = Field(default=None, max_length=1)
    municipality_code: str | None = Field(default=None, max_length=2, index=True)
    death_date: date | None = None
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    golden_at: datetime | None = Field(
        default=None,
        sa_type=UTCDateTime,
        description="when survivorship last ran; older than an attribute means stale",
    )


class PersonIdentifier(Provenance, table=True):
    """A ``(scheme, value)`` pair naming a person: the personal number or a registry's local id."""

    __tablename__ = "person_identifier"
    __table_args__ = (
        UniqueConstraint("scheme", "value", name="uq_person_identifier_scheme_value"),
        # person -> its number: without it SQLite walks the (scheme, value) index per person
        Index("ix_person_identifier_person_scheme", "person_id", "scheme"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    scheme: str = Field(max_length=16, description="XK-PN, EMIS-JS, CMS-RT, ...")
    value: str = Field(max_length=64)


class PersonAttribute(Provenance, table=True):
    """One value of one attribute as one registry holds it."""

    __tablename__ = "person_attribute"
    __table_args__ = (
        UniqueConstraint("person_id", "name", "source_registry", name="uq_person_attribute_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    name: str = Field(max_length=32, description="first_name, birth_date, municipality_code, ...")
    value: str | None = Field(default=None, max_length=200)
