"""Parameters several routers share, each bounded so that no value reaches the store or a
job that the store or the job could not take (a 500, or a 202 whose job then fails)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

MAX_ID = 2**63 - 1
"""Larger ids cannot exist, and the database driver would refuse to bind them (a 500)."""
MAX_OFFSET = 1_000_000
"""The deepest page start any list accepts; a larger offset answers nothing anyway."""
EARLIEST_DAY = date(1990, 1, 1)
LATEST_DAY = date(2099, 12, 31)
"""The days a run may decide or compare as on, and a decision take effect on: no registry
holds records older, and nothing later is a plausible day (later days overflowed date
arithmetic in the jobs: a 202 whose job then failed)."""
_YEAR = "(?:199[0-9]|20[0-9][0-9])"
DAY_PATTERN = (
    f"^(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    "|(?:199[26]|20(?:[02468][048]|[13579][26]))-02-29)$"
)
"""Exactly the ISO days from :data:`EARLIEST_DAY` to :data:`LATEST_DAY`, for the contract."""
PERSONAL_NO_PATTERN = r"^[1-9][0-9]{9}$"
"""Ten ASCII digits, the first not 0 (the check digit is verified by the route)."""


def id_path(description: str) -> Any:
    """A positive row id in the path, refused with a 422 when out of range."""
    return Path(description=description, ge=1, le=MAX_ID)


def personal_no_path(
    description: str = "the 10-digit personal number", *, alias: str | None = None
) -> Any:
    """A personal number in the path: ten digits, the first not 0."""
    return Path(
        alias=alias,
        description=description,
        pattern=PERSONAL_NO_PATTERN,
        min_length=10,
        max_length=10,
        examples=["1234567897"],
    )


def limit_query(*, le: int = 500, description: str = "how many items at most") -> Any:
    """The size of a page, from 1 to ``le``."""
    return Query(ge=1, le=le, description=description)


def offset_query(description: str = "items to skip before the page") -> Any:
    """Where a page starts, from 0 to :data:`MAX_OFFSET`."""
    return Query(ge=0, le=MAX_OFFSET, description=description)


def _iso_text(value: object) -> object:
    """Only ISO text is a day here: pydantic would read 1700000000 as a timestamp and
    ``2024-01-31T00:00:00`` as a day, neither of which the contract's pattern admits."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(DAY_PATTERN, value):
        raise ValueError(
            f"give a day as YYYY-MM-DD from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}"
        )
    return value


def _plausible_day(day: date) -> date:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"give a day from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}")
    return day


Day = Annotated[
    date,
    BeforeValidator(_iso_text),
    AfterValidator(_plausible_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DAY_PATTERN}),
]
"""A day a run decides or compares as on, or a decision takes effect on, from
:data:`EARLIEST_DAY` to :data:`LATEST_DAY` (else 422)."""
