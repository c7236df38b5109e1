"""Estimating the match model: ``u`` from the store, ``m`` from the records being matched.

``u`` — how often two different persons agree at each level — is measured on random
pairs of distinct persons (exact agreements counted exactly from value frequencies), and
blended with a typical value for stores too small to measure it.

``m`` — how often a record and its true person agree at each level — is learned by
expectation-maximisation with ``u`` fixed and a Dirichlet prior of typical registry
noise. Blocked pairs are not random pairs: a pair found through its birth date agrees on
it by construction, and ``u`` of random pairs cannot explain that. So EM runs in two
sessions, each over pairs selected on fields it then leaves out:

* pairs with the **same birth date** (all of them: blocking keeps every person born that
  day) teach the names;
* pairs whose **names agree** after folding (all of them: blocking keeps every person of
  that name) teach the birth date, municipality and how often names come crossed.

Sex is not learned: it follows the first name (two persons called Arbër are both men), so
it says something only where the first names differ, and there its typical ``m`` serves.

A record without any such pair simply does not teach; a short list keeps the prior. The
two names are learned as one field of 36 levels: a record written in another script or
spelling differs from its person in both names at once, which two separate fields would
count twice against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hub.identity.comparison import (
    BIRTH_LEVELS,
    FIELD_LEVELS,
    FIELDS,
    MISSING,
    NAME_LEVELS,
    Comparison,
    birth_levels,
    equality_levels,
    name_levels,
)
from hub.identity.records import FloatArray, IdentityFrame, IntArray, LevelArray

TRANSPOSED = "transposed"
NAMES = "names"
"""Both names at once: a script or spelling that changes one name changes the other."""
MODEL_FIELDS = (NAMES, "birth", "municipality", "sex", TRANSPOSED)
LEVELS: dict[str, tuple[str, ...]] = {
    **FIELD_LEVELS,
    NAMES: tuple(f"{a}/{b}" for a in NAME_LEVELS for b in NAME_LEVELS),
    TRANSPOSED: ("no", "yes"),
}

U_SAMPLE = 200_000
"""Random person pairs compared to measure ``u``."""
DATE_SAMPLE = 1_000_000
"""Random birth-date pairs (cheap to compare) for the rare date levels."""
U_PRIOR_PAIRS = 5_000.0
"""Weight, in pairs, of the typical ``u`` against a small store's own."""
M_PRIOR_MATCHES = 30.0
"""Weight, in matches, of the typical ``m`` against what EM finds in the records."""
ROUNDS = 10
ITERATIONS = 5

DEFAULT_M: dict[str, tuple[float, ...]] = {
    "first": (0.0003, 0.005, 0.02, 0.06, 0.08, 0.8347),
    "last": (0.0003, 0.005, 0.02, 0.06, 0.08, 0.8347),
    "birth": (0.00001, 0.00001, 0.0003, 0.0003, 0.012, 0.02, 0.03, 0.93738),
    "municipality": (0.1, 0.9),
    "sex": (0.01, 0.99),
    TRANSPOSED: (0.97, 0.03),
}
DEFAULT_M[NAMES] = tuple(np.outer(DEFAULT_M["first"], DEFAULT_M["last"]).ravel().tolist())
"""Typical registry noise: the prior of ``m`` per field and level."""
_OTHER_NAME = NAME_LEVELS.index("other")
NEVER_MILDER: dict[str, tuple[int, ...]] = {
    "birth": tuple(
        BIRTH_LEVELS.index(level) for level in ("other", "same_year", "day_month", "day_typo")
    ),
    NAMES: tuple(
        first * len(NAME_LEVELS) + last
        for first in range(len(NAME_LEVELS))
        for last in range(len(NAME_LEVELS))
        if _OTHER_NAME in (first, last)
    ),
}
"""Levels whose ``m`` EM may lower but never raise above the prior, as a careful officer
would: a birth date in another month (or another day, or a year that is not a typo of
it), or another first name or surname altogether, is not the same person's without an
operator's word, however many such look-alikes a list holds. EM cannot tell a list's
namesakes born the same year from records with a wrong date, nor a stranger sharing a
first name and birth date from a record whose surname is wrong."""
DEFAULT_U: dict[str, tuple[float, ...]] = {
    "first": (0.90, 0.05, 0.025, 0.008, 0.002, 0.015),
    "last": (0.90, 0.05, 0.025, 0.008, 0.002, 0.015),
    "birth": (0.98468, 0.0115, 0.0025, 0.0009, 0.00015, 0.00004, 0.00008, 0.00004),
    "municipality": (0.95, 0.05),
    "sex": (0.5, 0.5),
    TRANSPOSED: (1.0, 1.0),
}
DEFAULT_U[NAMES] = tuple(np.outer(DEFAULT_U["first"], DEFAULT_U["last"]).ravel().tolist())
"""Typical agreement of different persons, for stores too small to measure it.

A crossed reading is compared with the straight reading's ``u`` (``1`` here): that
overstates how often strangers agree, never understates it.
"""

_EXACT_NAME = NAME_LEVELS.index("exact")
_FOLDED = NAME_LEVELS.index("folded")
_EXACT_BIRTH = BIRTH_LEVELS.index("exact")


def estimate_u(persons: IdentityFrame, rng: np.random.Generator) -> dict[str, FloatArray]:
    """``u`` of every field and level from random pairs of distinct persons."""
    size = len(persons)
    if size < 2:
        return {f: np.asarray(DEFAULT_U[f]) for f in (*FIELDS, *MODEL_FIELDS)}
    i, j = _random_pairs(rng, size, U_SAMPLE)
    a, b = persons.codes.take(i), persons.codes.take(j)
    sampled = {
        "first": name_levels(a.first, b.first, a.first_spelling, b.first_spelling),
        "last": name_levels(a.last, b.last, a.last_spelling, b.last_spelling),
        "municipality": equality_levels(persons.municipality[i], persons.municipality[j]),
        "sex": equality_levels(persons.sex[i], persons.sex[j]),
    }
    i, j = _random_pairs(rng, size, DATE_SAMPLE)
    sampled["birth"] = birth_levels(persons.dates(i), persons.dates(j))
    u = {name: _measured(name, sampled[name], persons, size) for name in FIELDS}
    u[NAMES] = np.outer(u["first"], u["last"]).ravel()
    u[TRANSPOSED] = np.asarray(DEFAULT_U[TRANSPOSED])
    return u


def _measured(name: str, levels: IntArray, persons: IdentityFrame, size: int) -> FloatArray:
    known = levels[levels != MISSING]
    count = len(FIELD_LEVELS[name])
    share = (np.bincount(known, minlength=count) + 0.5) / (len(known) + 0.5 * count)
    if name in ("first", "last"):
        codes = persons.codes
        spelling = codes.first_spelling if name == "first" else codes.last_spelling
        spelt, keyed = _same(spelling), _same(codes.first if name == "first" else codes.last)
        rest = share[:_FOLDED].sum()
        share[_EXACT_NAME], share[_FOLDED] = max(spelt, 1e-7), max(keyed - spelt, 1e-7)
        share[:_FOLDED] *= (1 - share[_EXACT_NAME] - share[_FOLDED]) / rest
    if name == "birth":
        share[_EXACT_BIRTH] = max(_same(np.where(persons.birth > 0, persons.birth, -1)), 1e-7)
    weight = min(size * (size - 1) / 2, float(len(known)))
    typical = np.asarray(DEFAULT_U[name])
    blended = (weight * share + U_PRIOR_PAIRS * typical) / (weight + U_PRIOR_PAIRS)
    return np.asarray(blended / blended.sum(), dtype=np.float64)


def _random_pairs(rng: np.random.Generator, size: int, count: int) -> tuple[IntArray, IntArray]:
    i = rng.integers(0, size, count)
    return i, (i + rng.integers(1, size, count)) % size


def _same(values: IntArray) -> float:
    """The share of pairs of distinct persons with the same known (coded) value."""
    _, counts = np.unique(values[values >= 0], return_counts=True)
    size = len(values)
    return float((counts * (counts - 1)).sum() / max(size * (size - 1), 1))


@dataclass(frozen=True)
class _Session:
    """Distinct comparison patterns of a selection of pairs, with how often each occurs."""

    levels: dict[str, IntArray]
    counts: FloatArray
    learns: tuple[str, ...]

    @classmethod
    def of(
        cls,
        columns: dict[str, IntArray],
        selected: IntArray,
        uses: tuple[str, ...],
        learns: tuple[str, ...],
    ) -> _Session:
        sizes = [len(LEVELS[f]) + 1 for f in uses]
        code = np.zeros(len(selected), dtype=np.int64)
        for name, size in zip(uses, sizes, strict=True):
            code = code * size + columns[name][selected] + 1
        patterns, counts = np.unique(code, return_counts=True)
        levels: dict[str, IntArray] = {}
        for name, size in reversed(list(zip(uses, sizes, strict=True))):
            levels[name] = patterns % size - 1
            patterns = patterns // size
        return cls(levels, counts.astype(np.float64), learns)


def fit_m(
    comparison: Comparison, u: dict[str, FloatArray], m: dict[str, FloatArray]
) -> dict[str, FloatArray]:
    """``m`` of every field learned from the compared pairs (see the module docstring)."""
    columns = {
        **comparison.levels,
        NAMES: joint_names(comparison.levels["first"], comparison.levels["last"]),
        TRANSPOSED: comparison.transposed.astype(np.int64),
    }
    by_date = np.flatnonzero(columns["birth"] == _EXACT_BIRTH)
    by_name = np.flatnonzero((columns["first"] >= _FOLDED) & (columns["last"] >= _FOLDED))
    sessions = (
        _Session.of(columns, by_date, (NAMES, "municipality"), (NAMES,)),
        _Session.of(
            columns,
            by_name,
            ("birth", "municipality", TRANSPOSED),
            ("birth", "municipality", TRANSPOSED),
        ),
    )
    fitted = {name: values.copy() for name, values in m.items()}
    shares = [0.1 for _ in sessions]
    for _ in range(ROUNDS):
        for index, session in enumerate(sessions):
            shares[index] = _em(session, fitted, u, shares[index])
    for name, levels in NEVER_MILDER.items():
        capped = fitted[name].copy()
        for level in levels:
            capped[level] = min(capped[level], DEFAULT_M[name][level])
        fitted[name] = capped / capped.sum()
    return fitted


def joint_names(first: LevelArray, last: LevelArray) -> LevelArray:
    """The level of both names as one: ``first * 6 + last``; missing if either is."""
    known = (first != MISSING) & (last != MISSING)
    return np.where(known, first * len(NAME_LEVELS) + last, MISSING)


def _em(
    session: _Session, m: dict[str, FloatArray], u: dict[str, FloatArray], share: float
) -> float:
    """A few EM iterations over one session; updates ``m`` of what it learns in place."""
    if len(session.counts) == 0:
        return share
    for _ in range(ITERATIONS):
        log_ratio = np.zeros(len(session.counts))
        for name, levels in session.levels.items():
            known = levels != MISSING
            index = np.maximum(levels, 0)
            log_ratio += np.where(known, np.log(m[name][index] / u[name][index]), 0.0)
        logit = np.log(share) - np.log1p(-share) + log_ratio
        match = session.counts / (1 + np.exp(-np.clip(logit, -700, 700)))
        share = float(np.clip(match.sum() / session.counts.sum(), 1e-6, 1 - 1e-6))
        for name in session.learns:
            m[name] = _m_step(session.levels[name], match, DEFAULT_M[name])
    return share


def _m_step(levels: IntArray, match: FloatArray, prior: tuple[float, ...]) -> FloatArray:
    known = levels != MISSING
    counts = np.bincount(levels[known], weights=match[known], minlength=len(prior))
    estimate = counts + M_PRIOR_MATCHES * np.asarray(prior)
    return np.asarray(estimate / estimate.sum(), dtype=np.float64)
