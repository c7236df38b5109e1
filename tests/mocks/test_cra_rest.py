"""CRA mock over real HTTP: persons and households as the civil register holds them."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mocks.core.auth import AuthConfig
from mocks.core.server import serve_app
from mocks.cra.app import create_app

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Population

USER, PASSWORD = "ura-hub", "cra-test-secret"
PROBLEMS = "https://cra.example.rks/problems/"


@pytest.fixture(scope="module")
def cra(population: Population) -> Iterator[httpx.Client]:
    auth = AuthConfig(kind="basic", username=USER, password=PASSWORD)
    with (
        serve_app(create_app(population.dir, auth=auth)) as url,
        httpx.Client(base_url=url, auth=(USER, PASSWORD), timeout=30) as client,
    ):
        yield client


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def persons(population: Population) -> dict[str, dict[str, Any]]:
    return {p["personal_no"]: p for p in _records(population.dir / "cra" / "persons.jsonl")}


@pytest.fixture(scope="module")
def households(population: Population) -> dict[str, dict[str, Any]]:
    return {h["household_id"]: h for h in _records(population.dir / "cra" / "households.jsonl")}


def test_person_lookup_answers_the_register_with_a_household_summary(
    cra: httpx.Client,
    persons: dict[str, dict[str, Any]],
    households: dict[str, dict[str, Any]],
) -> None:
    for personal_no in sorted(persons)[::15]:
        person = persons[personal_no]
        body = cra.get(f"/v1/persons/{personal_no}").raise_for_status().json()
        household = body.pop("household")
        assert body == person
        if person["household_id"] is None:
            assert household is None
            continue
        record = households[person["household_id"]]
        relations = {m["personal_no"]: m["relation"] for m in record["members"]}
        assert household == {
            "household_id": record["household_id"],
            "head_personal_no": record["head_personal_no"],
            "relation": relations.get(personal_no),
            "member_count": len(record["members"]),
        }


def test_cyrillic_names_come_back_as_registered(
    cra: httpx.Client, persons: dict[str, dict[str, Any]]
) -> None:
    person = next(p for p in persons.values() if p["name_script"] == "Cyrl")
    body = cra.get(f"/v1/persons/{person['personal_no']}").json()
    assert (body["first_name"], body["last_name"]) == (person["first_name"], person["last_name"])


def test_a_deceased_person_is_answered_with_the_death(
    cra: httpx.Client, population: Population
) -> None:
    for case in population.manifest["planted"]["dead_person_still_paid"]:
        body = cra.get(f"/v1/persons/{case['personal_no']}").json()
        assert (body["status"], body["death_date"]) == ("deceased", case["death_date"])


def test_household_lookup_answers_every_member(
    cra: httpx.Client, households: dict[str, dict[str, Any]]
) -> None:
    for household_id in sorted(households)[::20]:
        body = cra.get(f"/v1/households/{household_id}").raise_for_status().json()
        assert body == households[household_id]


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("/v1/persons/1234567891", "person-not-found"),
        ("/v1/households/HH-9999999", "household-not-found"),
    ],
)
def test_unknown_is_404_problem_without_the_identifier(
    cra: httpx.Client, url: str, slug: str
) -> None:
    response = cra.get(url)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEMS + slug
    assert url.rsplit("/", 1)[1] not in response.text


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/v1/persons/0123456789", "personal_no"),
        ("/v1/persons/12345", "personal_no"),
        ("/v1/persons/x123456789", "personal_no"),
        ("/v1/households/hh-0000001", "household_id"),
        ("/v1/households/HH-1", "household_id"),
    ],
)
def test_malformed_identifier_is_422_naming_it(cra: httpx.Client, url: str, parameter: str) -> None:
    response = cra.get(url)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == PROBLEMS + "invalid-request"
    assert [e["parameter"] for e in problem["errors"]] == [parameter]


def test_basic_credentials_are_required(cra: httpx.Client) -> None:
    wrong = base64.b64encode(f"{USER}:wrong".encode()).decode()
    for headers in ({}, {"Authorization": f"Basic {wrong}"}):
        response = httpx.get(f"{cra.base_url}/v1/persons/1234567891", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Basic realm="cra"'
        assert response.json()["type"] == PROBLEMS + "unauthorized"
