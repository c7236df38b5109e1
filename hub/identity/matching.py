"""Matching records against the canonical persons: block, compare, weigh, decide.

1. :mod:`~hub.identity.blocking` proposes the pairs worth comparing;
2. :mod:`~hub.identity.comparison` says at which level each field of a pair agrees;
3. :mod:`~hub.identity.weights` learns ``m`` from these pairs (``u`` comes from the store)
   and turns the levels into match weights;
4. each record's pairs become probabilities: that the record is this person, that
   person, or nobody known — so two persons a record fits equally well (one human entered
   twice) share the probability and neither is linked;
5. :mod:`~hub.identity.thresholds` chooses from these probabilities where a link starts
   and where review stops.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hub.identity import thresholds as threshold_rules
from hub.identity.blocking import BlockingIndex
from hub.identity.comparison import FIELD_LEVELS, FIELDS, Comparison, compare
from hub.identity.records import (
    FloatArray,
    Identity,
    IdentityFrame,
    IntArray,
    KnownPerson,
    LevelArray,
)
from hub.identity.weights import MatchModel, PairWeights, pair_weights
from hub.settings import IdentitySettings

Decision = Literal["link", "review", "none"]

MAX_OPTIONS = 3
"""Best persons kept per record (for the review queue and for re-deciding without one)."""
LEAST_OPTION = 0.01
"""Persons less likely than this are not shown to an operator."""
CHUNK = 5_000
"""Records blocked and compared together; bounds memory on large lists."""
PRIOR_ROUNDS = 10
"""Rounds of: records' probabilities given the prior, the prior given the probabilities."""
PRIOR_ROWS = 10.0
"""Weight, in records, of an even prior on how many records are known persons."""


@dataclass(frozen=True, slots=True)
class Option:
    """A person a record may be: the probability and the reasons, field by field."""

    person: KnownPerson
    score: float
    components: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome for one record: the decision, the best person and the other options.

    ``score`` is the probability that the best person is the record's, ``runner_up`` the
    next person's, ``anyone`` that the record is some known person.
    """

    decision: Decision
    score: float
    runner_up: float
    options: tuple[Option, ...]
    anyone: float = 0.0

    @property
    def best(self) -> KnownPerson | None:
        """The most likely person, if any pair was compared."""
        return self.options[0].person if self.options else None

    def reviewable(self) -> tuple[Option, ...]:
        """The options an operator should see."""
        return tuple(o for o in self.options if o.score >= LEAST_OPTION)


class Matcher:
    """The canonical persons, normalised, indexed and measured once for any records."""

    def __init__(self, persons: Sequence[KnownPerson], settings: IdentitySettings) -> None:
        self.persons = list(persons)
        self.settings = settings
        self._frame = IdentityFrame.build(self.persons)
        self._index = BlockingIndex(self._frame)
        self._store_model = MatchModel.from_store(self._frame)
        self.model = self._store_model
        self.thresholds = threshold_rules.DEFAULT

    def match(
        self,
        candidates: Sequence[Identity],
        on_progress: Callable[[int, int], None] | None = None,
    ) -> list[Match]:
        """One :class:`Match` per candidate, in order; the model is fitted on them first."""
        frame = IdentityFrame.build(candidates)
        comparison = self._compare(frame, on_progress)
        self.model = self._store_model.fitted(comparison)
        weights = pair_weights(self.model, comparison, self._frame)
        for _ in range(PRIOR_ROUNDS):
            probability = _probabilities(comparison.left, weights.total, self.model, len(frame))
            anyone = _per_record(comparison.left, probability, len(frame))
            self.model.prior = _prior(anyone)
        probability = _probabilities(comparison.left, weights.total, self.model, len(frame))
        anyone = _per_record(comparison.left, probability, len(frame))
        best, second = _best_two(comparison.left, probability, len(frame))
        self.thresholds = threshold_rules.choose(
            best,
            anyone,
            link_precision=self.settings.link_precision,
            review_recall=self.settings.review_recall,
        )
        options = self._options(comparison, weights, probability, len(frame))
        return [
            Match(self.decide(float(b), float(a)), float(b), float(s), tuple(o), float(a))
            for b, s, a, o in zip(best, second, anyone, options, strict=True)
        ]

    def _compare(
        self, frame: IdentityFrame, on_progress: Callable[[int, int], None] | None
    ) -> Comparison:
        parts: list[Comparison] = []
        for start in range(0, len(frame), CHUNK):
            index = np.arange(start, min(start + CHUNK, len(frame)))
            chunk = frame.take(index)
            left, right = self._index.candidate_pairs(chunk)
            part = compare(chunk, self._frame, left, right)
            # levels are small integers: one byte each keeps millions of pairs affordable
            levels: dict[str, LevelArray] = {
                name: value.astype(np.int8) for name, value in part.levels.items()
            }
            parts.append(Comparison(part.left + start, part.right, levels, part.transposed))
            if on_progress is not None:
                on_progress(start + len(chunk), len(frame))
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return Comparison(empty, empty, {f: empty for f in FIELDS}, empty.astype(bool))
        return Comparison(
            left=np.concatenate([p.left for p in parts]),
            right=np.concatenate([p.right for p in parts]),
            levels={f: np.concatenate([p.levels[f] for p in parts]) for f in FIELDS},
            transposed=np.concatenate([p.transposed for p in parts]),
        )

    def _options(
        self, comparison: Comparison, weights: PairWeights, probability: FloatArray, size: int
    ) -> list[list[Option]]:
        """Each record's best persons (an operator's choice), with the reasons."""
        order = np.lexsort((-probability, comparison.left))
        rank = _rank_in_group(comparison.left[order])
        kept = order[(rank == 0) | ((rank < MAX_OPTIONS) & (probability[order] >= LEAST_OPTION))]
        reasons = _reasons(comparison, weights, kept, self.model.log2_prior_odds, probability)
        options: list[list[Option]] = [[] for _ in range(size)]
        for k, why in zip(kept.tolist(), reasons, strict=True):
            person = self.persons[int(comparison.right[k])]
            options[int(comparison.left[k])].append(Option(person, why["probability"], why))
        return options

    def without(self, match: Match, person_ids: Collection[int]) -> Match:
        """The match decided again without some persons (pairs an operator rejected).

        The other persons' probabilities grow by what the rejected ones held.
        """
        options = tuple(o for o in match.options if o.person.person_id not in person_ids)
        if len(options) == len(match.options):
            return match
        removed = sum(o.score for o in match.options if o.person.person_id in person_ids)
        scale = 1 / max(1 - removed, 1e-12)
        options = tuple(
            Option(o.person, o.score * scale, {**o.components, "probability": o.score * scale})
            for o in options
        )
        best = options[0].score if options else 0.0
        runner_up = options[1].score if len(options) > 1 else 0.0
        anyone = (match.anyone - removed) * scale
        return Match(self.decide(best, anyone), best, runner_up, options, anyone)

    def decide(self, best: float, anyone: float) -> Decision:
        """Link, review or none for the best person's probability and anyone's."""
        if best >= self.thresholds.link:
            return "link"
        if anyone >= self.thresholds.review:
            return "review"
        return "none"


def _probabilities(left: IntArray, weight: FloatArray, model: MatchModel, size: int) -> FloatArray:
    """For each pair, the probability that the record is that person.

    A record is one of its blocked persons or nobody known: ``P(person k) =
    odds_k / (1 + Σ odds)``, with ``odds_k`` the prior odds times ``2 ** weight_k``.
    """
    if len(left) == 0:
        return np.zeros(0)
    log_odds = weight + model.log2_prior_odds
    top = np.full(size, -np.inf)
    np.maximum.at(top, left, log_odds)
    shift = np.maximum(top, 0.0)[left]
    scaled = np.exp2(log_odds - shift)
    total = _per_record(left, scaled, size)[left]
    return np.asarray(scaled / (total + np.exp2(-shift)), dtype=np.float64)


def _per_record(left: IntArray, values: FloatArray, size: int) -> FloatArray:
    """The sum of the pairs' values per record."""
    return np.asarray(np.bincount(left, weights=values, minlength=size), dtype=np.float64)


def _prior(anyone: FloatArray) -> float:
    """The share of records expected to be known persons, towards one half for few."""
    expected = (float(anyone.sum()) + 0.5 * PRIOR_ROWS) / (len(anyone) + PRIOR_ROWS)
    return min(max(expected, 0.01), 0.99)


def _best_two(left: IntArray, probability: FloatArray, size: int) -> tuple[FloatArray, FloatArray]:
    order = np.lexsort((-probability, left))
    rank = _rank_in_group(left[order])
    best, second = np.zeros(size), np.zeros(size)
    first, runner = order[rank == 0], order[rank == 1]
    best[left[first]] = probability[first]
    second[left[runner]] = probability[runner]
    return best, second


def _rank_in_group(groups: IntArray) -> IntArray:
    """0, 1, 2, ... within each run of equal values of a sorted array."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    lengths = np.diff(np.r_[starts, len(groups)])
    return np.arange(len(groups)) - np.repeat(starts, lengths)


def _reasons(
    comparison: Comparison,
    weights: PairWeights,
    kept: IntArray,
    prior: float,
    probability: FloatArray,
) -> list[dict[str, Any]]:
    """For each kept pair: which field agreed at which level, and what it added, in bits."""
    names: dict[str, list[str]] = {}
    for name in FIELDS:
        labels = [*FIELD_LEVELS[name], "missing"]  # index -1 is missing
        names[name] = [labels[level] for level in comparison.levels[name][kept].tolist()]
    names["together"] = ["both names"] * len(kept)
    names["transposed"] = ["yes" if t else "no" for t in comparison.transposed[kept].tolist()]
    contributions = {name: np.round(weights.fields[name][kept], 2).tolist() for name in names}
    totals = np.round(weights.total[kept], 2).tolist()
    probabilities = probability[kept].tolist()
    return [
        {
            **{name: {"level": names[name][i], "weight": contributions[name][i]} for name in names},
            "weight": totals[i],
            "prior": round(prior, 2),
            "probability": probabilities[i],
        }
        for i in range(len(kept))
    ]


def reasons_text(components: Mapping[str, Any]) -> str:
    """``first exact +7.0; last one_edit +6.0; …; weight 27.4; p 0.9998`` — why a pair
    scored so, from the reasons stored with it (fields that added nothing, and names read
    the usual way round, are left out)."""
    parts = [
        f"{name} {value['level']} {value['weight']:+.1f}"
        for name, value in components.items()
        if isinstance(value, dict)
        and "level" in value
        and value["weight"] != 0
        and (name, value["level"]) != ("transposed", "no")
    ]
    if "weight" in components:
        parts.append(f"weight {components['weight']:.1f}")
    if "probability" in components:
        parts.append(f"p {components['probability']:.4f}")
    return "; ".join(parts)
