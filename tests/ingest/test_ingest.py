"""Ingestion into the canonical store, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from hub.canonical import (
    BenefitCaseMember,
    JobseekerRegistration,
    Person,
    PersonAttribute,
    PersonIdentifier,
    Refusal,
    ReturneeCase,
)
from hub.connectors.resilience import reset_breakers
from hub.ingest.models import QuarantinedRecord, Watermark
from hub.ingest.pipeline import ingest_all
from hub.ingest.run import ingest_registry, watermark_cursor
from hub.store.engine import make_engine
from hub.store.migrate import upgrade
from mocks.core.server import RunningRegistries
from tests.conftest import Population
from tests.support.registries import fast_settings


def _store(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def test_everything_is_ingested_once_and_a_second_run_changes_nothing(
    database_url: str, registries: RunningRegistries, population: Population
) -> None:
    engine = _store(database_url)
    run = ingest_all(engine, fast_settings(registries))
    assert run.ok
    for name, report in run.reports.items():
        assert report.read == sum(population.manifest["counts"][name].values()), name
        assert report.quarantined == 0
    counts = population.manifest["counts"]
    assert _count(engine, JobseekerRegistration) == counts["emis"]["jobseekers"]
    assert _count(engine, ReturneeCase) == counts["cms"]["returnees"]
    refused = sum(
        1
        for line in (population.dir / "emis" / "job_offers.jsonl").open()
        if json.loads(line)["response"] == "refused"
    )
    assert _count(engine, Refusal) == refused

    rows_before = {m.__name__: _count(engine, m) for m in (Person, PersonAttribute, Refusal)}
    again = ingest_all(engine, fast_settings(registries))
    assert all(report.read == 0 for report in again.reports.values())
    assert {
        m.__name__: _count(engine, m) for m in (Person, PersonAttribute, Refusal)
    } == rows_before


def test_golden_records_follow_survivorship_with_provenance(
    sqlite_url: str, registries: RunningRegistries, population: Population
) -> None:
    engine = _store(sqlite_url)
    ingest_all(engine, fast_settings(registries))
    cyrillic = next(
        json.loads(line)
        for line in (population.dir / "cra" / "persons.jsonl").open(encoding="utf-8")
        if json.loads(line)["name_script"] == "Cyrl"
    )
    with Session(engine) as session:
        person_id = session.exec(
            select(PersonIdentifier.person_id).where(
                PersonIdentifier.value == cyrillic["personal_no"],
                PersonIdentifier.scheme == "XK-PN",
            )
        ).one()
        person = session.get(Person, person_id)
        sources = {
            a.source_registry: a
            for a in session.exec(
                select(PersonAttribute).where(
                    PersonAttribute.person_id == person_id, PersonAttribute.name == "last_name"
                )
            )
        }
    assert person is not None
    # the civil registry wins the name, as it holds it (Cyrillic script)
    assert person.last_name == cyrillic["last_name"]
    assert person.birth_date.isoformat() == cyrillic["birth_date"]
    assert sources["cra"].value == cyrillic["last_name"]
    assert sources["cra"].as_of.tzinfo is not None


def test_family_members_and_returnees_link_to_persons(
    sqlite_url: str, registries: RunningRegistries, population: Population
) -> None:
    engine = _store(sqlite_url)
    run = ingest_all(engine, fast_settings(registries))
    without_number = [
        e for e in population.manifest["returnee_identity"] if not e["has_personal_no"]
    ]
    assert run.identity is not None
    assert run.identity.candidates == len(without_number)
    assert run.identity.linked >= 0.95 * len(without_number)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(BenefitCaseMember)).one() > 0
        unlinked = session.exec(
            select(func.count())
            .select_from(ReturneeCase)
            .where(col(ReturneeCase.person_id).is_(None))
        ).one()
    assert unlinked == run.identity.review + run.identity.none


def test_a_run_that_dies_mid_way_resumes_from_the_last_committed_page(
    sqlite_url: str, own_registries: RunningRegistries, population: Population
) -> None:
    engine = _store(sqlite_url)
    settings = fast_settings(own_registries, page_size=100, max_attempts=2, breaker_threshold=2)
    first = ingest_registry(engine, settings, "tak", max_pages=3)
    assert (first.pages, first.read) == (3, 300)
    cursor = watermark_cursor(engine, "tak")
    declarations_after_three_pages = _count(engine, Watermark)

    httpx.put(
        f"{own_registries.url('tak')}/admin/faults",
        json={"error_rate": 1.0, "error_status": 503, "retry_after": 0},
    )
    try:
        broken = ingest_registry(engine, settings, "tak")
    finally:
        httpx.delete(f"{own_registries.url('tak')}/admin/faults")
    assert not broken.ok
    assert "tak" in (broken.error or "")
    assert watermark_cursor(engine, "tak") == cursor  # nothing lost, nothing skipped
    assert _count(engine, Watermark) == declarations_after_three_pages

    reset_breakers()
    healed = ingest_registry(engine, settings, "tak")
    total = sum(population.manifest["counts"]["tak"].values())
    assert healed.ok
    assert healed.read == total - 300
    with Session(engine) as session:
        watermark = session.get(Watermark, ("tak", "changes"))
    assert watermark is not None
    assert watermark.changes_read == total


def test_a_record_that_does_not_map_is_quarantined_and_the_run_goes_on(
    sqlite_url: str, own_registries: RunningRegistries
) -> None:
    store = own_registries.app("tak").state.ctx.store
    good = store.all("contracts")[0]
    store.upsert("contracts", {**good, "contract_id": "EC-9999999", "personal_no": "1234567890"})
    try:
        engine = _store(sqlite_url)
        report = ingest_registry(engine, fast_settings(own_registries), "tak")
    finally:
        store.upsert("contracts", {**good, "contract_id": "EC-9999999"})
    assert report.ok
    assert report.quarantined == 1
    assert report.mapped == report.read - 1
    with Session(engine) as session:
        quarantined = session.exec(select(QuarantinedRecord)).one()
    assert (quarantined.source_registry, quarantined.stream) == ("tak", "contract")
    assert quarantined.field_path == "personal_no"
    assert "check digit" in quarantined.reason
    assert "1234567890" not in quarantined.reason
    assert quarantined.payload["contract_id"] == "EC-9999999"
    assert quarantined.record_key == "EC-9999999"
