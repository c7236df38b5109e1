"""Each finding kind goes away when the registries agree, and only then."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, event, update
from sqlmodel import Session, col

from hub.canonical import (
    BenefitCase,
    BenefitDecision,
    JobseekerRegistration,
    Person,
    PersonIdentifier,
)
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.reconcile.detectors import DETECTORS, FindingDraft
from hub.reconcile.detectors.returnees import years_before
from hub.store.engine import unit_of_work

STAMP = datetime(2026, 10, 1, tzinfo=UTC)


def _detect(engine: Engine, kind: str, as_of: date) -> list[FindingDraft]:
    with Session(engine) as session:
        return DETECTORS[kind](session, as_of=as_of)


def test_a_suspension_sas_decided_or_applied_is_no_longer_reported(
    store: Engine, reference_day: date
) -> None:
    found = _detect(store, "suspension_not_applied", reference_day)
    decided, suspended = found[0], found[1]
    with unit_of_work(store) as session:
        case_key = decided.subject_key.split("/")[0]
        session.add(
            BenefitDecision(
                decision_key="SD-TEST-1",
                case_key=case_key,
                person_id=decided.person_id or 0,
                kind="suspension",
                decided_on=date.fromisoformat(decided.evidence["facts"][0]["suspended_from"]),
                source_registry="sas",
                as_of=STAMP,
            )
        )
        session.execute(
            update(BenefitCase)
            .where(col(BenefitCase.case_key) == suspended.subject_key.split("/")[0])
            .values(status="suspended")
        )
    after = {f.subject_key for f in _detect(store, "suspension_not_applied", reference_day)}
    assert after == {f.subject_key for f in found} - {decided.subject_key, suspended.subject_key}


def test_a_returnee_emis_registered_meanwhile_is_no_longer_reported(
    store: Engine, reference_day: date
) -> None:
    found = _detect(store, "returnee_not_registered", reference_day)
    by_referral, by_person = found[0], found[1]
    with unit_of_work(store) as session:
        for key, draft in (("JS-TEST-1", by_referral), ("JS-TEST-2", by_person)):
            session.add(
                JobseekerRegistration(
                    jobseeker_key=key,
                    person_id=draft.person_id if draft is by_person else None,
                    returnee_key=draft.subject_key if draft is by_referral else None,
                    status="active",
                    registered_on=reference_day,
                    source_registry="emis",
                    as_of=STAMP,
                )
            )
    after = {f.subject_key for f in _detect(store, "returnee_not_registered", reference_day)}
    assert after == {f.subject_key for f in found} - {
        by_referral.subject_key,
        by_person.subject_key,
    }


def test_payroll_counts_only_the_two_latest_periods(store: Engine, reference_day: date) -> None:
    assert _detect(store, "jobseeker_with_active_payroll", reference_day)
    # declarations run to 2026-10; in January 2027 the latest two periods have none
    assert _detect(store, "jobseeker_with_active_payroll", date(2027, 1, 15)) == []


def test_payments_up_to_the_month_of_death_are_not_reported(
    store: Engine, reference_day: date
) -> None:
    found = _detect(store, "dead_person_still_paid", reference_day)
    assert found
    for finding in found:
        death, paid = finding.evidence["facts"][0], finding.evidence["facts"][1]
        assert all(month > death["death_date"][:7] for month in paid["paid_months"])
    # as on a day before those deaths, nobody is dead yet
    assert _detect(store, "dead_person_still_paid", date(2026, 4, 30)) == []


def _person(session: Session, number: str, first: str, last: str, sex: str) -> None:
    person = Person(first_name=first, last_name=last, birth_date=date(1990, 2, 3), sex=sex)
    session.add(person)
    session.flush()
    session.add(
        PersonIdentifier(
            person_id=person.id or 0,
            scheme=PERSONAL_NO_SCHEME,
            value=number,
            source_registry="cra",
            as_of=STAMP,
        )
    )


def test_two_numbers_match_across_scripts_and_diacritics_but_not_across_sexes(
    store: Engine, reference_day: date
) -> None:
    before = {
        f.subject_key for f in _detect(store, "person_with_two_personal_numbers", reference_day)
    }
    with unit_of_work(store) as session:
        _person(session, "1000000018", "Драган", "Јовановић", "M")
        _person(session, "1000000026", "Dragan", "Jovanovic", "M")
        _person(session, "1000000034", "Dragana", "Jovanović", "F")
        _person(session, "1000000042", "Dragan", "Jovanović", "F")
    after = {
        f.subject_key for f in _detect(store, "person_with_two_personal_numbers", reference_day)
    }
    assert after - before == {"1000000018+1000000026"}


def test_working_age_bounds_handle_29_february() -> None:
    assert years_before(date(2028, 2, 29), 18) == date(2010, 2, 28)
    assert years_before(date(2026, 10, 31), 65) == date(1961, 10, 31)


def test_every_detector_reads_the_store_in_a_bounded_number_of_statements(
    store: Engine, reference_day: date
) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(store, "before_cursor_execute", count)
    try:
        for kind in DETECTORS:
            statements.clear()
            assert _detect(store, kind, reference_day)
            assert len(statements) <= 2, (kind, len(statements))  # set-based: no query per person
    finally:
        event.remove(store, "before_cursor_execute", count)
