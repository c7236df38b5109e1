"""Matching as a careful officer would: every cause of a missed person in issue 17 links.

The store is the generated 3,000-person population; the records to match are a list of
300 rows (registered persons, some noisy, and made-up persons) plus one probe per cause,
matched together so that the model learns its weights from a list, as ``hub link`` does.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fixtures.transliteration import strip_diacritics
from hub.identity.blocking import BlockingIndex
from hub.identity.matching import Match, Matcher, reasons_text
from hub.identity.records import Candidate, IdentityFrame, KnownPerson
from hub.settings import IdentitySettings
from tests.identity.support import read_jsonl

Probe = tuple[Candidate, KnownPerson | None]


def _known(record: dict[str, Any], index: int) -> KnownPerson:
    return KnownPerson(
        index,
        record["personal_no"],
        record["first_name"],
        record["last_name"],
        date.fromisoformat(record["birth_date"]),
        record["sex"],
        record["municipality_code"],
    )


@pytest.fixture(scope="module")
def persons(generated: tuple[Path, dict[str, Any]]) -> list[KnownPerson]:
    records = read_jsonl(generated[0] / "cra" / "persons.jsonl")
    return [_known(r, i) for i, r in enumerate(records)]


@pytest.fixture(scope="module")
def twice(generated: tuple[Path, dict[str, Any]]) -> set[str]:
    """Personal numbers of the persons entered twice."""
    planted = generated[1]["planted"]["person_with_two_personal_numbers"]
    return {number for entry in planted for number in entry["personal_nos"]}


def _first(persons: list[KnownPerson], twice: set[str], **where: Any) -> KnownPerson:
    """The first person entered once whose fields pass the tests in ``where``."""
    for p in persons:
        if p.personal_no not in twice and all(test(getattr(p, k)) for k, test in where.items()):
            return p
    raise LookupError(where)


def _row(person: KnownPerson, key: str, **changes: Any) -> Candidate:
    """The person as a list writes them (Latin, no sex), with some fields changed."""
    row = Candidate(
        key=key,
        first_name=person.first_name,
        last_name=person.last_name,
        birth_date=person.birth_date,
        municipality_code=person.municipality_code,
    )
    return replace(row, **changes)


def _typo(name: str | None, at: int = 2) -> str:
    """One letter replaced by a neighbouring key's."""
    assert name is not None
    return name[:at] + ("q" if name[at].lower() != "q" else "w") + name[at + 1 :]


def _born(person: KnownPerson) -> date:
    assert person.birth_date is not None
    return person.birth_date


def _background(persons: list[KnownPerson], twice: set[str]) -> list[Probe]:
    """A list of 300 rows: 240 registered persons, some noisy, and 60 made up."""
    rng = random.Random(17)
    once = [p for p in persons if p.personal_no not in twice]
    rows: list[Probe] = []
    for n, p in enumerate(rng.sample(once, 240)):
        row = _row(p, f"b{n}")
        if n % 3 == 0:
            row = replace(row, first_name=strip_diacritics(row.first_name or ""))
        if n % 5 == 0:
            row = replace(row, municipality_code=None)
        if n % 11 == 0:
            row = replace(row, birth_date=_born(p) + timedelta(days=1))
        if n % 13 == 0:
            row = replace(row, last_name=_typo(row.last_name, 3))
        rows.append((row, p))
    for n in range(60):
        a, b, c = rng.sample(once, 3)
        made_up = Candidate(
            f"m{n}", a.first_name, b.last_name, _born(c) + timedelta(days=200), None, "01"
        )
        rows.append((made_up, None))
    return rows


def _probes(persons: list[KnownPerson], twice: set[str]) -> dict[str, Probe]:
    """One row per cause of issue 17's table, and the person it names (None: nobody)."""
    nora = _first(persons, twice, first_name=lambda n: n == "Nora")
    gj_q = _first(persons, twice, first_name=lambda n: "Gj" in n, last_name=lambda n: "q" in n)
    dj = _first(persons, twice, first_name=lambda n: "đ" in n.lower())
    new_year = _first(persons, twice, birth_date=lambda b: (b.month, b.day) == (1, 1))
    swappable = _first(persons, twice, birth_date=lambda b: b.day < 12 and b.day != b.month)
    plain = [p for p in persons if p.personal_no not in twice and p.first_name == "Arbër"]
    a, b, c, d, e, f = plain[:6]
    first_of_twice = next(p for p in persons if p.personal_no in twice)
    swapped = _born(swappable).replace(month=_born(swappable).day, day=_born(swappable).month)
    other_month = _born(e).replace(
        month=_born(e).month % 12 + 1, day=min(_born(e).day, 28) % 27 + 1
    )
    return {
        "a name typo and a blank municipality": (
            _row(a, "p1", last_name=_typo(a.last_name), municipality_code=None),
            a,
        ),
        "a date off by one day and a blank municipality": (
            _row(b, "p2", birth_date=_born(b) - timedelta(days=1), municipality_code=None),
            b,
        ),
        "day and month swapped and a blank municipality": (
            _row(swappable, "p3", birth_date=swapped, municipality_code=None),
            swappable,
        ),
        "a typo and a date error": (
            _row(c, "p4", first_name="Arbr", birth_date=_born(c) + timedelta(days=1)),
            c,
        ),
        "typo, date and blank municipality": (
            _row(
                d,
                "p5",
                last_name=_typo(d.last_name),
                birth_date=_born(d) - timedelta(days=1),
                municipality_code=None,
            ),
            d,
        ),
        "a typo alone, in a short name": (_row(nora, "p6", first_name="Nçra"), nora),
        "another date difference: one digit of the year": (
            _row(f, "p7", birth_date=_born(f).replace(year=_born(f).year + 1)),
            f,
        ),
        "Macedonian Cyrillic (ѓ for gj, ќ for q)": (
            _row(
                gj_q,
                "p8",
                first_name=_macedonian(gj_q.first_name),
                last_name=_macedonian(gj_q.last_name),
            ),
            gj_q,
        ),
        "đ typed as d": (
            _row(dj, "p9", first_name=_d(dj.first_name), last_name=_d(dj.last_name)),
            dj,
        ),
        "both names off and a date one day back across a year boundary": (
            _row(
                new_year,
                "p10",
                first_name=_typo(new_year.first_name, 1),
                last_name=_typo(new_year.last_name, 3),
                birth_date=_born(new_year) - timedelta(days=1),
            ),
            new_year,
        ),
        "a tie with a person entered twice": (_row(first_of_twice, "p11"), first_of_twice),
        "made up: a registered name born in another month": (
            _row(e, "p12", birth_date=other_month),
            None,
        ),
    }


def _d(name: str | None) -> str:
    """``đ`` as a keyboard without it types it most lazily."""
    return (name or "").replace("đ", "d").replace("Đ", "D")


_MACEDONIAN = {"Gj": "Ѓ", "gj": "ѓ", "q": "ќ", "sh": "ш", "xh": "џ", "ë": "е", "y": "и"}
_CYRILLIC = dict(zip("abcdefghijklmnoprstuvz", "абцдефгхијклмнопрстувз", strict=True))


def _macedonian(name: str | None) -> str:
    """An Albanian name as a Macedonian clerk writes it in Cyrillic."""
    text = name or ""
    for latin, cyrillic in _MACEDONIAN.items():
        text = text.replace(latin, cyrillic)
    return "".join(_CYRILLIC.get(ch.lower(), ch) if ch.isascii() else ch for ch in text).title()


@pytest.fixture(scope="module")
def matched(
    persons: list[KnownPerson], twice: set[str]
) -> tuple[Matcher, dict[str, tuple[Probe, Match]]]:
    probes = _probes(persons, twice)
    rows = _background(persons, twice) + list(probes.values())
    matcher = Matcher(persons, IdentitySettings())
    matches = matcher.match([row for row, _ in rows])
    by_key = {row.key: match for (row, _), match in zip(rows, matches, strict=True)}
    return matcher, {cause: (probe, by_key[probe[0].key]) for cause, probe in probes.items()}


LINKED = [
    "a name typo and a blank municipality",
    "a date off by one day and a blank municipality",
    "day and month swapped and a blank municipality",
    "a typo and a date error",
    "typo, date and blank municipality",
    "a typo alone, in a short name",
    "another date difference: one digit of the year",
    "Macedonian Cyrillic (ѓ for gj, ќ for q)",
    "đ typed as d",
    "both names off and a date one day back across a year boundary",
]


@pytest.mark.parametrize("cause", LINKED)
def test_each_cause_of_a_missed_person_is_a_candidate_and_links(
    persons: list[KnownPerson],
    matched: tuple[Matcher, dict[str, tuple[Probe, Match]]],
    cause: str,
) -> None:
    (row, person), match = matched[1][cause]
    assert person is not None
    _, right = BlockingIndex(IdentityFrame.build(persons)).candidate_pairs(
        IdentityFrame.build([row])
    )
    assert person.person_id in right.tolist(), "never compared"
    why = reasons_text(match.options[0].components) if match.options else ""
    assert (match.decision, match.best) == ("link", person), (row, match.score, why)


def test_a_tie_with_a_person_entered_twice_goes_to_review_with_both(
    matched: tuple[Matcher, dict[str, tuple[Probe, Match]]],
) -> None:
    (_, person), match = matched[1]["a tie with a person entered twice"]
    assert match.decision == "review"
    assert match.score == pytest.approx(match.runner_up, abs=0.01)
    shown = {o.person.person_id for o in match.reviewable()}
    assert person is not None
    assert person.person_id in shown
    assert len(shown) == 2


def test_a_made_up_person_with_a_registered_name_born_another_month_does_not_link(
    matched: tuple[Matcher, dict[str, tuple[Probe, Match]]],
) -> None:
    _, match = matched[1]["made up: a registered name born in another month"]
    assert match.decision != "link"
    assert match.score < 0.5
    assert match.options[0].components["birth"]["level"] in ("same_year", "other", "partial")


def test_the_background_list_links_precisely(persons: list[KnownPerson], twice: set[str]) -> None:
    rows = _background(persons, twice)
    matcher = Matcher(persons, IdentitySettings())
    matches = matcher.match([row for row, _ in rows])
    links = [(m.best, p) for (_, p), m in zip(rows, matches, strict=True) if m.decision == "link"]
    assert all(best == person for best, person in links)
    assert len(links) >= 0.97 * 240
    assert matcher.thresholds.link_precision >= 0.995


def test_a_stricter_precision_in_the_settings_links_fewer_and_reviews_the_rest(
    persons: list[KnownPerson], twice: set[str]
) -> None:
    rows = [row for row, _ in _background(persons, twice)]
    usual, strict = (
        Matcher(persons, IdentitySettings()),
        Matcher(persons, IdentitySettings(link_precision=0.99999)),
    )
    decided = {
        name: Counter(m.decision for m in matcher.match(rows))
        for name, matcher in (("usual", usual), ("strict", strict))
    }
    assert strict.thresholds.link > usual.thresholds.link
    assert strict.thresholds.link_precision >= 0.99999
    assert decided["strict"]["link"] < decided["usual"]["link"]
    moved = decided["usual"]["link"] - decided["strict"]["link"]
    assert decided["strict"]["review"] == decided["usual"]["review"] + moved


def test_reasons_say_which_field_agreed_at_which_level(
    matched: tuple[Matcher, dict[str, tuple[Probe, Match]]],
) -> None:
    _, by_cause = matched
    _, match = by_cause["a date off by one day and a blank municipality"]
    reasons = match.options[0].components
    assert reasons["first"]["level"] == "exact"
    assert reasons["first"]["weight"] > 3
    assert reasons["birth"]["level"] == "one_day"
    assert reasons["birth"]["weight"] > 5
    assert reasons["municipality"] == {"level": "missing", "weight": 0.0}
    assert reasons["probability"] == pytest.approx(match.score)
    assert reasons["weight"] == pytest.approx(
        sum(v["weight"] for v in reasons.values() if isinstance(v, dict)), abs=0.05
    )
    assert "birth one_day" in reasons_text(reasons)


def test_a_rare_surname_counts_more_than_a_common_one(persons: list[KnownPerson]) -> None:
    matcher = Matcher(persons, IdentitySettings())
    surnames = [p.last_name for p in persons]
    common = max(set(surnames), key=surnames.count)
    rare = min(set(surnames), key=surnames.count)
    [with_common, with_rare] = matcher.match(
        [
            Candidate("c", "Zzyzx", common, date(1900, 1, 1)),
            Candidate("r", "Zzyzx", rare, date(1900, 1, 1)),
        ]
    )
    assert with_common.decision == with_rare.decision == "none"
    common_frame = IdentityFrame.build([Candidate("c", "A", common, None)])
    rare_frame = IdentityFrame.build([Candidate("r", "A", rare, None)])
    frequency = matcher.model.frequencies.of_spellings
    assert frequency(rare_frame.codes.last_spelling) < frequency(common_frame.codes.last_spelling)


def test_a_rejected_person_gives_way_to_the_other(
    matched: tuple[Matcher, dict[str, tuple[Probe, Match]]],
) -> None:
    matcher, by_cause = matched
    (_, person), match = by_cause["a tie with a person entered twice"]
    other = next(o.person for o in match.options if o.person != person)
    assert person is not None
    without = matcher.without(match, {person.person_id})
    assert without.best == other
    assert without.score == pytest.approx(match.runner_up / (1 - match.score), rel=1e-6)


def test_missing_values_are_neutral(persons: list[KnownPerson]) -> None:
    matcher = Matcher(persons, IdentitySettings())
    person = persons[10]
    rows = [_row(person, "with"), _row(person, "without", municipality_code=None)]
    with_place, without_place = matcher.match(rows)
    assert without_place.options[0].components["municipality"]["weight"] == 0.0
    assert with_place.options[0].components["municipality"]["weight"] > 0


def test_empty_inputs_match_nothing(persons: list[KnownPerson]) -> None:
    [match] = Matcher([], IdentitySettings()).match([Candidate("c", "A", "B", None)])
    assert (match.decision, match.options) == ("none", ())
    assert Matcher(persons[:10], IdentitySettings()).match([]) == []
    assert np.isfinite(Matcher(persons[:2], IdentitySettings()).model.log2_prior_odds)
