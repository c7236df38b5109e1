"""The two thresholds, chosen from the model's probabilities rather than by hand.

Every record gets from the model the probability that its best person is the right one
(``best``) and that it is any known person at all (``anyone``). Then

* **link** from the lowest probability at which the links, taken together, are still
  expected to be right :data:`LINK_PRECISION` of the time — and never below
  :data:`LEAST_LINK`: a link is more likely right than wrong;
* **none** below the highest probability at which the records left unlinked and unreviewed
  are expected to hold at most ``1 - REVIEW_RECALL`` of the known persons in the list —
  never below :data:`REVIEW_FLOOR` nor above :data:`MOST_REVIEW`;
* **review** in between: the records the model cannot decide at those rates.

Both are printed with the expected precision of the records they admit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hub.identity.records import FloatArray

LINK_PRECISION = 0.995
"""Expected share of automatic links that are right, by the model.

The model counts every stranger as a random draw from the population, so it expects a
stranger to share a name and a nearly equal birth date more often than the lists the
bench builds (where none does): measured precision runs above this (0.9997 or more)."""
REVIEW_RECALL = 0.9999
"""Expected share of known persons in a list that are linked or reviewed."""
LEAST_LINK = 0.5
"""A link is more likely right than wrong, whatever the others (so never one of a tie)."""
REVIEW_FLOOR = 0.01
"""Below this probability a record is nobody known, whatever the others."""
MOST_REVIEW = 0.5
"""A record more likely a known person than not is reviewed at least, whatever the others."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The probabilities from which a record is linked or reviewed, and what they admit."""

    link: float
    review: float
    link_precision: float
    """Mean probability of the records linked (the expected precision of the links)."""
    review_precision: float
    """Mean probability of the best person of the records sent to review."""
    missed: float
    """Expected number of known persons among the records decided ``none``."""

    def as_dict(self) -> dict[str, float]:
        """The thresholds rounded for storing with a decision."""
        return {
            "link": round(self.link, 4),
            "review": round(self.review, 4),
            "link_precision": round(self.link_precision, 5),
            "review_precision": round(self.review_precision, 4),
        }


DEFAULT = Thresholds(0.99, REVIEW_FLOOR, 1.0, 0.0, 0.0)
"""For an empty batch."""


def choose(
    best: FloatArray,
    anyone: FloatArray,
    *,
    link_precision: float = LINK_PRECISION,
    review_recall: float = REVIEW_RECALL,
) -> Thresholds:
    """The thresholds for records whose best and any-person probabilities are given."""
    if len(best) == 0:
        return DEFAULT
    link = _link_threshold(best, link_precision)
    review = _review_threshold(anyone, review_recall)
    linked = best >= link
    reviewed = ~linked & (anyone >= review)
    return Thresholds(
        link=link,
        review=review,
        link_precision=float(best[linked].mean()) if linked.any() else 1.0,
        review_precision=float(best[reviewed].mean()) if reviewed.any() else 0.0,
        missed=float(anyone[~linked & ~reviewed].sum()),
    )


def _link_threshold(best: FloatArray, target: float) -> float:
    """The lowest probability whose links (all rows at or above it) keep the expected
    precision."""
    ordered = np.sort(best[best >= LEAST_LINK])[::-1]
    if len(ordered) == 0:
        return LEAST_LINK
    precision = np.cumsum(ordered) / np.arange(1, len(ordered) + 1)
    last_of_value = np.r_[ordered[1:] != ordered[:-1], True]  # a threshold takes all ties
    admissible = np.flatnonzero((precision >= target) & last_of_value)
    if len(admissible) == 0:
        return float(min(ordered[0] + 1e-9, 1.0))
    if admissible[-1] == len(ordered) - 1:
        return LEAST_LINK
    return float(ordered[admissible[-1]])


def _review_threshold(anyone: FloatArray, recall: float) -> float:
    """The highest probability below which at most the allowed share of persons is lost."""
    ordered = np.sort(anyone)
    allowed = (1 - recall) * ordered.sum()
    lost = np.cumsum(ordered)
    cut = int(np.searchsorted(lost, allowed, side="right"))
    if cut >= len(ordered):
        return min(max(float(ordered[-1]), REVIEW_FLOOR), MOST_REVIEW)
    return float(min(max(ordered[cut], REVIEW_FLOOR), MOST_REVIEW))
