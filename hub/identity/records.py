"""What matching compares: identity records, and the same records as numpy columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Protocol

import numpy as np
import numpy.typing as npt

from hub.identity.normalize import name_key

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]

_SEX_CODES = {"M": 1, "F": 2}


class Identity(Protocol):
    """The fields matching reads from any record."""

    @property
    def first_name(self) -> str | None: ...
    @property
    def last_name(self) -> str | None: ...
    @property
    def birth_date(self) -> date | None: ...
    @property
    def sex(self) -> str | None: ...
    @property
    def municipality_code(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Candidate:
    """A record to identify: a returnee without personal number, a row of an external list."""

    key: str
    first_name: str | None
    last_name: str | None
    birth_date: date | None
    sex: str | None = None
    municipality_code: str | None = None


@dataclass(frozen=True, slots=True)
class KnownPerson:
    """A canonical person's golden record and personal number."""

    person_id: int
    personal_no: str | None
    first_name: str | None
    last_name: str | None
    birth_date: date | None
    sex: str | None = None
    municipality_code: str | None = None


@dataclass(frozen=True)
class IdentityFrame:
    """Records as columns: name keys, birth date parts, sex and municipality as integers.

    Unknown values are ``""`` for names and ``0`` for numbers. ``swapped`` is the birth
    date with day and month exchanged, where that is another valid date.
    """

    first: ObjectArray
    last: ObjectArray
    birth: IntArray
    swapped: IntArray
    year: IntArray
    month: IntArray
    day: IntArray
    sex: IntArray
    municipality: IntArray

    def __len__(self) -> int:
        return len(self.birth)

    @classmethod
    def build(cls, records: Sequence[Identity]) -> IdentityFrame:
        """Normalise names and split dates once per record."""
        births = [r.birth_date for r in records]
        return cls(
            first=_objects([name_key(r.first_name) for r in records]),
            last=_objects([name_key(r.last_name) for r in records]),
            birth=_ints([b.toordinal() if b else 0 for b in births]),
            swapped=_ints([_swapped(b) for b in births]),
            year=_ints([b.year if b else 0 for b in births]),
            month=_ints([b.month if b else 0 for b in births]),
            day=_ints([b.day if b else 0 for b in births]),
            sex=_ints([_SEX_CODES.get(r.sex or "", 0) for r in records]),
            municipality=_ints([_code(r.municipality_code) for r in records]),
        )

    def take(self, index: IntArray) -> IdentityFrame:
        """The rows at ``index``, in that order."""
        return IdentityFrame(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def _objects(values: list[str]) -> ObjectArray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _ints(values: list[int]) -> IntArray:
    return np.asarray(values, dtype=np.int64)


def _swapped(birth: date | None) -> int:
    if birth is None or birth.day > 12 or birth.day == birth.month:
        return 0
    return date(birth.year, birth.day, birth.month).toordinal()


def _code(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0
