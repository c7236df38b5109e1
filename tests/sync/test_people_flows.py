"""What the civil, employment, profile and returnee flows decide, on a small store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from hub.canonical import JobseekerRegistration, ReturneeCase
from hub.store.engine import unit_of_work
from hub.sync.flows.profile import content_digest
from hub.sync.models import OutboxMessage
from hub.sync.runner import decide_flow
from tests.sync.small_store import (
    AS_OF,
    SETTINGS,
    Store,
    by_operation,
    fresh_engine,
    migrated_template,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("flows-template"))


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Iterator[Store]:
    engine = fresh_engine(template, tmp_path)
    yield Store(engine)
    engine.dispose()


# ------------------------------------------------------------------ civil: deaths


def test_a_family_members_death_is_told_to_sas_for_that_member_only(store: Store) -> None:
    applicant, child = store.person(), store.person(died=date(2026, 10, 10))
    store.case("SA-0000001", applicant, [child])
    drafts = by_operation(store.decide("civil"))
    assert set(drafts) == {"sas:RecordDeath"}
    (death,) = drafts["sas:RecordDeath"]
    assert death.payload == {
        "personalNo": store.personal_nos[child],
        "dateOfDeath": "2026-10-10",
    }
    assert death.idempotency_key == f"civil:death:{child}"
    assert death.order_key == f"person:{child}"


def test_a_death_reaches_every_registry_that_counts_the_person(store: Store) -> None:
    dead = store.person(died=date(2026, 9, 30))
    store.case("SA-0000001", dead, category="I")
    store.jobseeker("JS-0000001", dead)
    store.returnee("RT-0000001", dead)
    store.returnee("RT-0000002", dead, status="closed")
    drafts = by_operation(store.decide("civil"))
    assert set(drafts) == {"sas:RecordDeath", "emis:TerminateJobseeker", "cms:CloseCase"}
    assert drafts["emis:TerminateJobseeker"][0].payload["reason"] == "deceased"
    (closure,) = drafts["cms:CloseCase"]
    assert closure.payload["returnee_id"] == "RT-0000001"
    assert closure.order_key == "returnee:RT-0000001"  # the returnee's one chain at CMS


def test_no_death_message_for_closed_cases_or_deaths_after_the_day(store: Store) -> None:
    store.case("SA-0000001", store.person(died=date(2026, 10, 1)), status="closed")
    store.case("SA-0000002", store.person(died=date(2026, 11, 5)))  # after as_of
    assert store.decide("civil") == []


# ------------------------------------------------------------------ civil: addresses


def test_a_move_reaches_emis_and_sas_where_the_person_is_known(store: Store) -> None:
    jobseeker, beneficiary, both, stranger = (store.person() for _ in range(4))
    store.jobseeker("JS-0000001", jobseeker, registered=date(2025, 1, 1))
    store.jobseeker("JS-0000002", both, registered=date(2025, 1, 1))
    store.case("SA-0000001", beneficiary, [both], since=date(2024, 1, 1))
    for number, person in enumerate((jobseeker, beneficiary, both, stranger), start=1):
        store.move(f"EV-000000{number}", person, date(2026, 9, 1))
    drafts = store.decide("civil")
    sent = {(d.target_registry, d.payload["personalNo"]) for d in drafts}
    pns = store.personal_nos
    assert sent == {
        ("emis", pns[jobseeker]),
        ("emis", pns[both]),
        ("sas", pns[beneficiary]),
        ("sas", pns[both]),
    }
    assert {d.operation for d in drafts} == {"RecordAddressChange"}
    first = next(d for d in drafts if d.payload["personalNo"] == pns[jobseeker])
    assert first.payload == {
        "personalNo": pns[jobseeker],
        "municipalityCode": "07",
        "address": "Rr. EV-0000001 1",
        "effectiveDate": "2026-09-01",
    }
    keys = {d.idempotency_key for d in drafts}
    assert {"civil:address:EV-0000003:emis", "civil:address:EV-0000003:sas"} <= keys
    assert len(keys) == len(drafts) == 4


def test_moves_before_registration_of_the_dead_or_of_closed_cases_are_not_sent(
    store: Store,
) -> None:
    early, closed, terminated = store.person(), store.person(), store.person()
    store.jobseeker("JS-0000001", early, registered=date(2026, 5, 1))
    store.move("EV-0000001", early, date(2026, 4, 30))  # EMIS registered the new address
    dead = store.person(died=date(2026, 10, 1))
    store.jobseeker("JS-0000002", dead)
    store.move("EV-0000002", dead, date(2026, 9, 1))
    store.case("SA-0000001", closed, status="closed")
    store.move("EV-0000003", closed, date(2026, 9, 1))
    store.jobseeker("JS-0000003", terminated, status="terminated", terminated=date(2026, 1, 1))
    store.move("EV-0000004", terminated, date(2026, 9, 1))
    store.move("EV-0000005", early, date(2026, 11, 2))  # after as_of
    drafts = by_operation(store.decide("civil"))
    assert "emis:RecordAddressChange" not in drafts
    assert "sas:RecordAddressChange" not in drafts


# ------------------------------------------------------------------ employment


def test_income_reaches_sas_for_every_household_member_with_a_declaration(store: Store) -> None:
    applicant, spouse, child, outsider, dead = (
        store.person(),
        store.person(),
        store.person(),
        store.person(),
        store.person(died=date(2026, 10, 3)),
    )
    store.case("SA-0000001", applicant, [spouse, child, dead])
    store.jobseeker("JS-0000001", applicant)
    store.declaration("PD-00000001", applicant, "2026-10")
    store.declaration("PD-00000002", spouse, "2026-09")  # not a jobseeker
    store.declaration("PD-00000003", spouse, "2026-10", tin="600000002")
    store.declaration("PD-00000004", spouse, "2026-10", tin="600000003")  # a second employer
    store.declaration("PD-00000005", child, "2026-07")  # not recent
    store.declaration("PD-00000006", outsider, "2026-10")  # in no case
    store.declaration("PD-00000007", dead, "2026-10")
    drafts = by_operation(store.decide("employment"))
    incomes = {(d.payload["personalNo"], d.idempotency_key) for d in drafts["sas:RecordIncome"]}
    pns = store.personal_nos
    assert incomes == {
        (pns[applicant], "employment:income:PD-00000001"),
        (pns[spouse], "employment:income:PD-00000003"),
        (pns[spouse], "employment:income:PD-00000004"),
    }
    (termination,) = drafts["emis:TerminateJobseeker"]
    assert termination.payload == {
        "personalNo": pns[applicant],
        "reason": "employed",
        "effectiveDate": "2026-10-01",
        "employerTin": "600000001",
    }


# ------------------------------------------------------------------ profile


def _queued_profiles(store: Store) -> list[OutboxMessage]:
    with Session(store.engine) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(col(OutboxMessage.operation) == "RecordJobseekerProfile")
                .order_by(col(OutboxMessage.id))
            ).all()
        )


def test_a_jobseeker_in_a_case_gets_a_profile_with_status_segment_and_measures(
    store: Store,
) -> None:
    member, outsider = store.person(), store.person()
    store.case("SA-0000001", store.person(), [member])
    store.jobseeker("JS-0000001", member, registered=date(2025, 2, 3), segment="high")
    store.jobseeker("JS-0000000", member, registered=date(2020, 1, 1), status="terminated")
    store.placement("PL-0000002", member, date(2026, 3, 1))
    store.placement("PL-0000001", member, date(2025, 6, 1), date(2025, 9, 30))
    store.jobseeker("JS-0000002", outsider)
    (draft,) = store.decide("profile")
    content = {
        "educationLevel": "secondary",
        "employmentStatus": "registered",
        "statusSince": "2025-02-03",
        "profilingSegment": "high",
        "almpMeasure": [
            {"measureCode": "OJT", "startDate": "2025-06-01", "endDate": "2025-09-30"},
            {"measureCode": "OJT", "startDate": "2026-03-01"},
        ],
    }
    assert draft.payload == {"personalNo": store.personal_nos[member], **content}
    assert (draft.target_registry, draft.operation) == ("sas", "RecordJobseekerProfile")
    assert draft.idempotency_key == f"profile:{member}:1:{content_digest(content)}"
    assert store.personal_nos[member] not in draft.idempotency_key


def test_a_terminated_jobseeker_is_profiled_with_the_reason_sas_knows(store: Store) -> None:
    employed, left = store.person(), store.person()
    store.case("SA-0000001", employed, [left])
    store.jobseeker(
        "JS-0000001", employed, status="terminated", terminated=date(2026, 8, 1), reason="employed"
    )
    store.jobseeker(
        "JS-0000002", left, status="terminated", terminated=date(2026, 7, 1), reason="own_request"
    )
    profiles = {d.payload["personalNo"]: d.payload for d in store.decide("profile")}
    assert profiles[store.personal_nos[employed]]["terminationReason"] == "employed"
    assert profiles[store.personal_nos[employed]]["statusSince"] == "2026-08-01"
    assert profiles[store.personal_nos[left]]["employmentStatus"] == "terminated"
    assert "terminationReason" not in profiles[store.personal_nos[left]]


def test_no_profile_for_the_dead_for_closed_cases_or_without_education(store: Store) -> None:
    dead, closed, unprofiled = store.person(died=date(2026, 9, 1)), store.person(), store.person()
    store.case("SA-0000001", dead, [unprofiled])
    store.case("SA-0000002", closed, status="closed")
    store.jobseeker("JS-0000001", dead)
    store.jobseeker("JS-0000002", closed)
    store.jobseeker("JS-0000003", unprofiled, education=None)
    assert store.decide("profile") == []


def test_a_profile_is_sent_once_per_change_and_again_when_it_changes_back(store: Store) -> None:
    member = store.person()
    store.case("SA-0000001", member)
    store.jobseeker("JS-0000001", member, segment="low")

    def run(segment: str | None = None) -> int:
        if segment is not None:
            with unit_of_work(store.engine) as session:
                session.execute(update(JobseekerRegistration).values(profiling_segment=segment))
        return decide_flow(store.engine, SETTINGS, "profile", as_of=AS_OF).enqueued

    assert [run(), run(), run("high"), run(), run("low")] == [1, 0, 1, 0, 1]
    queued = _queued_profiles(store)
    assert [m.payload["profilingSegment"] for m in queued] == ["low", "high", "low"]
    keys = [m.idempotency_key for m in queued]
    assert keys[0].rsplit(":", 1)[1] == keys[2].rsplit(":", 1)[1]  # same content ...
    assert len(set(keys)) == 3  # ... sent again after the change in between
    assert {m.order_key for m in queued} == {f"person:{member}"}


# ------------------------------------------------------------------ returnees


def test_referrals_skip_closed_cases_and_the_dead(store: Store) -> None:
    dead = store.person(died=date(2026, 8, 1))
    store.returnee("RT-0000001", None)
    store.returnee("RT-0000002", None, status="closed")
    store.returnee("RT-0000003", dead)
    store.returnee("RT-0000004", None, birth=date(1950, 1, 1))  # not of working age
    referred = [
        d.payload["returneeId"]
        for d in store.decide("returnees")
        if d.operation == "RegisterReturneeReferral"
    ]
    assert referred == ["RT-0000001"]


def test_a_returnees_messages_keep_one_order_key_before_and_after_linking(store: Store) -> None:
    store.returnee("RT-0000001", None)
    (before,) = store.decide("returnees")
    person = store.person()
    with unit_of_work(store.engine) as session:  # identity review accepted the pair
        session.execute(update(ReturneeCase).values(person_id=person))
    store.jobseeker("JS-0000001", person, returnee="RT-0000001", registered=date(2026, 10, 1))
    with unit_of_work(store.engine) as session:
        session.execute(update(ReturneeCase).values(emis_registered=True))
    after = store.decide("returnees")
    assert [d.operation for d in after] == ["RecordEmploymentRegistration"]
    assert before.order_key == after[0].order_key == "returnee:RT-0000001"
