"""The consumer views served from PostgreSQL, the production store, answer as from SQLite.

The views' statements are compiled per dialect and, on PostgreSQL, run on libpq
asynchronously (hub.store.prepared), so each dialect's binding and typing is checked for
real: the same population, ingested into both stores, must give the same answers,
audited. A read waiting on the database, or an audit entry waiting for the chain's lock,
does not hold up the process's other requests.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from hub.access import keys
from hub.access.service import CLIENTS_BY_KEY, revoke_client
from hub.api import create_app
from hub.api.persons.views import SOCIAL_ASSISTANCE
from hub.audit.models import AuditEntry
from hub.audit.service import CHAIN_LOCK_KEY, verify
from hub.settings import Settings
from hub.store.engine import unit_of_work
from hub.store.prepared import DriverReads
from mocks.core.server import RunningRegistries, serve_app
from tests.api.conftest import PERSON_ROUTES, Hub, key_maker
from tests.conftest import Population
from tests.support.postgres import temporary_database
from tests.support.problems import assert_problem
from tests.support.registries import (
    BENEFICIARY,
    CERTIFICATE_HOLDER,
    REVOKED_HOLDER,
    fast_settings,
    personal_numbers,
)
from tests.support.store import fill_store

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_hub(registries: RunningRegistries, reference_day: date) -> Iterator[Hub]:
    """The API over a PostgreSQL store filled from the same mocks as the SQLite one."""
    with temporary_database() as url:
        engine = fill_store(url, registries, reference_day)
        settings: Settings = fast_settings(registries).model_copy(update={"database_url": url})
        with serve_app(create_app(settings)) as served:
            yield Hub(url=served, engine=engine, settings=settings, new_key=key_maker(engine))
        engine.dispose()


@pytest.fixture(scope="module")
def sample(population: Population) -> list[str]:
    """Personal numbers covering every shape of answer: payments, certificates, neither."""
    found = personal_numbers(population.dir, BENEFICIARY, REVOKED_HOLDER, CERTIFICATE_HOLDER)
    return found + _plain_persons(population.dir, 5)


def _plain_persons(folder: Path, n: int) -> list[str]:
    lines = (folder / "cra" / "persons.jsonl").read_text(encoding="utf-8").splitlines()
    return [str(json.loads(line)["personal_no"]) for line in lines[-n:]]


def _comparable(scope: str, body: dict[str, Any]) -> dict[str, Any]:
    """Person ids, ingestion times and the order of lists may differ between two stores."""
    if scope != "person:read":
        return body
    return {
        **body,
        "person_id": None,
        "updated_at": None,
        "identifiers": sorted(body["identifiers"], key=repr),
        "attributes": sorted(body["attributes"], key=repr),
    }


@pytest.mark.parametrize("scope", list(PERSON_ROUTES))
def test_postgresql_answers_what_sqlite_answers(
    pg_hub: Hub, hub: Hub, sample: list[str], scope: str
) -> None:
    pg_key, sqlite_key = pg_hub.new_key(scope), hub.new_key(scope)
    with pg_hub.client(pg_key) as on_pg, hub.client(sqlite_key) as on_sqlite:
        for personal_no in sample:
            path = PERSON_ROUTES[scope].format(personal_no=personal_no)
            answer, expected = on_pg.get(path), on_sqlite.get(path)
            assert answer.status_code == expected.status_code == 200, answer.text
            assert _comparable(scope, answer.json()) == _comparable(scope, expected.json())


def test_reads_from_postgresql_are_audited_in_an_intact_chain(
    pg_hub: Hub, sample: list[str]
) -> None:
    key = pg_hub.new_key("sa-status:read", name="pg-ea-portal")
    with pg_hub.client(key) as client:
        answers = [
            client.get(PERSON_ROUTES["sa-status:read"].format(personal_no=pn)) for pn in sample
        ]
    assert {answer.status_code for answer in answers} == {200}
    with Session(pg_hub.engine) as session:
        result = verify(session)
    assert result.ok, result.reason
    assert result.checked >= len(sample)


def test_postgresql_refuses_unknown_and_malformed_numbers_as_sqlite_does(
    pg_hub: Hub, sample: list[str]
) -> None:
    key = pg_hub.new_key("person:read")
    bad_check_digit = sample[0][:9] + str((int(sample[0][9]) + 1) % 10)
    with pg_hub.client(key) as client:
        assert_problem(client.get("/v1/persons/1234567897"), 404, "not-found")
        assert_problem(client.get(f"/v1/persons/{bad_check_digit}"), 422, "invalid-input")


def test_concurrent_reads_are_each_audited_once_in_an_intact_chain(
    pg_hub: Hub, sample: list[str]
) -> None:
    """Many reads at once: the recorder commits them in groups, asynchronously."""
    key = pg_hub.new_key("sa-status:read", "certificate:read", name="pg-busy-portal")
    paths = [
        PERSON_ROUTES[scope].format(personal_no=pn)
        for pn in sample
        for scope in ("sa-status:read", "certificate:read")
    ] * 10
    before = _audit_entries(pg_hub.engine)
    with pg_hub.client(key) as client, ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda path: client.get(path).status_code, paths))
    assert statuses == [200] * len(paths)
    assert _audit_entries(pg_hub.engine) == before + len(paths)
    with Session(pg_hub.engine) as session:
        result = verify(session)
    assert result.ok, result.reason


def test_a_read_waiting_on_the_database_does_not_hold_up_other_requests(
    pg_hub: Hub, sample: list[str]
) -> None:
    """Another transaction locks the table of benefit cases: the social-assistance read
    waits for it in the database while the same process answers certificate reads."""
    key = pg_hub.new_key("sa-status:read", "certificate:read", name="pg-waiting-portal")
    blocked_path = PERSON_ROUTES["sa-status:read"].format(personal_no=sample[0])
    other_path = PERSON_ROUTES["certificate:read"].format(personal_no=sample[1])
    with (
        pg_hub.client(key) as client,
        _holding(
            pg_hub.settings.database_url, "LOCK TABLE benefit_case IN ACCESS EXCLUSIVE MODE"
        ) as release,
    ):
        blocked: list[httpx.Response] = []
        waiting = threading.Thread(target=lambda: blocked.append(client.get(blocked_path)))
        waiting.start()
        time.sleep(0.5)
        assert waiting.is_alive()  # the read waits for the lock
        started = time.monotonic()
        answered = [client.get(other_path) for _ in range(5)]
        took = time.monotonic() - started
        assert waiting.is_alive()  # still waiting, while the others were answered
        release()
        waiting.join(10)
    assert [answer.status_code for answer in answered] == [200] * 5
    assert took < 3
    assert [answer.status_code for answer in blocked] == [200]


def test_a_read_whose_audit_entry_waits_too_long_for_the_chain_is_refused(
    pg_hub: Hub, sample: list[str]
) -> None:
    """Another process holds the chain's lock: the read waits for it (asynchronously, the
    process answers meanwhile) as long as its patience, then is refused; once the lock is
    free, reads are answered and audited again."""
    settings = pg_hub.settings.model_copy(update={"audit_lock_wait_seconds": 0.5})
    key = pg_hub.new_key("sa-status:read", name="pg-patient-portal")
    path = PERSON_ROUTES["sa-status:read"].format(personal_no=sample[0])
    before = _audit_entries(pg_hub.engine)
    with (
        serve_app(create_app(settings)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        headers = {"Authorization": f"Bearer {key}"}
        with _holding(pg_hub.settings.database_url, f"SELECT pg_advisory_lock({CHAIN_LOCK_KEY})"):
            refused: list[httpx.Response] = []
            started = time.monotonic()
            waiting = threading.Thread(
                target=lambda: refused.append(client.get(path, headers=headers))
            )
            waiting.start()
            time.sleep(0.1)
            assert client.get("/healthz").status_code == 200  # answered during the wait
            waiting.join(10)
            waited = time.monotonic() - started
        answered = client.get(path, headers=headers)
    problem = assert_problem(refused[0], 503, "audit-unavailable")
    assert "locked by another writer for 0.5 s" in problem["detail"]
    assert sample[0] not in refused[0].text
    assert 0.5 <= waited < 5
    assert answered.status_code == 200
    assert _audit_entries(pg_hub.engine) == before + 1  # the answered read only


class _Release:
    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def __call__(self) -> None:
        if not self._connection.closed:
            self._connection.rollback()
            self._connection.close()


@contextmanager
def _holding(url: str, statement: str) -> Iterator[_Release]:
    """Another session that runs ``statement`` in an open transaction until released."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = psycopg.connect(dsn)
    connection.execute(statement)
    release = _Release(connection)
    try:
        yield release
    finally:
        release()


def _audit_entries(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_a_view_reads_the_person_only_for_an_active_key(pg_hub: Hub, sample: list[str]) -> None:
    """The key's look-up and the view go to the database in one round trip; the view reads
    nothing unless the key is known and not revoked. A key revoked between two reads is
    refused at the very next one (nothing is cached), and no entry is audited for it."""
    key = pg_hub.new_key("sa-status:read", name="pg-revoked-portal")
    path = PERSON_ROUTES["sa-status:read"].format(personal_no=sample[0])
    with pg_hub.client(key) as client:
        assert client.get(path).status_code == 200
        with unit_of_work(pg_hub.engine) as session:
            revoke_client(session, name="pg-revoked-portal")
        before = _audit_entries(pg_hub.engine)
        assert_problem(client.get(path), 401, "unauthenticated")
    assert _audit_entries(pg_hub.engine) == before

    async def view_rows(digest: str) -> list[dict[str, object]]:
        reads = DriverReads(pg_hub.engine, connections=1)
        try:
            _clients, rows = await reads.together(
                (CLIENTS_BY_KEY, {"digest": digest, "prefix": "ura_unknown"}),
                (SOCIAL_ASSISTANCE.gated, {"number": sample[0], "digest": digest}),
            )
            return rows
        finally:
            await reads.aclose()

    active = pg_hub.new_key("sa-status:read", name="pg-active-portal")
    assert asyncio.run(view_rows(keys.digest(active)))  # the person, read
    assert asyncio.run(view_rows(keys.digest(key))) == []  # revoked: nothing read
    assert asyncio.run(view_rows(keys.digest(active + "x"))) == []  # unknown: nothing read
