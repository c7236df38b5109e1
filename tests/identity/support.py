"""Loading a generated population into the canonical store the way the tests need it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from hub.canonical import Person, PersonIdentifier, ReturneeCase
from hub.canonical.persons import PERSONAL_NO_SCHEME

AS_OF = datetime(2026, 10, 31, tzinfo=UTC)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every record of a JSON Lines file."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def person_rows(record: dict[str, Any]) -> tuple[Person, str]:
    """A CRA person record as a golden record, with its personal number."""
    person = Person(
        first_name=record["first_name"],
        last_name=record["last_name"],
        birth_date=date.fromisoformat(record["birth_date"]),
        sex=record["sex"],
        municipality_code=record["municipality_code"],
    )
    return person, record["personal_no"]


def add_persons(session: Session, records: list[dict[str, Any]]) -> dict[str, int]:
    """Insert CRA persons with their ``XK-PN``; return personal number -> person id."""
    pairs = [person_rows(r) for r in records]
    session.add_all([person for person, _ in pairs])
    session.flush()
    ids = {number: person.id for person, number in pairs if person.id is not None}
    session.add_all(
        PersonIdentifier(
            person_id=person_id,
            scheme=PERSONAL_NO_SCHEME,
            value=number,
            source_registry="cra",
            as_of=AS_OF,
        )
        for number, person_id in ids.items()
    )
    session.flush()
    return ids


def returnee_case(record: dict[str, Any]) -> ReturneeCase:
    """A CMS returnee record as an unidentified returnee case."""
    return ReturneeCase(
        returnee_key=record["returnee_id"],
        case_no=record["case_no"],
        first_name=record["first_name"],
        last_name=record["last_name"],
        birth_date=date.fromisoformat(record["birth_date"]),
        sex=record["sex"],
        municipality_code=record["municipality_code"],
        returned_on=date.fromisoformat(record["returned_on"]),
        country_from=record["country_from"],
        case_status=record["case_status"],
        source_registry="cms",
        as_of=AS_OF,
    )


@dataclass(frozen=True)
class Loaded:
    """What was loaded: person ids by personal number, and the unidentified returnees."""

    person_ids: dict[str, int]
    returnees: list[dict[str, Any]]


def load_population(engine: Engine, folder: Path) -> Loaded:
    """CRA persons and the CMS returnees without a personal number, committed."""
    returnees = [
        r for r in read_jsonl(folder / "cms" / "returnees.jsonl") if r["personal_no"] is None
    ]
    with Session(engine) as session:
        person_ids = add_persons(session, read_jsonl(folder / "cra" / "persons.jsonl"))
        session.add_all(returnee_case(r) for r in returnees)
        session.commit()
    return Loaded(person_ids=person_ids, returnees=returnees)
