"""On PostgreSQL the audit log is append-only: the hub's role can add entries, never change,
delete or truncate them, even when granted those privileges (migration 0007)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from hub.audit import service as audit
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import current_revision, downgrade, upgrade
from tests.support.postgres import temporary_database

pytestmark = pytest.mark.postgres

REFUSALS = [
    "UPDATE audit_entry SET purpose = 'altered' WHERE id = 1",
    "DELETE FROM audit_entry WHERE id = 1",
    "TRUNCATE audit_entry",
]


@pytest.fixture
def migrated() -> Iterator[str]:
    """A migrated PostgreSQL store with two audit entries, as its owner (the migrating role)."""
    with temporary_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        _append(engine, n=2)
        engine.dispose()
        yield url


@pytest.fixture
def hub_role(migrated: str) -> Iterator[str]:
    """The URL of a role like the hub's: not the owner, granted everything on the tables."""
    role = f"ura_hub_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(migrated).set(drivername="postgresql")
    with psycopg.connect(admin_url.render_as_string(hide_password=False), autocommit=True) as db:
        db.execute(f"CREATE ROLE {role} LOGIN")
        db.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        db.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
        try:
            yield make_url(migrated).set(username=role).render_as_string(hide_password=False)
        finally:
            db.execute(f"DROP OWNED BY {role}")
            db.execute(f"DROP ROLE {role}")


def _append(engine: Engine, *, n: int) -> None:
    for i in range(n):
        with unit_of_work(engine) as session:
            audit.append(
                session, action="read", actor="sas-portal", purpose="sa-status:read",
                person_id=1, fields=["sa_status"], target="GET /persons/{pn}/sa-status",
                request_id=f"req-{i}",
            )  # fmt: skip


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM audit_entry")).scalar_one())


@pytest.mark.parametrize("statement", REFUSALS)
def test_the_hub_role_cannot_change_delete_or_truncate_audit_entries(
    hub_role: str, statement: str
) -> None:
    engine = make_engine(hub_role)
    _append(engine, n=1)  # it appends, as the hub must
    assert _count(engine) == 3
    with pytest.raises(DBAPIError) as refused, engine.begin() as connection:
        connection.execute(text(statement))
    assert isinstance(refused.value.orig, psycopg.errors.InsufficientPrivilege)
    assert "audit_entry is append-only" in str(refused.value.orig)
    assert _count(engine) == 3
    with Session(engine) as session:  # nothing changed: the chain still verifies
        assert audit.verify(session).ok
    engine.dispose()


@pytest.mark.parametrize("statement", REFUSALS)
def test_even_the_owner_is_refused_while_the_trigger_stands(migrated: str, statement: str) -> None:
    engine = make_engine(migrated)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    assert _count(engine) == 2
    engine.dispose()


def test_downgrade_drops_the_trigger_and_upgrade_restores_it(migrated: str) -> None:
    engine = make_engine(migrated)
    downgrade(engine, "0006")
    assert current_revision(engine) == "0006"
    assert _triggers(engine) == set()
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_entry SET purpose = 'altered' WHERE id = 1"))
    upgrade(engine)
    assert _triggers(engine) == {
        "audit_entry_no_update_or_delete",
        "audit_entry_no_truncate",
    }
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry"))
    assert "audit_entry" in inspect(engine).get_table_names()
    engine.dispose()


def _triggers(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_entry'::regclass "
                "AND NOT tgisinternal"
            )
        )
        return {name for (name,) in rows}
