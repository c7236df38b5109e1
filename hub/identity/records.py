"""What matching compares: identity records, and the same records as numpy columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from threading import Lock
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from hub.identity.normalize import name_key, spelling_key

IntArray = npt.NDArray[np.int64]
LevelArray = npt.NDArray[np.signedinteger[Any]]
"""Comparison levels: small integers, one byte each once a comparison is kept."""
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
class NameCodes:
    """Names and spellings as integer codes of :func:`intern`: cheap to compare and group."""

    first: IntArray
    last: IntArray
    first_spelling: IntArray
    last_spelling: IntArray

    def take(self, index: IntArray) -> NameCodes:
        """The rows at ``index``, in that order."""
        return NameCodes(
            self.first[index], self.last[index], self.first_spelling[index],
            self.last_spelling[index],
        )  # fmt: skip


_CODES: dict[str, int] = {}
_TEXTS: list[str] = []
_INTERNING = Lock()


def intern(values: Sequence[str]) -> IntArray:
    """A process-wide integer code per distinct string, ``-1`` for an empty one.

    Codes are only compared and grouped, never stored; the table grows with the distinct
    names seen, as :func:`~hub.identity.normalize.name_key`'s cache does.
    """
    with _INTERNING:
        get = _CODES.get
        codes = []
        for value in values:
            code = get(value, -1) if value else -1
            if code < 0 and value:
                code = _CODES[value] = len(_TEXTS)
                _TEXTS.append(value)
            codes.append(code)
    return np.asarray(codes, dtype=np.int64)


def interned(codes: IntArray) -> ObjectArray:
    """The strings of codes from :func:`intern` (``""`` for ``-1``)."""
    texts = _TEXTS
    return _objects([texts[c] if c >= 0 else "" for c in codes.tolist()])


@dataclass(frozen=True)
class Dates:
    """Birth dates as columns, as :class:`IdentityFrame` holds them."""

    birth: IntArray
    swapped: IntArray
    year: IntArray
    month: IntArray
    day: IntArray


@dataclass(frozen=True)
class IdentityFrame:
    """Records as columns: name keys, birth date parts, sex and municipality as integers.

    ``first``/``last`` are the folded name keys, ``first_spelling``/``last_spelling`` the
    names as spelt (script, case and diacritics ignored). Unknown values are ``""`` for
    names and ``0`` for numbers. ``swapped`` is the birth date with day and month
    exchanged, where that is another valid date.
    """

    first: ObjectArray
    last: ObjectArray
    first_spelling: ObjectArray
    last_spelling: ObjectArray
    codes: NameCodes
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
        first = [name_key(r.first_name) for r in records]
        last = [name_key(r.last_name) for r in records]
        first_spelling = [spelling_key(r.first_name) for r in records]
        last_spelling = [spelling_key(r.last_name) for r in records]
        return cls(
            first=_objects(first),
            last=_objects(last),
            first_spelling=_objects(first_spelling),
            last_spelling=_objects(last_spelling),
            codes=NameCodes(
                intern(first), intern(last), intern(first_spelling), intern(last_spelling)
            ),
            birth=_ints([b.toordinal() if b else 0 for b in births]),
            swapped=_ints([_swapped(b) for b in births]),
            year=_ints([b.year if b else 0 for b in births]),
            month=_ints([b.month if b else 0 for b in births]),
            day=_ints([b.day if b else 0 for b in births]),
            sex=_ints([_SEX_CODES.get(r.sex or "", 0) for r in records]),
            municipality=_ints([_code(r.municipality_code) for r in records]),
        )

    def dates(self, index: IntArray) -> Dates:
        """Only the birth-date columns of the rows at ``index`` (cheap to take in bulk)."""
        return Dates(
            self.birth[index], self.swapped[index], self.year[index], self.month[index],
            self.day[index],
        )  # fmt: skip

    def take(self, index: IntArray) -> IdentityFrame:
        """The rows at ``index``, in that order."""
        columns = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "codes"}
        return IdentityFrame(
            codes=self.codes.take(index), **{name: c[index] for name, c in columns.items()}
        )


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
