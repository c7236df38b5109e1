"""Deaths, moves, incomes, profiles and returnees end to end, on SQLite and on PostgreSQL.

The generated population carries its own scenarios (fixtures/planting.py): a family
member's death in a case that must stay open, the last member's death that closes a case,
moves, incomes of members who are no jobseekers, dead and closed returnees who must not
be referred. A sync of the people flows runs against fresh mock registries over HTTP and
SOAP; the registries' received writes and final state are compared with the manifest.
Then a move the civil registry records and a profile EMIS changes are synced in a
second run, and a third run finds nothing new to say.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from hub.connectors.registry import open_connector
from hub.demo.flows_check import check_death_cases, fetch_received, people_checks
from hub.settings import RegistryName, Settings
from hub.store.engine import make_engine
from hub.store.migrate import upgrade
from hub.sync.flows import FlowName
from hub.sync.models import OutboxMessage
from hub.sync.runner import SyncOutcome, run_sync
from mocks.core.server import DEMO_AUTH, RunningRegistries
from mocks.core.store import RegistryStore
from tests.conftest import Population
from tests.support.postgres import temporary_database
from tests.support.registries import fast_settings

AS_OF = date(2026, 10, 31)
PEOPLE_FLOWS: list[FlowName] = ["employment", "civil", "returnees", "profile"]
MOVED_TO = ("26", "Rr. Ura e Gurit 7")
WRITTEN: tuple[RegistryName, ...] = ("emis", "sas", "cms")


def _store(registries: RunningRegistries, name: str) -> RegistryStore:
    store: RegistryStore = registries.app(name).state.ctx.store
    return store


@dataclass
class Synced:
    """Three runs of the people flows against one set of mocks and one database."""

    registries: RunningRegistries
    settings: Settings
    engine: Engine
    manifest: dict[str, Any]
    population: Path
    first: SyncOutcome
    received: dict[str, list[dict[str, Any]]]
    moved_pn: str
    profiled_pn: str
    segment: str
    second: SyncOutcome
    third: SyncOutcome

    def sas(self, personal_no: str) -> dict[str, Any]:
        """GetBeneficiary through the hub's zeep client."""
        sas = open_connector("sas", self.settings)
        try:
            return sas.lookup(personal_no)
        finally:
            sas.close()

    def queued(self, operation: str, *, run_ids: set[int]) -> list[OutboxMessage]:
        """The messages of ``operation`` the runs ``run_ids`` queued."""
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(OutboxMessage).where(
                        col(OutboxMessage.operation) == operation,
                        col(OutboxMessage.run_id).in_(run_ids),
                    )
                ).all()
            )


@contextmanager
def _database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'hub.sqlite3'}"
        return
    with temporary_database() as url:
        yield url


def _move(registries: RunningRegistries) -> str:
    """A CRA move of an applicant of an active case who is also an active jobseeker."""
    emis, sas, cra = (_store(registries, n) for n in ("emis", "sas", "cra"))
    jobseekers = {
        j["personal_no"]
        for j in emis.all("jobseekers")
        if j["status"] == "active" and j["registered_on"] < "2026-10-01"
    }
    case = next(
        c
        for c in sas.all("beneficiaries")
        if c["status"] == "active"
        and c["personal_no"] in jobseekers
        and c["municipality_code"] != MOVED_TO[0]
        and (cra.get("persons", c["personal_no"]) or {}).get("status") == "alive"
        and all(not m.get("date_of_death") for m in c["family_members"])
    )
    personal_no = str(case["personal_no"])
    cra.upsert(
        "events",
        {
            "event_id": "EV-90000001",
            "kind": "address_change",
            "personal_no": personal_no,
            "event_date": "2026-10-30",
            "details": {
                "from_municipality_code": case["municipality_code"],
                "to_municipality_code": MOVED_TO[0],
                "address": MOVED_TO[1],
            },
        },
    )
    return personal_no


def _change_profile(registries: RunningRegistries, manifest: dict[str, Any], moved: str) -> str:
    """EMIS re-profiles a registered jobseeker of an open case; returns the new segment."""
    emis = _store(registries, "emis")
    profiled = next(
        p
        for p in manifest["expected"]["profiles"]
        if p["employment_status"] == "registered" and p["personal_no"] != moved
    )
    (registration,) = [j for j in emis.find("jobseekers", "personal_no", profiled["personal_no"])]
    segment = "high" if registration["profiling_segment"] != "high" else "low"
    emis.upsert("jobseekers", {**registration, "profiling_segment": segment})
    return f"{profiled['personal_no']}:{segment}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def synced(
    request: pytest.FixtureRequest,
    population: Population,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Synced]:
    with (
        RunningRegistries(population.dir, auth=DEMO_AUTH) as registries,
        _database(request.param, tmp_path_factory.mktemp("people")) as url,
    ):
        engine = make_engine(url)
        upgrade(engine)
        settings = fast_settings(registries)
        urls: dict[RegistryName, str] = {name: registries.url(name) for name in WRITTEN}
        first = run_sync(engine, settings, PEOPLE_FLOWS, as_of=AS_OF)
        received = fetch_received(urls)
        moved = _move(registries)
        profiled_pn, segment = _change_profile(registries, population.manifest, moved).split(":")
        second = run_sync(engine, settings, PEOPLE_FLOWS, as_of=AS_OF)
        third = run_sync(engine, settings, PEOPLE_FLOWS, as_of=AS_OF)
        yield Synced(
            registries=registries,
            settings=settings,
            engine=engine,
            manifest=population.manifest,
            population=population.dir,
            first=first,
            received=received,
            moved_pn=moved,
            profiled_pn=profiled_pn,
            segment=segment,
            second=second,
            third=third,
        )
        engine.dispose()


def _run_ids(outcome: SyncOutcome) -> set[int]:
    return {run.id for run in outcome.runs if run.id is not None}


def test_every_people_flow_delivers_exactly_the_manifests_truth(synced: Synced) -> None:
    assert synced.first.dispatch.dead == 0
    checks = people_checks(synced.received, synced.manifest["expected"])
    assert {c.flow for c in checks} == {
        "civil_deaths_sas",
        "civil_deaths_emis",
        "civil_deaths_cms",
        "civil_addresses_emis",
        "civil_addresses_sas",
        "employment_income",
        "profiles",
    }
    for check in checks:
        assert (check.missing, check.unexpected) == (0, 0), check
        assert check.expected > 0, check.flow
    assert not synced.received["sas"] or all(
        write["operation"] != "StopBenefits" for write in synced.received["sas"]
    ), "a death stops the whole case's benefits again"


def test_a_family_members_death_leaves_the_case_open_the_last_ones_closes_it(
    synced: Synced,
) -> None:
    expected = synced.manifest["expected"]
    cases = {
        c.flow: c for c in check_death_cases(synced.settings, synced.manifest, synced.population)
    }
    for line in ("sas_cases_closed_by_death", "sas_cases_open_after_death"):
        assert cases[line].expected > 0, line
        assert cases[line].missing == 0, line
    dead = set(expected["civil_deaths_sas"])
    store = _store(synced.registries, "sas")
    for case_no in expected["sas_cases_open_after_death"]:
        case = store.get("beneficiaries", case_no)
        assert case is not None
        answer = synced.sas(str(case["personal_no"]))["beneficiary"]
        assert answer["status"] in {"active", "suspended"}
        marked = {m["personalNo"] for m in answer["familyMember"] if m["dateOfDeath"]}
        assert marked == {m["personal_no"] for m in case["family_members"]} & dead
    for case_no in expected["sas_cases_closed_by_death"]:
        decisions = store.find("decisions", "case_no", case_no)
        assert any(d.get("stop_reason") == "deceased" for d in decisions), case_no


def test_a_death_ends_the_registration_and_closes_the_returnee_case(synced: Synced) -> None:
    expected = synced.manifest["expected"]
    emis, cms = _store(synced.registries, "emis"), _store(synced.registries, "cms")
    for personal_no in expected["civil_deaths_emis"]:
        (registration,) = emis.find("jobseekers", "personal_no", personal_no)
        assert (registration["status"], registration["termination_reason"]) == (
            "terminated",
            "deceased",
        )
    for returnee_id in expected["civil_deaths_cms"]:
        returnee = cms.get("returnees", returnee_id)
        assert returnee is not None
        assert returnee["case_status"] == "closed"


def test_dead_and_closed_returnees_are_not_referred(synced: Synced) -> None:
    expected = synced.manifest["expected"]
    referred = {
        w["payload"]["returneeId"]
        for w in synced.received["emis"]
        if w["operation"] == "RegisterReturneeReferral"
    }
    assert referred == set(expected["returnees"])
    assert not referred & set(expected["returnees_not_referred"])


def test_a_returnees_messages_share_one_order_key(synced: Synced) -> None:
    with Session(synced.engine) as session:
        messages = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.flow) == "returnees")
        ).all()
    assert messages
    for message in messages:
        returnee = message.payload.get("returneeId") or message.payload.get("returnee_id")
        assert message.order_key == f"returnee:{returnee}"
    closures = synced.queued("CloseCase", run_ids=_run_ids(synced.first))
    assert closures
    assert all(m.order_key == f"returnee:{m.payload['returnee_id']}" for m in closures)


def test_a_move_reaches_emis_and_sas_once(synced: Synced) -> None:
    emis, sas = _store(synced.registries, "emis"), _store(synced.registries, "sas")
    (registration,) = [
        j
        for j in emis.find("jobseekers", "personal_no", synced.moved_pn)
        if j["status"] == "active"
    ]
    assert (registration["municipality_code"], registration["address"]) == MOVED_TO
    assert registration["office_code"].endswith(MOVED_TO[0])
    case = next(
        c
        for c in sas.find("beneficiaries", "personal_no", synced.moved_pn)
        if c["status"] == "active"
    )
    assert (case["municipality_code"], case["address"]) == MOVED_TO
    moves = synced.queued("RecordAddressChange", run_ids=_run_ids(synced.second))
    assert sorted(m.idempotency_key for m in moves) == [
        "civil:address:EV-90000001:emis",
        "civil:address:EV-90000001:sas",
    ]


def test_a_changed_profile_is_sent_again_and_an_unchanged_one_never(synced: Synced) -> None:
    profile = synced.sas(synced.profiled_pn)["jobseekerProfile"]
    assert profile["profilingSegment"] == synced.segment
    resent = {
        m.payload["personalNo"]
        for m in synced.queued("RecordJobseekerProfile", run_ids=_run_ids(synced.second))
    }
    assert synced.profiled_pn in resent
    # the others whose profile changed are those the first run terminated at EMIS
    terminated = {
        w["payload"]["personalNo"]
        for w in synced.received["emis"]
        if w["operation"] == "TerminateJobseeker"
    }
    assert resent - {synced.profiled_pn} <= terminated
    assert synced.second.dispatch.dead == 0


def test_a_third_run_has_nothing_new_to_say(synced: Synced) -> None:
    assert synced.third.dispatch.dead == 0
    new = {run.flow: run.enqueued for run in synced.third.runs if run.enqueued}
    assert new == {}
