"""Blocking: which candidate/person pairs are worth scoring, found by sorted joins.

Each pass is an equality join on one integer key; the candidate pairs are the union of
all passes. Keys stay narrow so blocks stay small on large populations:

* ``full name``     — the two name keys as an unordered pair (catches spelling variants
                      and first/last transposed, whatever the birth date says);
* ``last + year``   — last-name key and birth year (a typo in the first name);
* ``first + year``  — first-name key and birth year (a typo in the last name);
* ``transposed``    — the candidate's first name against the person's last name and the
                      other way round, with the birth year (names swapped *and* one of
                      them mistyped);
* ``birth date``    — exact birth date (both names mistyped);
* ``swapped date``  — birth date with day and month exchanged.

A last-name-only pass is deliberately absent: in a 100,000-person registry a common
surname is a block of a thousand persons, and a record whose names and birth year are
all wrong cannot reach the link threshold anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hub.identity.records import IdentityFrame, IntArray, ObjectArray

_YEARS = 10_000


@dataclass(frozen=True)
class _SortedKeys:
    """One pass's person-side keys, sorted once for repeated joins."""

    order: IntArray
    keys: IntArray

    @classmethod
    def of(cls, keys: IntArray) -> _SortedKeys:
        valid = np.flatnonzero(keys >= 0)
        order = valid[np.argsort(keys[valid], kind="stable")]
        return cls(order=order, keys=keys[order])

    def join(self, probe: IntArray) -> tuple[IntArray, IntArray]:
        """All ``(i, j)`` with ``probe[i] == keys[j]``, ``j`` an index into the persons."""
        lo = np.searchsorted(self.keys, probe, side="left")
        hi = np.searchsorted(self.keys, probe, side="right")
        counts = np.where(probe >= 0, hi - lo, 0)
        total = int(counts.sum())
        left = np.repeat(np.arange(len(probe), dtype=np.int64), counts)
        group_start = np.repeat(np.cumsum(counts) - counts, counts)
        right = self.order[np.repeat(lo, counts) + np.arange(total) - group_start]
        return left, right


class BlockingIndex:
    """The persons' blocking keys, built once and joined against many candidate chunks."""

    def __init__(self, persons: IdentityFrame) -> None:
        self.size = len(persons)
        names = np.concatenate([persons.first, persons.last])
        self._vocabulary: dict[str, int] = {
            key: code for code, key in enumerate(dict.fromkeys(k for k in names if k))
        }
        first, last = self._codes(persons.first), self._codes(persons.last)
        self._full_name = _SortedKeys.of(_pair(first, last, len(self._vocabulary)))
        self._last_year = _SortedKeys.of(_with_year(last, persons.year))
        self._first_year = _SortedKeys.of(_with_year(first, persons.year))
        self._birth = _SortedKeys.of(np.where(persons.birth > 0, persons.birth, -1))

    def _codes(self, keys: ObjectArray) -> IntArray:
        get = self._vocabulary.get
        return np.fromiter((get(k, -1) for k in keys), dtype=np.int64, count=len(keys))

    def candidate_pairs(self, candidates: IdentityFrame) -> tuple[IntArray, IntArray]:
        """Unique ``(candidate index, person index)`` pairs of every pass, sorted."""
        first, last = self._codes(candidates.first), self._codes(candidates.last)
        first_year = _with_year(first, candidates.year)
        last_year = _with_year(last, candidates.year)
        joins = (
            self._full_name.join(_pair(first, last, len(self._vocabulary))),
            self._last_year.join(last_year),
            self._first_year.join(first_year),
            self._last_year.join(first_year),
            self._first_year.join(last_year),
            self._birth.join(np.where(candidates.birth > 0, candidates.birth, -1)),
            self._birth.join(np.where(candidates.swapped > 0, candidates.swapped, -1)),
        )
        width = max(self.size, 1)
        combined = np.unique(np.concatenate([i * width + j for i, j in joins]))
        return combined // width, combined % width


def _pair(first: IntArray, last: IntArray, vocabulary: int) -> IntArray:
    """An unordered pair of name codes as one key; -1 unless both names are known."""
    low, high = np.minimum(first, last), np.maximum(first, last)
    return np.where(low >= 0, low * max(vocabulary, 1) + high, -1)


def _with_year(code: IntArray, year: IntArray) -> IntArray:
    return np.where((code >= 0) & (year > 0), code * _YEARS + year, -1)
