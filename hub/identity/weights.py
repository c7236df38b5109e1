"""The Fellegi-Sunter match model: what each field's agreement is worth, learned from data.

For every field and level (see :mod:`hub.identity.comparison`) the model holds

* ``u`` — how often two *different* persons agree at that level, measured on random pairs
  of the canonical store;
* ``m`` — how often a record and its *true* person agree at that level, learned by
  expectation-maximisation over the blocked pairs of the records being matched
  (:mod:`hub.identity.estimation` says how, and why in two sessions);
* the prior — the share of records that are some known person — learned with them.

A pair's match weight is ``Σ log2(m / u)`` over its fields; a missing value adds nothing.
The two names are one field of 36 levels (a record in another script differs in both at
once), reported as each name's own weight plus what agreeing ``together`` adds. A name's
``u`` is the frequency of the person's name where that is larger than the average
(term-frequency adjustment): agreeing on a rare surname counts more than on ``Krasniqi``,
and a typo of ``Shala`` counts little, ``Syla`` being a typo away too. Names read crossed
(first against last) cost ``log2(m_transposed)``: the crossed reading is compared with the
straight reading's ``u``, which overstates it, never understates it. Sex counts only where
the first names differ: the same first name has the same sex, for strangers too.

Stores smaller than :data:`MIN_POPULATION` are treated as that large: the chance that a
stranger shares a name and birth date does not shrink with the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from hub.identity.comparison import MISSING, NAME_LEVELS, Comparison
from hub.identity.estimation import (
    DEFAULT_M,
    DEFAULT_U,
    LEVELS,
    MODEL_FIELDS,
    NAMES,
    TRANSPOSED,
    estimate_u,
    fit_m,
    joint_names,
)
from hub.identity.records import FloatArray, IdentityFrame, IntArray

MIN_POPULATION = 100_000
"""The smallest population a list is assumed to be drawn from."""
TF_PRIOR_PERSONS = 1_000.0
"""Weight, in persons, of the typical name frequency against a small store's own."""

_EXACT = NAME_LEVELS.index("exact")
_FOLDED = NAME_LEVELS.index("folded")
_ONE_EDIT = NAME_LEVELS.index("one_edit")
_TWO_EDITS = NAME_LEVELS.index("two_edits")
_THREE_EDITS = NAME_LEVELS.index("three_edits")


@dataclass(frozen=True)
class Frequencies:
    """How common each name spelling and name key is among the persons (first and last
    names together), by :func:`~hub.identity.records.intern` code."""

    spelling: FloatArray
    key: FloatArray

    @classmethod
    def of(cls, persons: IdentityFrame) -> Frequencies:
        """Name frequencies smoothed towards the typical one for small stores."""
        typical = DEFAULT_U["last"][_EXACT]
        total = len(persons) + TF_PRIOR_PERSONS

        def smoothed(*columns: IntArray) -> FloatArray:
            codes = np.concatenate(columns)
            counts = np.bincount(codes[codes >= 0], minlength=int(codes.max(initial=0)) + 1)
            return np.asarray((counts + TF_PRIOR_PERSONS * typical) / total, dtype=np.float64)

        codes = persons.codes
        return cls(
            spelling=smoothed(codes.first_spelling, codes.last_spelling),
            key=smoothed(codes.first, codes.last),
        )

    def of_spellings(self, codes: IntArray) -> FloatArray:
        """The frequency of persons' name spellings (codes the persons had)."""
        return np.asarray(self.spelling[codes], dtype=np.float64)

    def of_keys(self, codes: IntArray) -> FloatArray:
        """The frequency of persons' name keys (codes the persons had)."""
        return np.asarray(self.key[codes], dtype=np.float64)


@dataclass
class MatchModel:
    """``m`` and ``u`` per field and level, name frequencies, and the prior of a match."""

    u: dict[str, FloatArray]
    m: dict[str, FloatArray]
    frequencies: Frequencies
    population: int
    prior: float = 0.5
    """The share of records that are some known person."""

    @classmethod
    def from_store(cls, persons: IdentityFrame, seed: int = 0) -> MatchModel:
        """``u`` and name frequencies of the persons; ``m`` at its prior until fitted."""
        return cls(
            u=estimate_u(persons, np.random.default_rng(seed)),
            m={f: np.asarray(DEFAULT_M[f]) for f in MODEL_FIELDS},
            frequencies=Frequencies.of(persons),
            population=max(len(persons), MIN_POPULATION),
        )

    def fitted(self, comparison: Comparison) -> MatchModel:
        """A copy whose ``m`` is learned from the compared pairs."""
        return MatchModel(
            u=self.u,
            m=fit_m(comparison, self.u, self.m),
            frequencies=self.frequencies,
            population=self.population,
            prior=self.prior,
        )

    def level_weights(self, name: str) -> FloatArray:
        """``log2(m / u)`` of each level of a field; names on their own (before their
        frequencies) with ``m`` summed over the other name's levels."""
        m = self.m[name] if name in self.m else self.name_marginal(name)
        return np.asarray(np.log2(m / self.u[name]), dtype=np.float64)

    def name_marginal(self, name: str) -> FloatArray:
        """``m`` of the first or the last name alone."""
        joint = self.m[NAMES].reshape(len(NAME_LEVELS), len(NAME_LEVELS))
        return np.asarray(joint.sum(axis=1 if name == "first" else 0), dtype=np.float64)

    @property
    def log2_prior_odds(self) -> float:
        """``log2`` of the odds that a record is one given person rather than nobody."""
        return float(np.log2(self.prior / ((1 - self.prior) * self.population)))


@dataclass(frozen=True)
class PairWeights:
    """Each pair's total match weight and every field's contribution, in bits."""

    total: FloatArray
    fields: dict[str, FloatArray]


def pair_weights(model: MatchModel, comparison: Comparison, persons: IdentityFrame) -> PairWeights:
    """Match weights of compared pairs, exact and folded names by their own frequency.

    ``fields`` holds each name's weight on its own and ``together``: what agreeing (or
    not) in both names at once adds to the two.
    """
    contributions: dict[str, FloatArray] = {}
    first, last = comparison.levels["first"], comparison.levels["last"]
    for name in ("birth", "municipality", "sex"):
        levels = comparison.levels[name]
        if name == "sex":  # the same first name has the same sex: no news then
            levels = np.where(first >= _FOLDED, MISSING, levels)
        table = model.level_weights(name)
        contributions[name] = np.where(levels == MISSING, 0.0, table[np.maximum(levels, 0)])
    u_first, u_last = _name_u(model, comparison, persons)
    alone = {}
    for name, levels, u in (("first", first, u_first), ("last", last, u_last)):
        m = model.name_marginal(name)[np.maximum(levels, 0)]
        alone[name] = np.where(levels == MISSING, 0.0, np.log2(m / u))
        contributions[name] = alone[name]
    joint = joint_names(first, last)
    both = np.log2(model.m[NAMES][np.maximum(joint, 0)] / (u_first * u_last))
    contributions["together"] = np.where(
        joint == MISSING, 0.0, both - alone["first"] - alone["last"]
    )
    crossed = comparison.transposed.astype(np.int64)
    contributions[TRANSPOSED] = model.level_weights(TRANSPOSED)[crossed]
    total = np.zeros(len(first), dtype=np.float64)
    for contribution in contributions.values():  # in place: no stacked copy of them all
        total += contribution
    return PairWeights(total=total, fields=contributions)


def _name_u(
    model: MatchModel, comparison: Comparison, persons: IdentityFrame
) -> tuple[FloatArray, FloatArray]:
    """Each pair's ``u`` of its first and last name level, by the frequency of the
    person's name: an exact or folded name is that name; a name a few edits off is
    at least as common as the person's (that name is one of its neighbours), so a typo
    in ``Shala`` is weak evidence — ``Syla`` is one edit away too."""
    right, crossed = comparison.right, comparison.transposed
    codes = persons.codes
    columns = {
        "first": (codes.first_spelling, codes.first),
        "last": (codes.last_spelling, codes.last),
    }
    result = []
    for name, other in (("first", "last"), ("last", "first")):
        levels = comparison.levels[name]
        u = model.u[name][np.maximum(levels, 0)].copy()
        exact = levels == _EXACT
        if exact.any():
            spelt = np.where(crossed, columns[other][0][right], columns[name][0][right])
            u[exact] = model.frequencies.of_spellings(spelt[exact])
        near = (levels >= _THREE_EDITS) & (levels <= _FOLDED)
        if near.any():
            keyed = np.where(crossed, columns[other][1][right], columns[name][1][right])
            u[near] = np.maximum(model.frequencies.of_keys(keyed[near]), u[near])
        result.append(u)
    return result[0], result[1]


def describe(model: MatchModel) -> Mapping[str, dict[str, float]]:
    """Each field's level weights in bits (exact names before their frequency), for printing."""
    described = {
        name: {
            level: round(float(w), 2)
            for level, w in zip(LEVELS[name], model.level_weights(name), strict=True)
        }
        for name in ("first", "last", "birth", "municipality", "sex", TRANSPOSED)
    }
    return described
