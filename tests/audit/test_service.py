"""The audit chain on SQLite and PostgreSQL: appended, verified, tampered with, exported."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from fixtures.ids import luhn_check_digit
from hub.access import service as access
from hub.audit import service as audit
from hub.audit.chain import GENESIS_HASH
from hub.audit.models import AuditEntry
from hub.canonical.persons import PERSONAL_NO_SCHEME, Person, PersonIdentifier
from hub.cli.main import app
from hub.errors import InvalidInput
from hub.store.engine import unit_of_work

runner = CliRunner()
PN_ANA, PN_BEKIM, PN_NOBODY = (
    p + luhn_check_digit(p) for p in ("123456789", "223456789", "323456789")
)


def _env(engine: Engine) -> dict[str, str]:
    url = engine.url.render_as_string(hide_password=False)
    return {"HUB_DATABASE_URL": url, "HUB_LOG_FORMAT": "json"}


def _person(engine: Engine, personal_no: str) -> int:
    with unit_of_work(engine) as session:
        person = Person(first_name="Ana", last_name="Krasniqi")
        session.add(person)
        session.flush()
        assert person.id is not None
        session.add(
            PersonIdentifier(
                person_id=person.id, scheme=PERSONAL_NO_SCHEME, value=personal_no,
                source_registry="cra", as_of=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )  # fmt: skip
        return person.id


def _append(
    engine: Engine, person_id: int | None, *, n: int = 1, actor: str = "sas-portal"
) -> list[int]:
    ids = []
    for i in range(n):
        with unit_of_work(engine) as session:
            entry = audit.append(
                session,
                action="read",
                actor=actor,
                purpose="sa-status:read",
                person_id=person_id,
                fields=["since", "sa_status", "since"],
                target="GET /persons/{pn}/sa-status",
                request_id=f"req-{actor}-{i}",
            )
            assert entry.id is not None
            ids.append(entry.id)
    return ids


def tamper(engine: Engine, statement: str, **params: object) -> None:
    """Change the log as someone with the database's superuser can: on PostgreSQL past the
    append-only trigger (migration 0007), which refuses it to every role otherwise."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.execute(text(statement), params)


def _verify(engine: Engine) -> audit.VerifyResult:
    with Session(engine) as session:
        return audit.verify(session, batch_size=3)  # small batches: the walk crosses them


def test_appended_entries_chain_and_verify(engine: Engine) -> None:
    assert _verify(engine) == audit.VerifyResult(True, 0)
    ids = _append(engine, 1, n=7)
    with Session(engine) as session:
        entries = [session.get(AuditEntry, i) for i in ids]
    hashes = [(e.prev_hash, e.entry_hash) for e in entries if e is not None]
    assert [prev for prev, _ in hashes] == [GENESIS_HASH] + [h for _, h in hashes[:-1]]
    assert all(e is not None and e.fields == ["sa_status", "since"] for e in entries)
    assert _verify(engine) == audit.VerifyResult(True, 7, head_hash=hashes[-1][1], head_id=ids[-1])

    verified = runner.invoke(app, ["audit", "verify"], env=_env(engine))
    assert verified.exit_code == 0, verified.output
    assert "chain intact: 7 entries" in verified.stdout


@pytest.mark.parametrize(
    "tampering",
    [
        "UPDATE audit_entry SET purpose = 'person:read' WHERE id = :id",
        "UPDATE audit_entry SET person_id = 2 WHERE id = :id",
        "UPDATE audit_entry SET fields = '[\"sa_status\"]' WHERE id = :id",
    ],
)
def test_an_entry_altered_in_the_database_is_named_by_verify(
    engine: Engine, tampering: str
) -> None:
    ids = _append(engine, 1, n=6)
    tamper(engine, tampering, id=ids[3])

    verified = runner.invoke(app, ["audit", "verify"], env=_env(engine))
    assert verified.exit_code == 1, verified.output
    assert f"chain broken at entry {ids[3]}:" in verified.stdout
    assert "was altered" in verified.stdout
    assert "3 entries before it are intact" in verified.stdout


def test_an_entry_altered_and_rehashed_breaks_the_next_link(engine: Engine) -> None:
    ids = _append(engine, 1, n=4)
    tamper(engine, "UPDATE audit_entry SET entry_hash = :h WHERE id = :id", h="f" * 64, id=ids[1])
    result = _verify(engine)
    assert (result.ok, result.first_broken_id) == (False, ids[1])  # its hash no longer fits
    tamper(engine, "DELETE FROM audit_entry WHERE id = :id", id=ids[1])
    result = _verify(engine)
    assert (result.ok, result.first_broken_id) == (False, ids[2])


def test_a_deleted_middle_entry_is_detected(engine: Engine) -> None:
    ids = _append(engine, 1, n=5)
    tamper(engine, "DELETE FROM audit_entry WHERE id = :id", id=ids[2])
    verified = runner.invoke(app, ["audit", "verify"], env=_env(engine))
    assert verified.exit_code == 1, verified.output
    assert f"chain broken at entry {ids[3]}:" in verified.stdout
    assert f"entry {ids[1]} before it" in verified.stdout


def test_a_deleted_first_entry_is_detected(engine: Engine) -> None:
    ids = _append(engine, 1, n=3)
    tamper(engine, "DELETE FROM audit_entry WHERE id = :id", id=ids[0])
    result = _verify(engine)
    assert (result.ok, result.first_broken_id, result.checked) == (False, ids[1], 0)


def test_concurrent_appends_keep_one_chain(engine: Engine) -> None:
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            _append(engine, 1, n=10, actor=name)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(f"client-{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _verify(engine).checked == 60
    assert _verify(engine).ok


def test_an_append_after_other_writes_in_the_same_transaction(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        access.add_client(session, name="dispatcher-test", scopes=["sync:operate"])
        audit.append_many(
            session,
            events=[
                audit.AuditEvent("delivery", "dispatcher", "certificates", 1, ["status"],
                                 "sas.RecordCertificate", None),
                audit.AuditEvent("delivery", "dispatcher", "certificates", 2, ["status"],
                                 "sas.RecordCertificate", None),
            ],
        )  # fmt: skip
    assert _verify(engine).checked == 2


def test_entries_that_would_leak_or_not_fit_are_refused(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        for change, field in [
            ({"target": f"GET /persons/{PN_ANA}/sa-status"}, "target"),
            ({"purpose": "p" * 49}, "purpose"),
            ({"actor": ""}, "actor"),
            ({"action": "update"}, "action"),
        ]:
            arguments = {
                "action": "read", "actor": "a", "purpose": "p", "person_id": 1,
                "fields": [], "target": "t", "request_id": None,
            } | change  # fmt: skip
            with pytest.raises(InvalidInput) as refused:
                audit.append(session, **arguments)  # type: ignore[arg-type]
            assert refused.value.field == field
            assert PN_ANA not in str(refused.value)


def test_export_lists_who_saw_that_person_only_and_logs_no_personal_number(
    engine: Engine,
) -> None:
    ana, bekim = _person(engine, PN_ANA), _person(engine, PN_BEKIM)
    _append(engine, ana, n=2, actor="sas-portal")
    _append(engine, bekim, n=3, actor="cms-desk")
    _append(engine, ana, n=1, actor="employment-office")

    with Session(engine) as session:
        found = audit.export_person(session, personal_no=PN_ANA)
    assert found.person_ids == [ana]
    assert [e.actor for e in found.entries] == ["sas-portal", "sas-portal", "employment-office"]
    assert {e.person_id for e in found.entries} == {ana}

    exported = runner.invoke(
        app, ["audit", "export", "--person", PN_ANA, "--json"], env=_env(engine)
    )
    assert exported.exit_code == 0, exported.output
    assert '"actor": "employment-office"' in exported.stdout
    assert "cms-desk" not in exported.stdout
    assert '"audit export"' in exported.stderr  # the JSON log line is there ...
    assert PN_ANA not in exported.stderr  # ... without the personal number
    assert PN_ANA not in exported.stdout

    wide = _env(engine) | {"COLUMNS": "200"}
    table = runner.invoke(app, ["audit", "export", "--person", PN_ANA], env=wide)
    assert table.exit_code == 0, table.output
    assert "employment-office" in table.stdout
    assert "cms-desk" not in table.stdout
    assert PN_ANA not in table.output


def test_export_of_unknown_or_invalid_numbers(engine: Engine) -> None:
    unknown = runner.invoke(app, ["audit", "export", "--person", PN_NOBODY], env=_env(engine))
    assert unknown.exit_code == 0, unknown.output
    assert "no person in the hub has this personal number" in unknown.stdout
    _person(engine, PN_BEKIM)
    unseen = runner.invoke(app, ["audit", "export", "--person", PN_BEKIM], env=_env(engine))
    assert "nobody has read or received" in unseen.stdout

    bad = PN_ANA[:-1] + str((int(PN_ANA[-1]) + 1) % 10)
    invalid = runner.invoke(app, ["audit", "export", "--person", bad], env=_env(engine))
    assert invalid.exit_code == 2
    assert "check digit" in invalid.stderr
    assert bad not in invalid.output
    with Session(engine) as session, pytest.raises(InvalidInput):
        audit.export_person(session, personal_no="12345")
