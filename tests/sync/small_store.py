"""A small canonical store written row by row, for the flows' decision tests."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from hub.canonical import (
    BenefitCase,
    BenefitCaseMember,
    CivilEvent,
    JobseekerRegistration,
    PayrollDeclaration,
    Person,
    PersonIdentifier,
    Placement,
    ReturneeCase,
)
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.settings import Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.sync.flows import FLOWS, FlowName, OutboxDraft

AS_OF = date(2026, 10, 31)
STAMP = datetime(2026, 10, 30, tzinfo=UTC)
SETTINGS = Settings(environment="test")


def migrated_template(folder: Path) -> Path:
    """An empty migrated SQLite store, to copy for each test."""
    path = folder / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def fresh_engine(template: Path, folder: Path) -> Engine:
    """A copy of the template store."""
    path = folder / "hub.sqlite3"
    shutil.copy(template, path)
    return make_engine(f"sqlite:///{path}")


def _facts(registry: str) -> dict[str, Any]:
    return {"source_registry": registry, "as_of": STAMP}


@dataclass
class Store:
    """Writes canonical rows the way ingestion would leave them."""

    engine: Engine
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    personal_nos: dict[int, str] = field(default_factory=dict)

    def person(self, *, birth: date = date(1985, 3, 1), died: date | None = None) -> int:
        """A person with a personal number; returns the person id."""
        personal_no = f"{1_100_000_000 + next(self._numbers)}"
        with unit_of_work(self.engine) as session:
            person = Person(first_name="Test", last_name="Person", birth_date=birth)
            person.death_date = died
            session.add(person)
            session.flush()
            assert person.id is not None
            session.add(
                PersonIdentifier(
                    person_id=person.id,
                    scheme=PERSONAL_NO_SCHEME,
                    value=personal_no,
                    **_facts("cra"),
                )
            )
            self.personal_nos[person.id] = personal_no
            return person.id

    def case(
        self,
        key: str,
        applicant: int,
        members: Sequence[int] = (),
        *,
        status: str = "active",
        since: date = date(2024, 1, 1),
        category: str = "II",
    ) -> None:
        """A SAS case; ``members`` are the family besides the applicant."""
        with unit_of_work(self.engine) as session:
            session.add(
                BenefitCase(
                    case_key=key,
                    applicant_person_id=applicant,
                    category=category,
                    status=status,
                    since=since,
                    **_facts("sas"),
                )
            )
            for number, member in enumerate([applicant, *members]):
                relation = "head" if number == 0 else "child"
                session.add(
                    BenefitCaseMember(
                        case_key=key, person_id=member, relation=relation, **_facts("sas")
                    )
                )

    def jobseeker(
        self,
        key: str,
        person: int | None,
        *,
        registered: date = date(2025, 1, 1),
        status: str = "active",
        terminated: date | None = None,
        reason: str | None = None,
        segment: str | None = "average",
        education: str | None = "secondary",
        returnee: str | None = None,
    ) -> None:
        """An EMIS registration."""
        self.add(
            JobseekerRegistration(
                jobseeker_key=key,
                person_id=person,
                status=status,
                registered_on=registered,
                terminated_on=terminated,
                termination_reason=reason,
                profiling_segment=segment,
                education_level=education,
                returnee_key=returnee,
                **_facts("emis"),
            )
        )

    def move(self, key: str, person: int, on: date, *, to: str = "07") -> None:
        """A CRA address change to municipality ``to``."""
        details = {
            "from_municipality_code": "01",
            "to_municipality_code": to,
            "address": f"Rr. {key} 1",
        }
        self.add(
            CivilEvent(
                event_key=key,
                person_id=person,
                kind="address_change",
                event_date=on,
                details=details,
                **_facts("cra"),
            )
        )

    def declaration(self, key: str, person: int, period: str, tin: str = "600000001") -> None:
        """A TAK payroll declaration."""
        self.add(
            PayrollDeclaration(
                declaration_key=key,
                person_id=person,
                employer_tin=tin,
                period=period,
                gross_wage=Decimal("500.00"),
                **_facts("tak"),
            )
        )

    def placement(self, key: str, person: int, start: date, end: date | None = None) -> None:
        """An EMIS placement in an active labour-market measure."""
        self.add(
            Placement(
                placement_key=key,
                person_id=person,
                measure_code="OJT",
                start_date=start,
                end_date=end,
                **_facts("emis"),
            )
        )

    def returnee(
        self,
        key: str,
        person: int | None,
        *,
        status: str = "open",
        registered: bool = False,
        birth: date = date(1990, 5, 5),
    ) -> None:
        """A CMS returnee case."""
        self.add(
            ReturneeCase(
                returnee_key=key,
                case_no=f"CMS-{key[3:]}",
                person_id=person,
                first_name="Test",
                last_name="Returnee",
                birth_date=birth,
                sex="M",
                municipality_code="01",
                returned_on=date(2025, 6, 1),
                country_from="DE",
                case_status=status,
                emis_registered=registered,
                **_facts("cms"),
            )
        )

    def add(self, row: Any) -> None:
        """Insert one row."""
        with unit_of_work(self.engine) as session:
            session.add(row)

    def decide(self, flow: FlowName) -> list[OutboxDraft]:
        """The flow's drafts on this store (nothing queued)."""
        with Session(self.engine) as session:
            result = FLOWS[flow](session, settings=SETTINGS, as_of=AS_OF)
            session.rollback()
        return result.drafts


def by_operation(drafts: Sequence[OutboxDraft]) -> dict[str, list[OutboxDraft]]:
    """Drafts grouped by ``registry:operation``."""
    grouped: dict[str, list[OutboxDraft]] = {}
    for draft in drafts:
        grouped.setdefault(f"{draft.target_registry}:{draft.operation}", []).append(draft)
    return grouped
