"""Scoring and deciding: every kind of registry noise links, look-alikes do not."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from fixtures.noise import (
    BIRTH_DATE_OFF_BY_ONE,
    DAY_MONTH_SWAP,
    NO_DIACRITICS,
    SERBIAN_LATIN,
    TRANSPOSED,
    Identity,
    apply_variant,
)
from hub.identity.blocking import BlockingIndex
from hub.identity.matching import Matcher
from hub.identity.records import Candidate, IdentityFrame, KnownPerson
from hub.identity.scoring import score_pairs
from hub.settings import IdentitySettings

PERSONS = [
    KnownPerson(1, "1000000001", "Arbër", "Krasniqi", date(1990, 3, 7), "M", "01"),
    KnownPerson(2, "1000000002", "Valon", "Krasniqi", date(1990, 3, 7), "M", "01"),
    KnownPerson(3, "1000000003", "Arbër", "Krasniqi", date(1975, 11, 20), "M", "06"),
    KnownPerson(4, "1000000004", "Јелена", "Ђорђевић", date(1988, 4, 21), "F", "13"),
    KnownPerson(5, "1000000005", "Granit", "Thaçi", date(2001, 1, 5), "M", "04"),
    KnownPerson(6, "1000000006", "Drita", "Hoxha", date(1995, 6, 15), "F", "12"),
    KnownPerson(7, "1000000007", "Drita", "Hoxha", date(1995, 6, 15), "F", "12"),
    KnownPerson(8, "1000000008", "Xhevahire", "Gashi", date(1962, 9, 30), "F", "09"),
]
LATIN = {4: ("Jelena", "Đorđević")}
"""How a Latin-script registry spells the Cyrillic-registered person."""


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(PERSONS, IdentitySettings())


def _noisy(person: KnownPerson, *variants: str, shift: int = 1) -> Candidate:
    """The person as a registry without a personal number recorded them."""
    first, last = LATIN.get(person.person_id, (person.first_name or "", person.last_name or ""))
    assert person.birth_date is not None
    noisy = Identity(first, last, person.birth_date.toordinal())
    for variant in variants:
        noisy = apply_variant(noisy, variant, shift)
    return Candidate(
        key="c",
        first_name=noisy.first_name,
        last_name=noisy.last_name,
        birth_date=date.fromordinal(noisy.birth),
        sex=person.sex,
        municipality_code=person.municipality_code,
    )


VARIANTS = [NO_DIACRITICS, SERBIAN_LATIN, TRANSPOSED, DAY_MONTH_SWAP, BIRTH_DATE_OFF_BY_ONE]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("person_id", [1, 4, 5, 8])
def test_each_kind_of_noise_still_links_the_right_person(
    matcher: Matcher, variant: str, person_id: int
) -> None:
    person = PERSONS[person_id - 1]
    [match] = matcher.match([_noisy(person, variant)])
    assert match.decision == "link", (variant, match.score, match.runner_up)
    assert match.best == person


@pytest.mark.parametrize(
    "variants",
    [
        (TRANSPOSED, BIRTH_DATE_OFF_BY_ONE),
        (NO_DIACRITICS, DAY_MONTH_SWAP),
        (SERBIAN_LATIN, TRANSPOSED),
    ],
)
def test_two_kinds_of_noise_at_once_still_link(matcher: Matcher, variants: tuple[str, str]) -> None:
    person = PERSONS[4]
    [match] = matcher.match([_noisy(person, *variants, shift=-1)])
    assert (match.decision, match.best) == ("link", person)


def test_a_twin_with_a_noisy_birth_date_links_the_right_twin(matcher: Matcher) -> None:
    [match] = matcher.match([_noisy(PERSONS[1], BIRTH_DATE_OFF_BY_ONE, shift=-1)])
    assert (match.decision, match.best) == ("link", PERSONS[1])


def test_one_human_under_two_personal_numbers_goes_to_review(matcher: Matcher) -> None:
    [match] = matcher.match([_noisy(PERSONS[5], NO_DIACRITICS)])
    assert match.decision == "review"
    assert match.score - match.runner_up < 0.05
    assert {o.person.person_id for o in match.reviewable(0.7)} == {6, 7}


def test_a_namesake_born_in_another_year_is_not_linked(matcher: Matcher) -> None:
    candidate = Candidate("c", "Arber", "Krasniqi", date(1983, 5, 5), "M", "02")
    [match] = matcher.match([candidate])
    assert match.decision == "none"


def test_an_absent_person_is_none(matcher: Matcher) -> None:
    [match] = matcher.match([Candidate("c", "Besnik", "Morina", date(1980, 2, 2), "M", "01")])
    assert (match.decision, match.options) == ("none", ())


def test_a_different_sex_costs_the_link(matcher: Matcher) -> None:
    candidate = Candidate("c", "Granit", "Thaci", date(2001, 1, 5), "F", "04")
    [match] = matcher.match([candidate])
    assert match.decision == "review"
    assert match.options[0].components["sex_mismatch"] is True


def test_components_explain_a_transposed_pair() -> None:
    persons = IdentityFrame.build(PERSONS)
    candidates = IdentityFrame.build([_noisy(PERSONS[0], TRANSPOSED)])
    left, right = BlockingIndex(persons).candidate_pairs(candidates)
    assert 0 in right.tolist()
    scores = score_pairs(candidates, persons, left, right)
    k = int(np.flatnonzero(right == 0)[0])
    assert scores.score[k] == pytest.approx(1.0)
    assert scores.components(k) == {
        "first": 1.0,
        "last": 1.0,
        "birth": 1.0,
        "municipality": 1.0,
        "sex_mismatch": False,
        "transposed": True,
    }


def test_blocking_finds_a_pair_through_each_pass() -> None:
    persons = IdentityFrame.build(PERSONS)
    index = BlockingIndex(persons)
    probes = {
        "first name typo": Candidate("a", "Arbenr", "Krasniqi", date(1990, 1, 1)),
        "last name typo": Candidate("b", "Granit", "Thaqui", date(2001, 12, 1)),
        "swapped and typo": Candidate("c", "Thaqui", "Granit", date(2001, 12, 1)),
        "both names typo": Candidate("d", "Xhevahir", "Gasi", date(1962, 9, 30)),
        "day/month swap, typos": Candidate("e", "Grant", "Tachi", date(2001, 5, 1)),
    }
    expected = {"a": {0, 1}, "b": {4}, "c": {4}, "d": {7}, "e": {4}}
    frame = IdentityFrame.build(list(probes.values()))
    left, right = index.candidate_pairs(frame)
    found: dict[str, set[int]] = {}
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        found.setdefault(list(probes.values())[i].key, set()).add(j)
    for key, persons_expected in expected.items():
        assert persons_expected <= found.get(key, set()), key


def test_empty_inputs_match_nothing() -> None:
    assert (
        Matcher([], IdentitySettings()).match([Candidate("c", "A", "B", None)])[0].decision
        == "none"
    )
    assert Matcher(PERSONS, IdentitySettings()).match([]) == []
