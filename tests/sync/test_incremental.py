"""Incremental flows: a run derives what changed since the flow's marks, and what the passing
of days made due, never all of history again.

A run with nothing new reads no row (``pulled`` counts the rows a run reads) and issues the
same statements whatever the size of the store. No test here is timed: ``bench/flows.py``
measures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, update
from sqlmodel import Session, col

from hub.canonical import (
    BenefitCase,
    JobOffer,
    Refusal,
    ReturneeCase,
    Suspension,
    UnemploymentCertificate,
)
from hub.ingest.models import FlowWatermark
from hub.store.engine import unit_of_work
from hub.sync.flows import FLOWS, FlowName
from hub.sync.flows.changes import LATE_WINDOW, FlowMoved, save
from hub.sync.models import OutboxMessage, SyncRun
from hub.sync.runner import decide_flow
from tests.support.store import confirm_every_proposal
from tests.sync.small_store import AS_OF, SETTINGS, Store, fresh_engine, migrated_template

STAMP = datetime(2026, 10, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("incremental-template"))


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Iterator[Store]:
    engine = fresh_engine(template, tmp_path)
    yield Store(engine)
    engine.dispose()


@pytest.fixture
def both(engine: Engine) -> Store:
    """A store on SQLite and on PostgreSQL (see ``tests/conftest.py``'s ``engine``)."""
    return Store(engine)


def certificate(
    number: str,
    person: int,
    *,
    issued: date = date(2026, 9, 1),
    recorded: datetime | None = None,
) -> UnemploymentCertificate:
    row = UnemploymentCertificate(
        certificate_no=number,
        person_id=person,
        issued_on=issued,
        valid_until=issued + timedelta(days=365),
        status="valid",
        source_registry="emis",
        as_of=STAMP,
    )
    if recorded is not None:
        row.recorded_at = recorded
    return row


def refusal(store: Store, offer: str, person: int, day: date) -> None:
    store.add(
        JobOffer(
            offer_key=offer,
            person_id=person,
            employer_name="Employer",
            occupation_code="5223",
            offered_on=day - timedelta(days=3),
            response="refused",
            responded_on=day,
            source_registry="emis",
            as_of=STAMP,
        )
    )
    store.add(
        Refusal(
            offer_key=offer,
            person_id=person,
            refused_on=day,
            reason_code="R10",
            justified=False,
            source_registry="emis",
            as_of=STAMP,
        )
    )


def households(store: Store, count: int) -> None:
    """``count`` households that give every flow something to decide."""
    for n in range(count):
        applicant, member, dead = (
            store.person(),
            store.person(),
            store.person(died=date(2026, 10, 1)),
        )
        store.case(f"SA-{n:07d}", applicant, [member, dead])
        store.jobseeker(f"JS-{n:07d}A", applicant)
        store.jobseeker(f"JS-{n:07d}M", member)
        store.add(certificate(f"UC-{n:07d}", applicant))
        refusal(store, f"JO-{n:07d}A", applicant, date(2026, 8, 1))
        refusal(store, f"JO-{n:07d}B", applicant, date(2026, 9, 1))
        store.declaration(f"TD-{n:07d}", member, "2026-10")
        store.move(f"CE-{n:07d}", applicant, date(2026, 6, 1))
        store.placement(f"PL-{n:07d}", applicant, date(2025, 3, 1))
        store.returnee(f"RT-{n:07d}", None)


def run(store: Store, flow: FlowName, as_of: date = AS_OF) -> SyncRun:
    return decide_flow(store.engine, SETTINGS, flow, as_of=as_of)


def queued(store: Store, operation: str) -> list[OutboxMessage]:
    with Session(store.engine) as session:
        return list(
            session.execute(
                select(OutboxMessage)
                .where(col(OutboxMessage.operation) == operation)
                .order_by(col(OutboxMessage.id))
            ).scalars()
        )


# ------------------------------------------------------------------ nothing new


@pytest.mark.parametrize("flow", list(FLOWS))
def test_a_second_run_with_nothing_new_reads_and_derives_nothing(
    store: Store, flow: FlowName
) -> None:
    households(store, 3)
    first = run(store, flow)
    second = run(store, flow)
    assert first.pulled > 0
    assert first.enqueued > 0 or flow == "suspensions"  # proposals reach no registry
    assert (second.pulled, second.decided, second.enqueued) == (0, 0, 0)


def _statements(engine: Engine, flow: FlowName) -> tuple[int, SyncRun]:
    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1

    event.listen(engine, "before_cursor_execute", counted)
    try:
        done = decide_flow(engine, SETTINGS, flow, as_of=AS_OF)
    finally:
        event.remove(engine, "before_cursor_execute", counted)
    return count, done


def test_a_run_with_nothing_new_costs_the_same_whatever_the_history(
    template: Path, tmp_path: Path
) -> None:
    """Like a benchmark, counted not timed: on a store three times the size, the second run
    of each flow issues the same statements and reads no row."""
    costs: dict[int, dict[str, int]] = {}
    for size in (2, 6):
        folder = tmp_path / f"size-{size}"
        folder.mkdir()
        engine = fresh_engine(template, folder)
        store = Store(engine)
        households(store, size)
        costs[size] = {}
        for flow in FLOWS:
            run(store, flow)
            statements, second = _statements(engine, flow)
            assert second.pulled == 0, flow
            costs[size][flow] = statements
        engine.dispose()
    assert costs[2] == costs[6]


# ------------------------------------------------------------------ changes


def test_a_changed_certificate_is_sent_again_and_a_status_that_returns_too(
    both: Store,
) -> None:
    store = both
    holder = store.person()
    store.add(certificate("UC-0000001", holder))
    assert run(store, "certificates").enqueued == 1

    def change(status: str, minutes: int) -> None:
        # an update that leaves recorded_at as it was: the database stamps it (0009)
        with unit_of_work(store.engine) as session:
            session.execute(
                update(UnemploymentCertificate).values(
                    status=status,
                    revoked_on=date(2026, 10, 5) if status == "revoked" else None,
                    as_of=STAMP + timedelta(minutes=minutes),
                )
            )

    change("revoked", 1)
    revoked = run(store, "certificates")
    change("valid", 2)
    reinstated = run(store, "certificates")
    assert (revoked.pulled, revoked.enqueued) == (1, 1)
    assert (reinstated.pulled, reinstated.enqueued) == (1, 1)
    sent = queued(store, "RecordUnemploymentCertificate")
    assert [m.payload["status"] for m in sent] == ["valid", "revoked", "valid"]
    assert len({m.idempotency_key for m in sent}) == 3
    assert run(store, "certificates").pulled == 0


def test_a_row_committed_late_with_an_earlier_stamp_is_still_picked_up(both: Store) -> None:
    """A writer stamps its rows before it commits: another writer's rows, stamped later and
    committed first, move the flow's mark past them. The next run still derives them."""
    store = both
    early, late = store.person(), store.person()
    assert run(store, "certificates").pulled == 0
    postgres = store.engine.dialect.name == "postgresql"
    with Session(store.engine) as slow:
        # stamped a minute before it commits: a long page, a slow clock
        slow.add(certificate("UC-SLOW", early, recorded=datetime.now(UTC) - timedelta(minutes=1)))
        if postgres:  # holds its uncommitted row while the other writer commits
            slow.flush()
        store.add(certificate("UC-FAST", late))
        first = run(store, "certificates")
        slow.commit()
    second = run(store, "certificates")
    assert (first.pulled, first.enqueued) == (1, 1)
    assert second.enqueued == 1
    numbers = [m.payload["certificateNo"] for m in queued(store, "RecordUnemploymentCertificate")]
    assert numbers == ["UC-FAST", "UC-SLOW"]
    with Session(store.engine) as session:
        mark = session.get(FlowWatermark, ("certificates", "certificates"))
        assert mark is not None
        assert mark.stamp is not None
        slow_stamp = session.execute(
            select(col(UnemploymentCertificate.recorded_at)).where(
                col(UnemploymentCertificate.certificate_no) == "UC-SLOW"
            )
        ).scalar_one()
    assert slow_stamp < mark.stamp  # it was stamped before the mark: read in the window
    assert mark.stamp - slow_stamp < LATE_WINDOW
    assert run(store, "certificates").pulled == 0


def test_a_mark_moves_only_with_the_run_that_queues(store: Store) -> None:
    holder = store.person()
    store.add(certificate("UC-0000001", holder))
    with Session(store.engine) as session:  # a flow called on its own leaves the marks be
        FLOWS["certificates"](session, settings=SETTINGS, as_of=AS_OF)
        session.rollback()
        assert session.execute(select(FlowWatermark)).first() is None
    run(store, "certificates")
    with Session(store.engine) as session:
        marks = {mark.stream: mark for mark in session.execute(select(FlowWatermark)).scalars()}
    assert set(marks) == {"certificates"}
    assert marks["certificates"].as_of == AS_OF


def test_a_returnee_linked_by_the_resolver_is_referred_with_the_civil_birth_date(
    store: Store,
) -> None:
    store.returnee("RT-0000001", None)
    with unit_of_work(store.engine) as session:  # CMS did not record a birth date
        session.execute(update(ReturneeCase).values(birth_date=None))
    assert run(store, "returnees").enqueued == 0
    person = store.person(birth=date(1990, 5, 5))
    with unit_of_work(store.engine) as session:  # as the resolver links: no stamp of its own
        session.execute(update(ReturneeCase).values(person_id=person))
    linked = run(store, "returnees")
    assert linked.enqueued == 1
    (referral,) = queued(store, "RegisterReturneeReferral")
    assert referral.payload["birthDate"] == "1990-05-05"


def test_a_run_that_finds_its_marks_moved_queues_nothing(store: Store) -> None:
    holder = store.person()
    store.add(certificate("UC-0000001", holder))
    with Session(store.engine) as session:
        stale = FLOWS["certificates"](session, settings=SETTINGS, as_of=AS_OF)
        session.rollback()
    run(store, "certificates")  # another run took the marks meanwhile
    with Session(store.engine) as session, pytest.raises(FlowMoved):
        save(session, stale.marks)


# ------------------------------------------------------------------ the passing of days


def test_a_certificate_issued_after_as_of_is_sent_once_its_day_comes(store: Store) -> None:
    holder = store.person()
    store.add(certificate("UC-0000001", holder, issued=AS_OF + timedelta(days=5)))
    assert run(store, "certificates").enqueued == 0
    later = AS_OF + timedelta(days=10)
    due = run(store, "certificates", later)
    assert (due.pulled, due.enqueued) == (1, 1)
    assert run(store, "certificates", later).pulled == 0


def test_a_confirmed_suspension_is_lifted_the_day_after_it_ends(store: Store) -> None:
    person = store.person()
    store.case("SA-0000001", person)
    store.jobseeker("JS-0000001", person)
    refusal(store, "JO-0000001", person, date(2026, 9, 1))
    refusal(store, "JO-0000002", person, date(2026, 10, 1))
    run(store, "suspensions")
    confirm_every_proposal(store.engine)  # queues the suspension's deliveries itself
    assert run(store, "suspensions").pulled == 1  # the confirmation: derived, queued already
    assert run(store, "suspensions").pulled == 0
    with Session(store.engine) as session:
        until = session.execute(select(col(Suspension.suspended_until))).scalar_one()
    assert until is not None
    assert queued(store, "LiftBenefitSuspension") == []
    after = until + timedelta(days=1)
    run(store, "suspensions", after)
    assert [m.payload["liftedOn"] for m in queued(store, "LiftBenefitSuspension")] == [
        after.isoformat()
    ]
    again = run(store, "suspensions", after)
    assert (again.pulled, again.enqueued) == (0, 0)


def test_a_returnee_is_referred_once_of_working_age(store: Store) -> None:
    eighteen = date(2008, 11, 10)  # 18 on 2026-11-10
    store.returnee("RT-0000001", None, birth=eighteen)
    assert run(store, "returnees").enqueued == 0
    assert run(store, "returnees", date(2026, 11, 9)).enqueued == 0
    of_age = run(store, "returnees", date(2026, 11, 12))
    assert of_age.enqueued == 1
    assert run(store, "returnees", date(2026, 11, 12)).pulled == 0


def test_a_death_is_told_once_its_day_comes(store: Store) -> None:
    applicant, member = store.person(), store.person(died=AS_OF + timedelta(days=3))
    store.case("SA-0000001", applicant, [member])
    assert run(store, "civil").enqueued == 0
    told = run(store, "civil", AS_OF + timedelta(days=5))
    assert told.enqueued == 1
    assert [m.payload["personalNo"] for m in queued(store, "RecordDeath")] == [
        store.personal_nos[member]
    ]


def test_a_declaration_becomes_recent_when_its_month_comes(store: Store) -> None:
    worker = store.person()
    store.jobseeker("JS-0000001", worker)
    store.declaration("TD-0000001", worker, "2026-12")
    assert run(store, "employment").enqueued == 0  # October: December is not recent yet
    december = run(store, "employment", date(2026, 12, 15))
    assert december.enqueued == 1
    assert run(store, "employment", date(2026, 12, 15)).pulled == 0


def test_sa_status_is_told_none_when_the_case_closes_and_ii_when_it_opens_again(
    store: Store,
) -> None:
    beneficiary = store.person()
    store.case("SA-0000001", beneficiary)
    store.jobseeker("JS-0000001", beneficiary)

    def case(status: str) -> SyncRun:
        with unit_of_work(store.engine) as session:
            session.execute(update(BenefitCase).values(status=status))
        return run(store, "sa-status")

    assert run(store, "sa-status").enqueued == 1
    assert run(store, "sa-status").pulled == 0
    assert case("closed").enqueued == 1
    assert case("active").enqueued == 1
    told = [m.payload["category"] for m in queued(store, "SetSocialAssistanceStatus")]
    assert told == ["II", "NONE", "II"]


def test_another_policy_profile_judges_every_person_again(store: Store) -> None:
    person = store.person()
    store.case("SA-0000001", person)
    refusal(store, "JO-0000001", person, date(2026, 9, 1))
    refusal(store, "JO-0000002", person, date(2026, 10, 1))
    run(store, "suspensions")
    assert run(store, "suspensions").pulled == 0
    other = SETTINGS.model_copy(update={"policy_profile": "MK"})
    again = decide_flow(store.engine, other, "suspensions", as_of=AS_OF)
    assert again.pulled == 2  # both refusals read again under the other profile


def test_the_profile_a_mark_was_taken_under_reads_the_same_in_every_process() -> None:
    """Sets iterate in another order in another process: the basis must not follow."""
    code = (
        "from hub.policy import load_profile; from hub.sync.flows.suspensions import _basis;"
        " print(_basis(load_profile('XK')))"
    )
    bases = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(bases) == 1
