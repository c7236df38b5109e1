"""Returnee cases from the reintegration case-management system (CMS)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field

from hub.canonical.provenance import Provenance


class ReturneeCase(Provenance, table=True):
    """A readmitted person's reintegration case; the person may not be identified yet."""

    __tablename__ = "returnee_case"

    id: int | None = Field(default=None, primary_key=True)
    returnee_key: str = Field(max_length=16, unique=True, description="CMS returnee id")
    case_no: str = Field(max_length=16)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    # The identity CMS recorded, kept for identity resolution while person_id is unset.
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    birth_date: date | None = None
    sex: str | None = Field(default=None, max_length=1)
    municipality_code: str | None = Field(default=None, max_length=2)
    returned_on: date
    country_from: str = Field(max_length=2)
    case_status: str = Field(max_length=8, description="open or closed")
    emis_registered: bool = False
    employment_status: str = Field(default="unknown", max_length=10)
    support_packages: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
