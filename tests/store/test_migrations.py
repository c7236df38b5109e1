"""The canonical store migrates the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, SQLModel, select

import hub.store.schema
from hub.canonical import Person, PersonIdentifier
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import current_revision, downgrade, head_revision, upgrade

EXPECTED_TABLES = {
    "audit_entry",
    "api_client",
    "reconciliation_run",
    "reconciliation_finding",
    "sync_run",
    "outbox_message",
    "watermark",
    "quarantined_record",
    "review_pair",
    "person",
    "person_identifier",
    "person_attribute",
    "household",
    "household_member",
    "civil_event",
    "jobseeker_registration",
    "unemployment_certificate",
    "job_offer",
    "refusal",
    "placement",
    "employment_contract",
    "payroll_declaration",
    "benefit_case",
    "benefit_case_member",
    "benefit_decision",
    "benefit_payment",
    "suspension",
    "suspension_event",
    "appeal",
    "job",
    "returnee_case",
}


def test_upgrade_creates_every_canonical_table(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES


def test_migrations_match_the_models(database_url: str) -> None:
    """A model change without a migration fails here, on both databases."""
    engine = make_engine(database_url)
    upgrade(engine)
    assert hub.store.schema.__all__  # every model is registered on the metadata
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_downgrade_to_base_and_back(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    downgrade(engine, "base")
    assert not EXPECTED_TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES


def test_times_come_back_timezone_aware_utc(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    pristina = timezone(timedelta(hours=1))
    with unit_of_work(engine) as session:
        person = Person(first_name="Arbër", last_name="Krasniqi", birth_date=date(1990, 5, 17))
        person.created_at = datetime(2026, 11, 23, 9, 30, tzinfo=pristina)
        session.add(person)
    with Session(engine) as session:
        stored = session.exec(select(Person)).one()
    assert stored.created_at == datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
    assert stored.created_at.tzinfo is not None
    assert stored.first_name == "Arbër"


def test_naive_times_are_refused(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    person = Person(first_name="Ana")
    person.created_at = datetime(2026, 1, 1)  # no tzinfo
    with Session(engine) as session:
        session.add(person)
        with pytest.raises(StatementError, match="naive datetime refused"):
            session.flush()


def test_identifier_pairs_are_unique(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    now = datetime.now(UTC)
    with unit_of_work(engine) as session:
        person = Person(first_name="Drita")
        session.add(person)
        session.flush()
        assert person.id is not None
        session.add(
            PersonIdentifier(
                person_id=person.id,
                scheme="XK-PN",
                value="1234567897",
                source_registry="cra",
                as_of=now,
            )
        )
    duplicate = PersonIdentifier(
        person_id=person.id, scheme="XK-PN", value="1234567897", source_registry="emis", as_of=now
    )
    with Session(engine) as session:
        session.add(duplicate)
        with pytest.raises(IntegrityError):
            session.flush()


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
