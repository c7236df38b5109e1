"""Matching candidates against the canonical persons: block, score, keep the best, decide.

A candidate is linked only when its best person scores at least ``link_threshold`` *and*
leads the runner-up by :data:`AMBIGUITY_MARGIN`; a near tie (one human entered twice, two
similar siblings) goes to review instead, never to a silent link.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from hub.identity.blocking import BlockingIndex
from hub.identity.records import (
    BoolArray,
    FloatArray,
    Identity,
    IdentityFrame,
    IntArray,
    KnownPerson,
)
from hub.identity.scoring import PairScores, score_pairs
from hub.settings import IdentitySettings

Decision = Literal["link", "review", "none"]

AMBIGUITY_MARGIN = 0.05
"""How far the best person must lead the second best for a link."""
MAX_OPTIONS = 3
"""Best persons kept per candidate (for the review queue and for re-deciding without one)."""
CHUNK = 5_000
"""Candidates blocked and scored together; bounds memory on large lists."""


@dataclass(frozen=True, slots=True)
class Option:
    """A person a candidate may be, with the score's components."""

    person: KnownPerson
    score: float
    components: dict[str, float | bool]


@dataclass(frozen=True, slots=True)
class Match:
    """The outcome for one candidate: the decision, the best person and the other options."""

    decision: Decision
    score: float
    runner_up: float
    options: tuple[Option, ...]

    @property
    def best(self) -> KnownPerson | None:
        """The best-scoring person, if any pair was scored."""
        return self.options[0].person if self.options else None

    def reviewable(self, review_threshold: float) -> tuple[Option, ...]:
        """The options an operator should see: those scoring at least the review threshold."""
        return tuple(o for o in self.options if o.score >= review_threshold)


class Matcher:
    """The canonical persons, normalised and indexed once for any number of candidates."""

    def __init__(self, persons: Sequence[KnownPerson], settings: IdentitySettings) -> None:
        self.persons = list(persons)
        self.settings = settings
        self._frame = IdentityFrame.build(self.persons)
        self._index = BlockingIndex(self._frame)

    def match(
        self,
        candidates: Sequence[Identity],
        on_progress: Callable[[int, int], None] | None = None,
    ) -> list[Match]:
        """One :class:`Match` per candidate, in order."""
        matches: list[Match] = []
        for start in range(0, len(candidates), CHUNK):
            chunk = candidates[start : start + CHUNK]
            matches.extend(self._match_chunk(IdentityFrame.build(chunk)))
            if on_progress is not None:
                on_progress(start + len(chunk), len(candidates))
        return matches

    def _match_chunk(self, frame: IdentityFrame) -> list[Match]:
        left, right = self._index.candidate_pairs(frame)
        pairs = score_pairs(frame, self._frame, left, right)
        order = np.lexsort((-pairs.score, pairs.left))
        rank = _rank_in_group(pairs.left[order])
        best = _by_candidate(len(frame), pairs, order, rank == 0)
        second = _by_candidate(len(frame), pairs, order, rank == 1)
        kept = order[rank < MAX_OPTIONS]
        options: list[list[Option]] = [[] for _ in range(len(frame))]
        for k in kept.tolist():
            person = self.persons[int(pairs.right[k])]
            score = float(pairs.score[k])
            options[int(pairs.left[k])].append(Option(person, score, pairs.components(k)))
        return [
            Match(self.decide(float(b), float(s)), float(b), float(s), tuple(o))
            for b, s, o in zip(best, second, options, strict=True)
        ]

    def without(self, match: Match, person_ids: Collection[int]) -> Match:
        """The match decided again without some persons (pairs an operator rejected).

        Only the kept options are known; a person ranked below them counts as score 0.
        """
        options = tuple(o for o in match.options if o.person.person_id not in person_ids)
        if len(options) == len(match.options):
            return match
        best = options[0].score if options else 0.0
        runner_up = options[1].score if len(options) > 1 else 0.0
        return Match(self.decide(best, runner_up), best, runner_up, options)

    def decide(self, best: float, runner_up: float) -> Decision:
        """Link, review or none for a best score and the runner-up's score."""
        if best >= self.settings.link_threshold and best - runner_up >= AMBIGUITY_MARGIN:
            return "link"
        if best >= self.settings.review_threshold:
            return "review"
        return "none"


def _rank_in_group(groups: IntArray) -> IntArray:
    """0, 1, 2, ... within each run of equal values of a sorted array."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    lengths = np.diff(np.r_[starts, len(groups)])
    return np.arange(len(groups)) - np.repeat(starts, lengths)


def _by_candidate(size: int, pairs: PairScores, order: IntArray, mask: BoolArray) -> FloatArray:
    scores = np.zeros(size)
    chosen = order[mask]
    scores[pairs.left[chosen]] = pairs.score[chosen]
    return scores
