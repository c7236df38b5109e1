"""person_with_two_personal_numbers: one human entered twice in the civil registry.

Persons with different personal numbers and the same golden first name, last
name (compared by :func:`hub.identity.normalize.spelling_key`, so script, case and
diacritics do not matter), birth date and sex. The municipality is *not*
compared: a second entry is typically made where the person lived later.
Nothing is proposed: only the civil registry can merge the two numbers.

The spelling is compared, not the coarser matching key: ``Thaçi`` and ``Thaqi``,
``Imeri`` and ``Ymeri`` are different surnames in the registry's own orthography, and
two persons so named and born the same day are namesakes, not one human (a 100,000-person
population holds a few such pairs). Linking an external list still folds them together,
where a Serbian spelling cannot tell them apart.

SQL narrows the persons to those sharing a birth date and sex with someone;
names are folded in Python, where the folding is defined, in one pass; the
personal numbers are read for the few groups found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from hub.canonical import Person, PersonIdentifier
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.identity.normalize import spelling_key
from hub.reconcile.detectors.base import FindingDraft, fact

KIND = "person_with_two_personal_numbers"
MATCHED_ON = ["first_name", "last_name", "birth_date", "sex"]
SUBJECT_LENGTH = 64
_CHUNK = 5_000

Number = tuple[str, str, datetime]
"""A personal number with the registry that stated it and when."""


def detect(session: Session, *, as_of: date) -> list[FindingDraft]:
    """Every group of two or more personal numbers naming what looks like one person."""
    groups = [group for group in _same_looking(session) if len(group) > 1]
    numbers = _numbers(session, [person_id for group in groups for person_id in group])
    findings = []
    for group in groups:
        named = {person_id: numbers[person_id] for person_id in group if person_id in numbers}
        if len(named) > 1:
            findings.append(_finding(named))
    return sorted(findings, key=lambda finding: finding.subject_key)


def _same_looking(session: Session) -> Iterable[list[int]]:
    """Person ids grouped by folded names, birth date and sex."""
    shared = (
        select(col(Person.birth_date), col(Person.sex))
        .where(col(Person.birth_date).is_not(None))
        .group_by(col(Person.birth_date), col(Person.sex))
        .having(func.count() > 1)
        .subquery("shared")
    )
    rows = session.execute(
        select(
            col(Person.id),
            col(Person.first_name),
            col(Person.last_name),
            col(Person.birth_date),
            col(Person.sex),
        ).join(
            shared,
            and_(shared.c.birth_date == col(Person.birth_date), shared.c.sex == col(Person.sex)),
        )
    )
    groups: dict[tuple[str, str, date, str | None], list[int]] = defaultdict(list)
    for person_id, first, last, birth, sex in rows:
        first_key, last_key = spelling_key(first), spelling_key(last)
        if first_key and last_key:
            groups[(first_key, last_key, birth, sex)].append(person_id)
    return groups.values()


def _numbers(session: Session, person_ids: list[int]) -> dict[int, Number]:
    """The personal number of each person (the lowest, should one have two)."""
    identifier = PersonIdentifier
    found: dict[int, Number] = {}
    for start in range(0, len(person_ids), _CHUNK):
        rows = session.execute(
            select(
                col(identifier.person_id),
                col(identifier.value),
                col(identifier.source_registry),
                col(identifier.as_of),
            )
            .where(
                col(identifier.scheme) == PERSONAL_NO_SCHEME,
                col(identifier.person_id).in_(person_ids[start : start + _CHUNK]),
            )
            .order_by(col(identifier.value).desc())
        )
        found.update(
            {person_id: (value, source, stated) for person_id, value, source, stated in rows}
        )
    return found


def _finding(named: dict[int, Number]) -> FindingDraft:
    members = sorted(named.items(), key=lambda item: item[1][0])
    numbers = [number for _, (number, _, _) in members]
    return FindingDraft(
        kind=KIND,
        subject_key="+".join(numbers)[:SUBJECT_LENGTH],
        person_id=min(named),
        evidence={
            "personal_nos": numbers,
            "matched_on": MATCHED_ON,
            "facts": [
                fact(source, stated, personal_no=number) for _, (number, source, stated) in members
            ],
        },
        proposed_action=None,
    )
