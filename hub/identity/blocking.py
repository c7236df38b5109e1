"""Blocking: which candidate/person pairs are worth comparing, found by sorted joins.

Each rule is an equality join on one integer key; the candidate pairs are the union of all
rules, so a record reaches its person when *any* rule holds. Names are the folded keys of
:func:`~hub.identity.normalize.name_key`; "both orders" means the candidate's first name
is also tried against the person's last name and the other way round.

* ``full name``      — both names, in either order, whatever the birth date says;
* ``name + year``    — one name (both orders) and the birth year: a typo in the other name;
* ``name + day``     — one name (both orders) and birth month and day: a typo in the
                       other name and a wrong year digit;
* ``birth date``     — the exact date, a day either side (also across a year boundary)
                       and day and month exchanged: both names mistyped;
* ``initials + day`` — both initials (either order) and birth month and day: both names
                       mistyped and a wrong year;
* ``skeleton``       — both names' consonant skeletons (either order): both names
                       mistyped in their vowels, whatever the date.

A surname-only rule is deliberately absent: in a 100,000-person registry a common surname
is a block of a thousand persons, and a record whose names and birth date are all wrong
cannot reach a link anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from hub.identity.records import IdentityFrame, IntArray, ObjectArray, intern

_YEARS = 10_000
_DAYS = 32 * 13
_LETTERS = 27
_CODE_WIDTH = 1 << 31
"""Above every :func:`~hub.identity.records.intern` code: two of them make one key."""


@dataclass(frozen=True)
class _SortedKeys:
    """One rule's person-side keys, sorted once for repeated joins."""

    order: IntArray
    keys: IntArray

    @classmethod
    def of(cls, keys: IntArray) -> _SortedKeys:
        valid = np.flatnonzero(keys >= 0)
        order = valid[np.argsort(keys[valid], kind="stable")]
        return cls(order=order, keys=keys[order])

    def join(self, probe: IntArray) -> IntArray:
        """``i * width + j`` for all ``(i, j)`` with ``probe[i] == keys[j]``."""
        lo = np.searchsorted(self.keys, probe, side="left")
        hi = np.searchsorted(self.keys, probe, side="right")
        counts = np.where(probe >= 0, hi - lo, 0)
        total = int(counts.sum())
        left = np.repeat(np.arange(len(probe), dtype=np.int64), counts)
        group_start = np.repeat(np.cumsum(counts) - counts, counts)
        right = self.order[np.repeat(lo, counts) + np.arange(total) - group_start]
        return np.asarray(left * (1 << 32) + right, dtype=np.int64)


@dataclass(frozen=True)
class _Codes:
    """A frame's names as integer codes, and its birth-date keys."""

    first: IntArray
    last: IntArray
    first_skeleton: IntArray
    last_skeleton: IntArray
    year: IntArray
    day: IntArray
    birth: IntArray
    swapped: IntArray


class BlockingIndex:
    """The persons' blocking keys, built once and joined against many candidate chunks."""

    def __init__(self, persons: IdentityFrame) -> None:
        self.size = len(persons)
        p = _codes(persons)
        self._full_name = _SortedKeys.of(_pair(p.first, p.last))
        self._last_year = _SortedKeys.of(_with(p.last, p.year, _YEARS))
        self._first_year = _SortedKeys.of(_with(p.first, p.year, _YEARS))
        self._last_day = _SortedKeys.of(_with(p.last, p.day, _DAYS))
        self._first_day = _SortedKeys.of(_with(p.first, p.day, _DAYS))
        self._birth = _SortedKeys.of(p.birth)
        self._initials = _SortedKeys.of(_initials(persons, p.day))
        self._skeleton = _SortedKeys.of(_pair(p.first_skeleton, p.last_skeleton))

    def candidate_pairs(self, candidates: IdentityFrame) -> tuple[IntArray, IntArray]:
        """Unique ``(candidate index, person index)`` pairs of every rule, sorted."""
        c = _codes(candidates)
        known = c.birth >= 0
        joins = [
            self._full_name.join(_pair(c.first, c.last)),
            self._skeleton.join(_pair(c.first_skeleton, c.last_skeleton)),
            self._birth.join(c.birth),
            self._birth.join(np.where(known, c.birth - 1, -1)),
            self._birth.join(np.where(known, c.birth + 1, -1)),
            self._birth.join(c.swapped),
            self._initials.join(_initials(candidates, c.day)),
        ]
        for own, other in ((c.first, c.last), (c.last, c.first)):
            joins.append(self._first_year.join(_with(own, c.year, _YEARS)))
            joins.append(self._last_year.join(_with(other, c.year, _YEARS)))
            joins.append(self._first_day.join(_with(own, c.day, _DAYS)))
            joins.append(self._last_day.join(_with(other, c.day, _DAYS)))
        combined = np.unique(np.concatenate(joins))
        return combined >> 32, combined & ((1 << 32) - 1)


def _codes(frame: IdentityFrame) -> _Codes:
    """Name keys, their skeletons and the birth-date keys of a frame, as integers."""
    known = frame.birth > 0
    return _Codes(
        first=frame.codes.first,
        last=frame.codes.last,
        first_skeleton=intern([skeleton(k) for k in frame.first.tolist()]),
        last_skeleton=intern([skeleton(k) for k in frame.last.tolist()]),
        year=np.where(known, frame.year, -1),
        day=np.where(known, frame.month * 32 + frame.day, -1),
        birth=np.where(known, frame.birth, -1),
        swapped=np.where(frame.swapped > 0, frame.swapped, -1),
    )


_VOWELS = re.compile("[aeiouy ]+")


@lru_cache(maxsize=65_536)
def skeleton(key: str) -> str:
    """The first letter and the consonants of a name key, doubled letters once."""
    if not key:
        return ""
    rest = _VOWELS.sub("", key[1:])
    letters = [key[0], *rest]
    return "".join(a for a, b in zip(letters, [None, *letters], strict=False) if a != b)


def _pair(first: IntArray, last: IntArray, width: int = _CODE_WIDTH) -> IntArray:
    """An unordered pair of codes as one key; -1 unless both are known."""
    low, high = np.minimum(first, last), np.maximum(first, last)
    return np.where(low >= 0, low * width + high, -1)


def _with(code: IntArray, value: IntArray, width: int) -> IntArray:
    return np.where((code >= 0) & (value >= 0), code * width + value, -1)


def _initials(frame: IdentityFrame, day: IntArray) -> IntArray:
    """Both initials, unordered, with birth month and day; -1 unless all are known."""
    first = _initial(frame.first)
    last = _initial(frame.last)
    pair = _pair(first, last, _LETTERS)
    return np.where((pair >= 0) & (day >= 0), pair * _DAYS + day, -1)


def _initial(keys: ObjectArray) -> IntArray:
    return np.fromiter(
        (ord(k[0]) - 96 if k and "a" <= k[0] <= "z" else -1 for k in keys.tolist()),
        dtype=np.int64,
        count=len(keys),
    )
