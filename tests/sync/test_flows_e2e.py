"""Every flow end to end: registry events in the mocks, a sync run, the effect in the target mock.

Scenarios are planted in the running mock registries (as the registries' own
users would record them), then one ``run_sync`` of every flow ingests, decides
and delivers over HTTP; the assertions read the target registries' state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from hub.audit.models import AuditEntry
from hub.audit.service import export_person, verify
from hub.canonical import PersonIdentifier, Suspension
from hub.settings import Settings
from hub.store.engine import make_engine
from hub.store.migrate import upgrade
from hub.sync.flows import FLOWS
from hub.sync.models import OutboxMessage
from hub.sync.runner import SyncOutcome, run_sync
from mocks.core.server import RunningRegistries
from mocks.core.store import RegistryStore
from tests.support.registries import fast_settings
from tests.support.store import confirm_every_proposal

AS_OF = date(2026, 10, 31)


def _store(registries: RunningRegistries, name: str) -> RegistryStore:
    store: RegistryStore = registries.app(name).state.ctx.store
    return store


@dataclass
class World:
    """The planted persons and the two sync runs."""

    certificate_pn: str
    suspended_pn: str
    single_refusal_pn: str
    justified_pn: str
    employed_pn: str
    deceased_beneficiary_pn: str
    deceased_returnee_id: str
    first: SyncOutcome
    second: SyncOutcome
    stats_after_first: dict[str, Any]
    stats_after_decisions: dict[str, Any]
    stats_after_second: dict[str, Any]
    third: SyncOutcome
    stats_after_third: dict[str, Any]
    settings: Settings
    database: str


def _active_jobseekers(emis: RegistryStore, exclude: set[str]) -> Iterator[dict[str, Any]]:
    for jobseeker in emis.all("jobseekers"):
        pn = jobseeker.get("personal_no")
        if jobseeker["status"] == "active" and pn and pn not in exclude:
            exclude.add(pn)
            yield jobseeker


def _offer(offer_id: str, jobseeker: dict[str, Any], day: str, code: str) -> dict[str, Any]:
    return {
        "offer_id": offer_id,
        "jobseeker_id": jobseeker["jobseeker_id"],
        "personal_no": jobseeker["personal_no"],
        "employer_name": "Kosova Print SH.P.K.",
        "occupation_code": "7322",
        "offered_on": day,
        "response": "refused",
        "refusal_reason_code": code,
        "responded_on": day,
    }


def _stats(registries: RunningRegistries) -> dict[str, Any]:
    return {
        name: httpx.get(f"{registries.url(name)}/admin/stats").json()["idempotency"]
        for name in ("emis", "sas", "cms")
    }


@pytest.fixture(scope="module")
def world(own_registries: RunningRegistries, tmp_path_factory: pytest.TempPathFactory) -> World:
    emis, sas, tak, cra, cms = (
        _store(own_registries, n) for n in ("emis", "sas", "tak", "cra", "cms")
    )
    used: set[str] = set()
    case_applicants = {
        case["personal_no"]: case for case in sas.all("beneficiaries") if case["status"] == "active"
    }
    jobseekers = _active_jobseekers(emis, used)
    beneficiary_jobseeker = next(
        j for j in _active_jobseekers(emis, set(used)) if j["personal_no"] in case_applicants
    )
    used.add(beneficiary_jobseeker["personal_no"])

    certified = next(jobseekers)
    emis.upsert(
        "certificates",
        {
            "certificate_no": "UC-2026-9000001",
            "personal_no": certified["personal_no"],
            "jobseeker_id": certified["jobseeker_id"],
            "issued_on": "2026-10-05",
            "valid_until": "2027-10-04",
            "status": "valid",
            "revoked_on": None,
            "revocation_reason": None,
        },
    )
    for offer_id, day in (("JO-9000001", "2026-09-01"), ("JO-9000002", "2026-10-01")):
        emis.upsert("job_offers", _offer(offer_id, beneficiary_jobseeker, day, "R11"))
    single = next(jobseekers)
    emis.upsert("job_offers", _offer("JO-9000003", single, "2026-10-02", "R10"))
    justified = next(jobseekers)
    for offer_id, day in (
        ("JO-9000004", "2026-08-01"),
        ("JO-9000005", "2026-09-01"),
        ("JO-9000006", "2026-10-01"),
    ):
        emis.upsert("job_offers", _offer(offer_id, justified, day, "R01"))

    employed = next(jobseekers)
    tak.upsert(
        "contracts",
        {
            "contract_id": "EC-9000001",
            "personal_no": employed["personal_no"],
            "employer_tin": "600000001",
            "employer_name": "Ura Tech SH.P.K.",
            "start_date": "2026-10-01",
            "end_date": None,
        },
    )
    tak.upsert(
        "declarations",
        {
            "declaration_id": "PD-90000001",
            "personal_no": employed["personal_no"],
            "employer_tin": "600000001",
            "period": "2026-10",
            "gross_wage": "620.00",
            "declared_on": "2026-10-31",
        },
    )

    deceased_case = next(  # the only member of the case: SAS closes it (RecordDeath)
        case
        for pn, case in case_applicants.items()
        if pn not in used
        and cra.get("persons", pn)
        and {m["personal_no"] for m in case["family_members"]} <= {pn}
    )
    used.add(deceased_case["personal_no"])
    returnee = next(
        r
        for r in cms.all("returnees")
        if r["personal_no"] and r["case_status"] == "open" and r["personal_no"] not in used
    )
    for pn in (deceased_case["personal_no"], returnee["personal_no"]):
        person = cra.get("persons", pn)
        assert person is not None
        cra.upsert("persons", {**person, "status": "deceased", "death_date": "2026-10-10"})

    database = f"sqlite:///{tmp_path_factory.mktemp('sync') / 'hub.sqlite3'}"
    engine = make_engine(database)
    upgrade(engine)
    settings = fast_settings(own_registries).model_copy(update={"policy_profile": "XK"})
    first = run_sync(engine, settings, list(FLOWS), as_of=AS_OF)
    after_first = _stats(own_registries)
    confirm_every_proposal(engine)  # the CSW decides; then the decisions are delivered
    run_sync(engine, settings, ["suspensions"], as_of=AS_OF, ingest=False)
    after_decisions = _stats(own_registries)
    second = run_sync(engine, settings, list(FLOWS), as_of=AS_OF)
    after_second = _stats(own_registries)
    third = run_sync(engine, settings, list(FLOWS), as_of=AS_OF)
    return World(
        certificate_pn=certified["personal_no"],
        suspended_pn=beneficiary_jobseeker["personal_no"],
        single_refusal_pn=single["personal_no"],
        justified_pn=justified["personal_no"],
        employed_pn=employed["personal_no"],
        deceased_beneficiary_pn=deceased_case["personal_no"],
        deceased_returnee_id=returnee["returnee_id"],
        first=first,
        second=second,
        stats_after_first=after_first,
        stats_after_decisions=after_decisions,
        stats_after_second=after_second,
        third=third,
        stats_after_third=_stats(own_registries),
        settings=settings,
        database=database,
    )


def test_every_decision_was_delivered(world: World) -> None:
    assert world.first.dispatch.dead == 0
    assert world.first.dispatch.delivered > 0
    assert all(run.enqueued == run.delivered for run in world.first.runs)
    assert sum(run.enqueued for run in world.first.runs) == world.first.dispatch.delivered


def test_a_certificate_issued_in_emis_appears_in_sas(
    world: World, own_registries: RunningRegistries
) -> None:
    copy = _store(own_registries, "sas").get("certificates", "UC-2026-9000001")
    assert copy is not None
    assert (copy["personal_no"], copy["status"]) == (world.certificate_pn, "valid")


def test_two_unjustified_refusals_suspend_the_beneficiary_under_the_kosovo_profile(
    world: World, own_registries: RunningRegistries
) -> None:
    sas = _store(own_registries, "sas")
    case = next(c for c in sas.all("beneficiaries") if c["personal_no"] == world.suspended_pn)
    assert case["status"] == "suspended"
    refusals = {r["offer_id"] for r in sas.find("refusals", "personal_no", world.suspended_pn)}
    assert {"JO-9000001", "JO-9000002"} <= refusals
    emis = _store(own_registries, "emis")
    flagged = [
        j
        for j in emis.find("jobseekers", "personal_no", world.suspended_pn)
        if j.get("benefit_suspension")
    ]
    assert flagged, "EMIS was not told of the suspension"


def test_nothing_is_suspended_before_the_csw_confirms(world: World) -> None:
    for registry, operation in (
        ("sas", "SetBenefitSuspension"),
        ("emis", "SetBenefitSuspensionFlag"),
    ):
        assert operation not in world.stats_after_first[registry]["applied"], operation
        assert world.stats_after_decisions[registry]["applied"][operation] >= 1, operation


def test_emis_is_told_none_once_the_case_is_suspended(
    world: World, own_registries: RunningRegistries
) -> None:
    received = httpx.get(
        f"{own_registries.url('emis')}/admin/received",
        params={"operation": "SetSocialAssistanceStatus"},
    ).json()
    told = [
        r["payload"]["category"]
        for r in received
        if r["payload"]["personalNo"] == world.suspended_pn
    ]
    assert told == ["II", "NONE"]


def test_one_refusal_or_only_justified_ones_never_suspend(
    world: World, own_registries: RunningRegistries
) -> None:
    received = httpx.get(
        f"{own_registries.url('emis')}/admin/received",
        params={"operation": "SetBenefitSuspensionFlag"},
    ).json()
    flagged = {r["payload"]["personalNo"] for r in received}
    assert world.suspended_pn in flagged
    assert world.single_refusal_pn not in flagged
    assert world.justified_pn not in flagged


def test_the_north_macedonia_profile_needs_a_third_refusal(world: World) -> None:
    engine = make_engine(world.database)
    north_macedonia = world.settings.model_copy(update={"policy_profile": "MK"})
    with Session(engine) as session:
        FLOWS["suspensions"](session, settings=north_macedonia, as_of=AS_OF)
        proposed_under_mk = session.exec(
            select(col(PersonIdentifier.value))
            .join(Suspension, col(Suspension.person_id) == col(PersonIdentifier.person_id))
            .where(col(Suspension.policy_profile) == "MK")
        ).all()
        session.rollback()  # a look at the decisions only
    assert world.suspended_pn not in proposed_under_mk


def test_a_payroll_declaration_terminates_the_jobseeker(
    world: World, own_registries: RunningRegistries
) -> None:
    registrations = _store(own_registries, "emis").find(
        "jobseekers", "personal_no", world.employed_pn
    )
    assert any(
        r["status"] == "terminated" and r["termination_reason"] == "employed" for r in registrations
    )


def test_the_death_of_a_cases_only_member_closes_it_and_the_returnee_case(
    world: World, own_registries: RunningRegistries
) -> None:
    sas = _store(own_registries, "sas")
    case = next(
        c for c in sas.all("beneficiaries") if c["personal_no"] == world.deceased_beneficiary_pn
    )
    assert case["status"] == "closed"
    returnee = _store(own_registries, "cms").get("returnees", world.deceased_returnee_id)
    assert returnee is not None
    assert returnee["case_status"] == "closed"


def test_running_every_flow_again_delivers_nothing_new(world: World) -> None:
    def applied(stats: dict[str, Any]) -> dict[str, int]:
        # a profile follows the registration EMIS changed on the first run's word
        return {op: n for op, n in stats["applied"].items() if op != "RecordJobseekerProfile"}

    # the run after the decisions reads SAS's suspended cases back (sa-status tells EMIS
    # NONE of them); the run after that has nothing new to say
    for registry, stats in world.stats_after_third.items():
        before = applied(world.stats_after_second[registry])
        assert applied(stats) == before or registry == "cms", registry
    assert world.third.dispatch.dead == 0
    new = {run.flow: run.enqueued for run in world.third.runs if run.enqueued}
    # only consequences of the first run's deliveries may follow (EMIS answers about referrals)
    assert set(new) <= {"returnees", "sa-status", "profile"}


def test_every_delivery_is_in_the_audit_log_and_answers_a_subject_request(world: World) -> None:
    engine = make_engine(world.database)
    with Session(engine) as session:
        delivered = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.state) == "delivered")
        ).all()
        entries = session.exec(select(AuditEntry).where(col(AuditEntry.action) == "delivery")).all()
        assert verify(session).ok
        subject = export_person(session, personal_no=world.certificate_pn)
    by_message = {entry.request_id: entry for entry in entries}
    assert len(entries) == len(by_message) >= len(delivered) > 0
    for message in delivered:
        entry = by_message[f"outbox:{message.id}"]
        assert entry.purpose == f"sync:{message.flow}"
        assert entry.target == f"{message.target_registry}:{message.operation}"
        assert entry.fields == sorted(message.payload)
    received = {(e.target, e.purpose) for e in subject.entries}
    assert ("sas:RecordUnemploymentCertificate", "sync:certificates") in received
    assert all(world.certificate_pn not in f"{e.target}{e.request_id}{e.fields}" for e in entries)
