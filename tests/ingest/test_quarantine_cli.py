"""``hub quarantine list`` shows each record's key, a personal number for person streams:
each person it names is audited, as ``hub review list`` and ``hub link`` audit theirs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from hub.audit import service as audit
from hub.audit.models import AuditEntry
from hub.cli.main import app
from hub.ingest.models import QuarantinedRecord
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from tests.identity.support import add_persons

runner = CliRunner()
KNOWN = "1000000018"  # Drita Hoxha, in the hub
OTHER = "1000000034"  # Agon Shala, in the hub
NOBODY = "2000000000"  # a number the hub does not know
CRA = [
    (KNOWN, "Drita", "Hoxha", "1995-06-15", "F", "12"),
    (OTHER, "Agon", "Shala", "1980-01-30", "M", "01"),
]
# newest first as listed: (registry, stream, record key)
QUARANTINED = [
    ("tak", "contract", "EC-9999999"),
    ("cra", "persons", NOBODY),
    ("sas", "beneficiaries", f" {KNOWN} "),  # as the source sent it: padded
    ("cra", "persons", KNOWN),
    ("cra", "persons", OTHER),
]


@pytest.fixture
def store(sqlite_url: str) -> Iterator[tuple[Engine, dict[str, int]]]:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    keys = ("personal_no", "first_name", "last_name", "birth_date", "sex", "municipality_code")
    started = datetime(2026, 11, 1, tzinfo=UTC)
    with unit_of_work(engine) as session:
        ids = add_persons(session, [dict(zip(keys, row, strict=True)) for row in CRA])
        for age, (registry, stream, key) in enumerate(QUARANTINED):
            session.add(
                QuarantinedRecord(
                    id=len(QUARANTINED) - age,
                    source_registry=registry,
                    stream=stream,
                    record_key=key,
                    field_path="birth_date",
                    reason="not a date",
                    quarantined_at=started - timedelta(minutes=age),
                )
            )
    yield engine, ids
    engine.dispose()


def _list(engine: Engine, *args: str) -> str:
    env = {"HUB_DATABASE_URL": str(engine.url), "COLUMNS": "200", "HUB_LOG_FORMAT": "json"}
    listed = runner.invoke(app, ["quarantine", "list", *args], env=env)
    assert listed.exit_code == 0, listed.output
    return listed.output


def _entries(engine: Engine) -> list[AuditEntry]:
    with Session(engine) as session:
        statement = select(AuditEntry).where(col(AuditEntry.purpose) == "quarantine")
        return list(session.exec(statement.order_by(col(AuditEntry.id))))


def test_each_person_whose_number_is_listed_is_audited_once(
    store: tuple[Engine, dict[str, int]],
) -> None:
    engine, ids = store
    output = _list(engine)
    for number in (KNOWN, OTHER, NOBODY, "EC-9999999"):
        assert number in output

    entries = _entries(engine)
    assert [e.person_id for e in entries] == [ids[KNOWN], ids[OTHER]]  # as first shown
    for entry in entries:
        assert (entry.action, entry.actor, entry.target) == ("read", "cli", "hub quarantine list")
        assert entry.fields == ["personal_no"]
        assert KNOWN not in entry.target
    with Session(engine) as session:
        assert audit.verify(session).ok

    _list(engine)
    assert len(_entries(engine)) == 4  # every listing, its own entries


def test_a_listing_that_names_nobody_the_hub_knows_audits_nobody(
    store: tuple[Engine, dict[str, int]],
) -> None:
    engine, _ids = store
    output = _list(engine, "--limit", "2")
    assert "EC-9999999" in output
    assert NOBODY in output
    assert KNOWN not in output
    assert _entries(engine) == []

    output = _list(engine, "--registry", "tak")
    assert "EC-9999999" in output
    assert _entries(engine) == []


def test_an_empty_quarantine_audits_nothing(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    assert "the quarantine is empty" in _list(engine)
    assert _entries(engine) == []
    engine.dispose()
