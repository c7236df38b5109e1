"""Namesakes are not one human: the duplicate detector compares spellings, not match keys.

A 100,000-person population holds a few persons born the same day whose surnames differ
only in letters the matching key folds together (``Thaçi``/``Thaqi``, ``Imeri``/``Ymeri``).
They are different surnames in the civil registry's orthography, so the detector of
``person_with_two_personal_numbers`` must not call them one person; the same person in
another script or without diacritics still is one. The generator can name such namesakes
(:func:`fixtures.planting.namesakes`) for its manifest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from fixtures.generate import build_world
from fixtures.planting import namesakes
from hub.reconcile.detectors import duplicates
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from tests.identity.support import add_persons

PAIRS = {
    "thaci": (("Gresa", "Thaqi"), ("Gresa", "Thaçi"), False),
    "imeri": (("Dafina", "Imeri"), ("Dafina", "Ymeri"), False),
    "script": (("Драган", "Јовановић"), ("Dragan", "Jovanović"), True),
    "diacritics": (("Arbër", "Thaçi"), ("ARBER", "THACI"), True),
}


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    records = []
    for n, (first, second, _) in enumerate(PAIRS.values()):
        for m, (given, surname) in enumerate((first, second)):
            records.append(
                {
                    "personal_no": f"10000000{n}{m}",
                    "first_name": given,
                    "last_name": surname,
                    "birth_date": "1986-10-14",
                    "sex": "F",
                    "municipality_code": f"0{m + 1}",
                }
            )
    with unit_of_work(engine) as session:
        add_persons(session, records)
    yield engine
    engine.dispose()


def test_only_one_human_under_two_numbers_is_found_not_namesakes(engine: Engine) -> None:
    with Session(engine) as session:
        found = duplicates.detect(session, as_of=date(2026, 10, 31))
    numbers = {tuple(f.evidence["personal_nos"]) for f in found}
    expected = {
        (f"10000000{n}0", f"10000000{n}1") for n, (_, _, same) in enumerate(PAIRS.values()) if same
    }
    assert numbers == expected


def test_the_generator_names_the_namesakes_a_folding_detector_would_report() -> None:
    world = build_world(3, 1_000)
    person = next(p for p in world.persons if p.role is None and not p.cyrillic)
    for number, surname in (("9000000001", "Thaqi"), ("9000000002", "Thaçi")):
        world.persons.append(replace(person, personal_no=number, last_name=surname))
    world.persons.append(replace(person, personal_no="9000000003", last_name="Thaçi"))
    found = namesakes(world)
    assert {"personal_nos": ["9000000001", "9000000002", "9000000003"]} in found
    for entry in found:  # every entry holds at least two spellings of one loose name
        members = [p for p in world.persons if p.personal_no in entry["personal_nos"]]
        assert len({(p.first_name, p.last_name) for p in members}) > 1
