"""Field types and base models shared by the REST contracts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

PERSONAL_NO_PATTERN = r"^[1-9][0-9]{9}$"

PersonalNo = Annotated[
    str, Field(pattern=PERSONAL_NO_PATTERN, description="10-digit personal number")
]
Money = Annotated[str, Field(pattern=r"^-?[0-9]+\.[0-9]{2}$", description="euros, two decimals")]
MunicipalityCode = Annotated[str, Field(pattern=r"^[0-9]{2}$", description="municipality code")]
Month = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


class Record(BaseModel):
    """Base of every published record: extra stored fields are never leaked.

    Optional fields are always sent (as null), so the published schema lists
    them as required, as the contracts do.
    """

    model_config = ConfigDict(extra="ignore", json_schema_serialization_defaults_required=True)


class ChangeBase(Record):
    """One entry of a change feed; registries narrow ``kind`` and ``data``."""

    seq: int = Field(ge=1, description="position in the feed, strictly increasing")
    kind: str
    changed_at: datetime
    data: Any


class ChangePageBase(Record):
    """A page of a change feed; registries narrow ``items``."""

    items: list[Any]
    next_cursor: str = Field(description="opaque; pass as `since` to read on")
    has_more: bool


PersonalNoParam = Annotated[
    str, Path(pattern=PERSONAL_NO_PATTERN, description="10-digit personal number")
]
"""A path parameter holding a personal number (422 when malformed)."""
