"""The consumer views served from PostgreSQL, the production store, answer as from SQLite.

The views' statements are compiled per dialect and run on the driver's own cursor
(hub.store.prepared), so each dialect's binding and typing is checked for real: the
same population, ingested into both stores, must give the same answers, audited.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from hub.api import create_app
from hub.audit.service import verify
from hub.settings import Settings
from mocks.core.server import RunningRegistries, serve_app
from tests.api.conftest import PERSON_ROUTES, Hub, key_maker
from tests.conftest import Population
from tests.support.postgres import temporary_database
from tests.support.problems import assert_problem
from tests.support.registries import fast_settings, first_record
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
    found = [
        first_record(population.dir, "sas", "beneficiaries", having="case_no"),
        first_record(population.dir, "emis", "certificates", having="revoked_on"),
        first_record(population.dir, "emis", "certificates", having="certificate_no"),
    ]
    numbers = [str(record["personal_no"]) for record in found]
    return numbers + _plain_persons(population.dir, 5)


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
