"""TAK mock over real HTTP: employment lookups answer what the tax registry holds."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mocks.core.auth import AuthConfig
from mocks.core.server import serve_app
from mocks.tak.app import create_app

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Population

API_KEY = "tak-test-key"
PROBLEMS = "https://tak.example.rks/problems/"


@pytest.fixture(scope="module")
def tak(population: Population) -> Iterator[httpx.Client]:
    app = create_app(population.dir, auth=AuthConfig(kind="api_key", api_key=API_KEY))
    with (
        serve_app(app) as url,
        httpx.Client(base_url=url, headers={"X-API-Key": API_KEY}, timeout=30) as client,
    ):
        yield client


def _by_person(path: Path) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        grouped[record["personal_no"]].append(record)
    return grouped


def _month(period: str) -> int:
    year, month = period.split("-")
    return int(year) * 12 + int(month)


def test_every_lookup_answers_the_registry_files(tak: httpx.Client, population: Population) -> None:
    """Contracts in full, declarations of the twelve latest periods TAK has processed."""
    contracts = _by_person(population.dir / "tak" / "contracts.jsonl")
    declarations = _by_person(population.dir / "tak" / "declarations.jsonl")
    latest = max(_month(d["period"]) for ds in declarations.values() for d in ds)
    for personal_no in sorted(contracts.keys() | declarations.keys()):
        body = tak.get(f"/v1/persons/{personal_no}/employment").raise_for_status().json()
        recent = [d for d in declarations[personal_no] if _month(d["period"]) > latest - 12]
        assert body == {
            "personal_no": personal_no,
            "contracts": sorted(
                contracts[personal_no], key=lambda c: (c["start_date"], c["contract_id"])
            ),
            "declarations": sorted(recent, key=lambda d: (d["period"], d["declaration_id"])),
        }


def test_a_jobseeker_with_active_payroll_shows_a_running_contract(
    tak: httpx.Client, population: Population
) -> None:
    planted = population.manifest["planted"]["jobseeker_with_active_payroll"]
    for case in planted:
        body = tak.get(f"/v1/persons/{case['personal_no']}/employment").json()
        active = [c for c in body["contracts"] if c["end_date"] is None]
        assert case["employer_tin"] in {c["employer_tin"] for c in active}
        assert {"2026-09", "2026-10"} & {d["period"] for d in body["declarations"]}


def test_unknown_person_is_404_problem_without_the_number(tak: httpx.Client) -> None:
    response = tak.get("/v1/persons/1234567891/employment")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == PROBLEMS + "person-not-found"
    assert problem["status"] == 404
    assert "1234567891" not in response.text


@pytest.mark.parametrize("personal_no", ["123", "0123456789", "12345678901", "12345abcde"])
def test_malformed_personal_number_is_422_naming_it(tak: httpx.Client, personal_no: str) -> None:
    response = tak.get(f"/v1/persons/{personal_no}/employment")
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == PROBLEMS + "invalid-request"
    assert problem["errors"][0]["parameter"] == "personal_no"
    assert personal_no not in response.text


def test_a_full_feed_page_is_quick_once_rendered(tak: httpx.Client) -> None:
    """1,000 changes: rendered once, then served from the rendered bytes."""
    first = tak.get("/v1/changes", params={"limit": 1000})
    again = tak.get("/v1/changes", params={"limit": 1000})
    assert len(again.json()["items"]) == min(1000, len(first.json()["items"]))
    assert again.content == first.content
    assert again.elapsed.total_seconds() < 0.5
