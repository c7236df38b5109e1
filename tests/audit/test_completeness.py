"""Personal data shown by the CLI is audited per person: `hub review list` (names and birth
dates), `hub reconcile findings` (a duplicate's subject is two persons' numbers)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from hub.audit import service as audit
from hub.audit.models import AuditEntry
from hub.cli.main import app
from hub.identity import review
from hub.identity.resolver import resolve_returnees
from hub.reconcile import service as reconcile
from hub.reconcile.detectors import duplicates
from hub.settings import Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from tests.identity.support import add_persons, returnee_case

runner = CliRunner()
# Drita Hoxha entered twice under two numbers; Agon Shala once
CRA = [
    ("1000000018", "Drita", "Hoxha", "1995-06-15", "F", "12"),
    ("1000000026", "Drita", "Hoxha", "1995-06-15", "F", "12"),
    ("1000000034", "Agon", "Shala", "1980-01-30", "M", "01"),
]
# a returnee like Drita, one born the year Agon was: pairs to review, none linked
CMS = [
    ("RT-0000001", "Drita", "Hodža", "1995-06-15", "F", "12"),
    ("RT-0000002", "Agon", "Shala", "1980-08-02", "M", "01"),
]


@pytest.fixture
def store(sqlite_url: str) -> Iterator[tuple[Engine, dict[str, int]]]:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    with unit_of_work(engine) as session:
        keys = ("personal_no", "first_name", "last_name", "birth_date", "sex", "municipality_code")
        ids = add_persons(session, [dict(zip(keys, row, strict=True)) for row in CRA])
        for row in CMS:
            case = dict(zip(keys, row, strict=True))
            case["returnee_id"] = case.pop("personal_no")
            session.add(
                returnee_case(
                    {
                        **case,
                        "case_no": row[0].replace("RT", "CMS"),
                        "returned_on": "2024-01-01",
                        "country_from": "DE",
                        "case_status": "open",
                    }
                )
            )
    with unit_of_work(engine) as session:
        resolve_returnees(session, settings=Settings(environment="test"))
    yield engine, ids
    engine.dispose()


def _env(engine: Engine) -> dict[str, str]:
    return {"HUB_DATABASE_URL": str(engine.url), "COLUMNS": "200", "HUB_LOG_FORMAT": "json"}


def _entries(engine: Engine, purpose: str) -> list[AuditEntry]:
    with Session(engine) as session:
        statement = select(AuditEntry).where(col(AuditEntry.purpose) == purpose)
        return list(session.exec(statement.order_by(col(AuditEntry.id))))


def test_review_list_audits_each_person_it_shows(store: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = store
    with Session(engine) as session:
        shown = {item.person_id for item in review.list_pending(session, limit=50)}
    assert shown, "the store has pairs to review"

    listed = runner.invoke(app, ["review", "list"], env=_env(engine))
    assert listed.exit_code == 0, listed.output
    assert "Hoxha" in listed.output

    entries = _entries(engine, "review")
    assert {e.person_id for e in entries} == shown
    assert len(entries) == len(shown)
    for entry in entries:
        assert (entry.action, entry.actor, entry.target) == ("read", "cli", "hub review list")
        assert "birth_date" in entry.fields
    with Session(engine) as session:
        assert audit.verify(session).ok

    runner.invoke(app, ["review", "list", "--limit", "1"], env=_env(engine))
    assert len(_entries(engine, "review")) == len(shown) + 1  # every listing, its own entries


def test_both_persons_of_a_duplicate_are_audited_when_listed(
    store: tuple[Engine, dict[str, int]],
) -> None:
    engine, ids = store
    with unit_of_work(engine) as session:
        run = reconcile.start_run(session, dry_run=False)
    assert run.id is not None
    done = reconcile.run_detectors(engine, run.id, as_of=date(2026, 11, 1))
    assert done.counts[duplicates.KIND] == 1

    listed = runner.invoke(
        app,
        ["reconcile", "findings", str(run.id), "--kind", duplicates.KIND],
        env=_env(engine),
    )
    assert listed.exit_code == 0, listed.output
    assert "1000000018+1000000026" in listed.output

    entries = _entries(engine, "reconcile")
    assert sorted(e.person_id for e in entries) == sorted((ids["1000000018"], ids["1000000026"]))
    assert {(e.actor, e.target) for e in entries} == {("cli", "hub reconcile findings")}


def test_persons_shown_resolves_numbers_in_nested_documents(
    store: tuple[Engine, dict[str, int]],
) -> None:
    engine, ids = store
    documents = [
        (None, {"facts": [{"personal_no": "1000000034"}], "personal_nos": ["1000000026"]}),
        (ids["1000000018"], [{"payload": {"personalNo": "1000000018"}}, None]),
        (None, {"personal_no": "2000000000"}),  # nobody's number: nobody to audit
    ]
    with Session(engine) as session:
        persons = audit.persons_shown(session, documents)
    assert sorted(persons) == sorted(ids.values())
    assert persons[-1] == ids["1000000018"]


def test_nothing_shown_nothing_audited(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    listed = runner.invoke(app, ["review", "list"], env=_env(engine))
    assert listed.exit_code == 0, listed.output
    assert "no pairs waiting" in listed.output
    assert _entries(engine, "review") == []
    engine.dispose()
