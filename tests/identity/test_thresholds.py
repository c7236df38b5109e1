"""The two thresholds come from the model's probabilities, not from a hand-set score."""

from __future__ import annotations

import numpy as np
import pytest

from hub.identity.thresholds import LEAST_LINK, LINK_PRECISION, REVIEW_FLOOR, choose


def test_a_clean_list_links_everything_at_least_twice_as_likely_right_as_wrong() -> None:
    best = np.array([0.9999] * 1000 + [0.8, 0.7, 0.6, 0.02])
    chosen = choose(best, best)
    assert chosen.link == LEAST_LINK
    assert chosen.link_precision >= LINK_PRECISION
    assert 0.02 < chosen.review <= 0.6  # the 0.6 row is reviewed, the 0.02 one is not


def test_a_doubtful_list_raises_the_link_threshold_to_keep_its_expected_precision() -> None:
    best = np.array([0.9999] * 100 + [0.9] * 50)
    chosen = choose(best, best)
    assert chosen.link > 0.9  # linking the 0.9 rows would expect precision 0.967
    assert chosen.link_precision == pytest.approx(0.9999)
    assert chosen.review_precision == pytest.approx(0.9)


def test_nobody_likely_is_neither_linked_nor_reviewed() -> None:
    best = np.array([0.001, 0.0001, 0.0])
    chosen = choose(best, best)
    assert chosen.review >= REVIEW_FLOOR
    assert chosen.missed == pytest.approx(0.0011)
    assert choose(np.zeros(0), np.zeros(0)).link > LEAST_LINK


def test_a_tie_is_reviewed_not_linked() -> None:
    chosen = choose(np.array([0.5, 0.9999]), np.array([1.0, 0.9999]))
    assert chosen.link > 0.5
    assert chosen.review <= 1.0
