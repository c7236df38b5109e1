"""Scoring candidate pairs, vectorised over all pairs at once.

``score = 0.30 first + 0.25 last + 0.35 birth + 0.10 municipality − 0.20 if sexes differ``,
clipped to ``[0, 1]``. Why these weights:

* names together weigh 0.55, the first name more than the last: family members return
  together and share a surname and municipality, so the surname separates least;
* a name's similarity is Jaro-Winkler on the name keys, rescaled so that 0.70 (what two
  unrelated short names typically reach) counts as nothing: ``(jw − 0.7) / 0.3``. Siblings
  with the same surname and birth date (twins) then stay below the link threshold;
* names are also scored with first and last transposed, and the better reading counts;
* birth date 0.35: exact 1.0, day and month swapped or one day off 0.85 (the two kinds
  of date noise in registries), same year 0.3, anything else 0;
* municipality 0.10 when equal: a weak hint, people move;
* a different recorded sex costs 0.20: it is rarely wrong, and it separates
  ``Liridon``/``Liridona``-like pairs.

A record with exact names and a noisy birth date scores about 0.95; the same names with
only the birth year right about 0.75.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from hub.identity.records import BoolArray, FloatArray, IdentityFrame, IntArray, ObjectArray

FIRST_WEIGHT = 0.30
LAST_WEIGHT = 0.25
BIRTH_WEIGHT = 0.35
MUNICIPALITY_WEIGHT = 0.10
SEX_MISMATCH_PENALTY = 0.20

NAME_FLOOR = 0.70
"""Jaro-Winkler similarity that counts as no similarity at all."""
BIRTH_NEAR = 0.85
"""Birth date with day and month swapped, or one day off."""
BIRTH_SAME_YEAR = 0.30


@dataclass(frozen=True)
class PairScores:
    """Score and components of each pair ``(left[k], right[k])``."""

    left: IntArray
    right: IntArray
    score: FloatArray
    first: FloatArray
    last: FloatArray
    birth: FloatArray
    municipality: FloatArray
    sex_mismatch: BoolArray
    transposed: BoolArray

    def components(self, k: int) -> dict[str, float | bool]:
        """The components of pair ``k``, for a review pair's explanation."""
        return {
            "first": round(float(self.first[k]), 3),
            "last": round(float(self.last[k]), 3),
            "birth": round(float(self.birth[k]), 3),
            "municipality": round(float(self.municipality[k]), 3),
            "sex_mismatch": bool(self.sex_mismatch[k]),
            "transposed": bool(self.transposed[k]),
        }


def score_pairs(
    candidates: IdentityFrame, persons: IdentityFrame, left: IntArray, right: IntArray
) -> PairScores:
    """Score every pair ``(candidates[left[k]], persons[right[k]])``."""
    a, b = candidates.take(left), persons.take(right)
    first, last = _similarity(a.first, b.first), _similarity(a.last, b.last)
    first_t, last_t = _similarity(a.first, b.last), _similarity(a.last, b.first)
    straight = FIRST_WEIGHT * first + LAST_WEIGHT * last
    crossed = FIRST_WEIGHT * first_t + LAST_WEIGHT * last_t
    transposed = crossed > straight
    birth = _birth(a, b)
    municipality = ((a.municipality > 0) & (a.municipality == b.municipality)).astype(np.float64)
    sex_mismatch = (a.sex > 0) & (b.sex > 0) & (a.sex != b.sex)
    total = (
        np.maximum(straight, crossed)
        + BIRTH_WEIGHT * birth
        + MUNICIPALITY_WEIGHT * municipality
        - SEX_MISMATCH_PENALTY * sex_mismatch
    )
    return PairScores(
        left=left,
        right=right,
        score=np.clip(total, 0.0, 1.0),
        first=np.where(transposed, first_t, first),
        last=np.where(transposed, last_t, last),
        birth=birth,
        municipality=municipality,
        sex_mismatch=sex_mismatch,
        transposed=transposed,
    )


def _similarity(a: ObjectArray, b: ObjectArray) -> FloatArray:
    """Rescaled Jaro-Winkler of name keys; 0 where either name is unknown."""
    if len(a) == 0:
        return np.zeros(0)
    jw = cpdist(a, b, scorer=JaroWinkler.normalized_similarity, workers=-1, dtype=np.float64)
    known = (a != "") & (b != "")
    return np.where(known, np.clip((jw - NAME_FLOOR) / (1 - NAME_FLOOR), 0.0, 1.0), 0.0)


def _birth(a: IdentityFrame, b: IdentityFrame) -> FloatArray:
    known = (a.birth > 0) & (b.birth > 0)
    exact = known & (a.birth == b.birth)
    near = known & ((np.abs(a.birth - b.birth) == 1) | ((a.swapped > 0) & (a.swapped == b.birth)))
    same_year = known & (a.year == b.year)
    return np.select([exact, near, same_year], [1.0, BIRTH_NEAR, BIRTH_SAME_YEAR], 0.0)
