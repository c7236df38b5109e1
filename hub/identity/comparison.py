"""Comparing pairs field by field: the level at which each field agrees, vectorised.

A level is a small integer, the higher the closer; :data:`MISSING` (-1) when either side
lacks the value, which the match model counts as neither agreement nor disagreement.

* names — ``exact`` (same spelling, whatever the script, case or diacritics), ``folded``
  (same :func:`~hub.identity.normalize.name_key`: ``Krasniqi``/``Krasnići``,
  ``Đorđe``/``Dorde``), ``one_edit``, ``two_edits`` and ``three_edits`` (optimal string
  alignment distance of the keys or of the spellings, whichever is less — a typo can break
  a digraph the key folds; a transposition of two letters is one edit), ``other`` (another
  name altogether);
* birth date — ``exact``, ``one_day`` (also across a month or year boundary), ``swapped``
  (day and month exchanged), ``year_typo`` (same day and month, one of the year's last two
  digits one or two off — a neighbouring key), ``day_typo`` (same year and month, another
  day), ``day_month`` (same day and month, another year), ``same_year`` (another month),
  ``other``;
* municipality and sex — ``equal`` or ``different``.

Names are compared both ways round, and the pair takes the reading whose names agree
more (``transposed`` when first and last are crossed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import OSA
from rapidfuzz.process import cpdist

from hub.identity.records import (
    BoolArray,
    Dates,
    IdentityFrame,
    IntArray,
    LevelArray,
    interned,
)

MISSING = -1

NAME_LEVELS = ("other", "three_edits", "two_edits", "one_edit", "folded", "exact")
BIRTH_LEVELS = (
    "other", "same_year", "day_month", "day_typo", "year_typo", "swapped", "one_day", "exact",
)  # fmt: skip
EQUALITY_LEVELS = ("different", "equal")

FIELD_LEVELS: dict[str, tuple[str, ...]] = {
    "first": NAME_LEVELS,
    "last": NAME_LEVELS,
    "birth": BIRTH_LEVELS,
    "municipality": EQUALITY_LEVELS,
    "sex": EQUALITY_LEVELS,
}
FIELDS = tuple(FIELD_LEVELS)

_EXACT, _FOLDED, _ONE_EDIT, _TWO_EDITS, _THREE_EDITS = 5, 4, 3, 2, 1


@dataclass(frozen=True)
class Comparison:
    """The level of every field of pairs ``(left[k], right[k])``, and the reading used."""

    left: IntArray
    right: IntArray
    levels: dict[str, LevelArray]
    transposed: BoolArray

    def __len__(self) -> int:
        return len(self.left)


def compare(
    candidates: IdentityFrame, persons: IdentityFrame, left: IntArray, right: IntArray
) -> Comparison:
    """Compare every pair ``(candidates[left[k]], persons[right[k]])``."""
    a, b = candidates.codes.take(left), persons.codes.take(right)
    first = name_levels(a.first, b.first, a.first_spelling, b.first_spelling)
    last = name_levels(a.last, b.last, a.last_spelling, b.last_spelling)
    first_t = name_levels(a.first, b.last, a.first_spelling, b.last_spelling)
    last_t = name_levels(a.last, b.first, a.last_spelling, b.first_spelling)
    transposed = _agreement(first_t, last_t) > _agreement(first, last)
    return Comparison(
        left=left,
        right=right,
        levels={
            "first": np.where(transposed, first_t, first),
            "last": np.where(transposed, last_t, last),
            "birth": birth_levels(candidates.dates(left), persons.dates(right)),
            "municipality": equality_levels(
                candidates.municipality[left], persons.municipality[right]
            ),
            "sex": equality_levels(candidates.sex[left], persons.sex[right]),
        },
        transposed=transposed,
    )


def _agreement(first: IntArray, last: IntArray) -> IntArray:
    """How well a reading's names agree; a reading needs a close name to count."""
    total = np.maximum(first, 0) + np.maximum(last, 0)
    return np.where(np.maximum(first, last) >= _ONE_EDIT, total, -1)


def name_levels(
    a_key: IntArray, b_key: IntArray, a_spelling: IntArray, b_spelling: IntArray
) -> IntArray:
    """The level of each name pair, given as :func:`~hub.identity.records.intern` codes;
    edit distances only where the keys differ, once per distinct pair of names."""
    levels = np.zeros(len(a_key), dtype=np.int64)
    known = (a_key >= 0) & (b_key >= 0)
    folded = known & (a_key == b_key)
    levels[folded] = _FOLDED
    levels[folded & (a_spelling == b_spelling)] = _EXACT
    rest = np.flatnonzero(known & ~folded)
    if len(rest):
        distance = _distance(a_key[rest], b_key[rest])
        spelt = np.flatnonzero(distance > 1)  # a typo can break a digraph the key folds
        if len(spelt):
            index = rest[spelt]
            other = _distance(a_spelling[index], b_spelling[index])
            distance[spelt] = np.minimum(distance[spelt], other)
        levels[rest] = np.select(
            [distance <= 1, distance == 2, distance == 3], [_ONE_EDIT, _TWO_EDITS, _THREE_EDITS], 0
        )
    levels[~known] = MISSING
    return levels


def _distance(a: IntArray, b: IntArray) -> IntArray:
    """Optimal string alignment distance of coded names, ``4`` for more than three edits."""
    width = int(max(a.max(), b.max())) + 1
    pairs, inverse = np.unique(a * width + b, return_inverse=True)
    found = cpdist(
        interned(pairs // width),
        interned(pairs % width),
        scorer=OSA.distance,
        score_cutoff=3,
        workers=-1,
    )
    distance = np.minimum(np.asarray(found, dtype=np.int64), 4)
    return np.asarray(distance[inverse.reshape(-1)], dtype=np.int64)


def birth_levels(a: Dates | IdentityFrame, b: Dates | IdentityFrame) -> IntArray:
    """The level of each birth-date pair (see the module docstring)."""
    known = (a.birth > 0) & (b.birth > 0)
    same_year, same_month, same_day = a.year == b.year, a.month == b.month, a.day == b.day
    day_month = same_month & same_day
    conditions = [
        ~known,
        a.birth == b.birth,
        np.abs(a.birth - b.birth) == 1,
        (a.swapped > 0) & (a.swapped == b.birth),
        day_month & _year_typo(a.year, b.year),
        same_year & same_month,
        day_month,
        same_year,
    ]
    return np.select(conditions, [MISSING, 7, 6, 5, 4, 3, 2, 1], 0).astype(np.int64)


def _year_typo(a: IntArray, b: IntArray) -> BoolArray:
    """Whether two years differ in one of their last two digits, by one or two
    (``1985``/``1986``, ``1985``/``1975``): a neighbouring key."""
    units, tens = np.abs(a % 10 - b % 10), np.abs((a // 10) % 10 - (b // 10) % 10)
    same_century = a // 100 == b // 100
    one = ((units == 0) & (tens > 0) & (tens <= 2)) | ((tens == 0) & (units > 0) & (units <= 2))
    return np.asarray(same_century & one, dtype=bool)


def equality_levels(a: IntArray, b: IntArray) -> IntArray:
    """``equal`` (1) or ``different`` (0) for coded values; missing where either is 0."""
    return np.where((a > 0) & (b > 0), (a == b).astype(np.int64), MISSING)
