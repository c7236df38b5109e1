"""CMS mock over real HTTP: returnee lookups and the idempotent writes the hub makes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mocks.cms.app import create_app
from mocks.core.auth import AuthConfig
from mocks.core.server import serve_app

if TYPE_CHECKING:
    from tests.conftest import Population

API_KEY = "cms-test-key"
PROBLEMS = "https://cms.example.rks/problems/"
REGISTRATION = {
    "emis_registered": True,
    "jobseeker_id": "JS-0000077",
    "employment_status": "unemployed",
    "as_of": "2026-11-05",
}


@pytest.fixture(scope="module")
def returnees(population: Population) -> list[dict[str, Any]]:
    """Returnees as the generator wrote them, open cases last; each test writes to its own."""
    lines = (population.dir / "cms" / "returnees.jsonl").read_text(encoding="utf-8").splitlines()
    everyone = [json.loads(line) for line in lines]
    return sorted(everyone, key=lambda r: r["case_status"] == "open")


@pytest.fixture(scope="module")
def cms(population: Population) -> Iterator[httpx.Client]:
    app = create_app(population.dir, auth=AuthConfig(kind="api_key", api_key=API_KEY))
    with (
        serve_app(app) as url,
        httpx.Client(base_url=url, headers={"X-API-Key": API_KEY}, timeout=30) as client,
    ):
        yield client


def _register(
    client: httpx.Client, returnee_id: str, key: str | None, body: dict[str, Any] = REGISTRATION
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    url = f"/v1/returnees/{returnee_id}/employment-registration"
    return client.put(url, json=body, headers=headers)


def _close(
    client: httpx.Client, returnee_id: str, key: str, reason: str = "deceased"
) -> httpx.Response:
    body = {"reason": reason, "effective_date": "2026-11-04"}
    url = f"/v1/returnees/{returnee_id}/case-closure"
    return client.post(url, json=body, headers={"Idempotency-Key": key})


def _applied(client: httpx.Client, operation: str) -> tuple[int, int]:
    stats = client.get("/admin/stats").json()["idempotency"]
    return stats["applied"].get(operation, 0), stats["replayed"].get(operation, 0)


def _feed_end(client: httpx.Client) -> str:
    params: dict[str, Any] = {"limit": 1000}
    while True:
        page = client.get("/v1/changes", params=params).json()
        params["since"] = page["next_cursor"]
        if not page["has_more"]:
            return str(page["next_cursor"])


def _changes_since(client: httpx.Client, cursor: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/changes", params={"since": cursor}).json()[
        "items"
    ]
    return items


# --- lookups -------------------------------------------------------------------------------------


def test_lookup_returns_the_returnee_as_registered(
    cms: httpx.Client, returnees: list[dict[str, Any]]
) -> None:
    known = returnees[0]
    body = cms.get(f"/v1/returnees/{known['returnee_id']}").json()
    assert {k: body[k] for k in known} == known
    assert body["jobseeker_id"] is None
    assert body["closure_reason"] is None


def test_search_by_personal_number_lists_that_persons_returnees(
    cms: httpx.Client, population: Population
) -> None:
    lines = (population.dir / "cms" / "returnees.jsonl").read_text(encoding="utf-8").splitlines()
    everyone = [json.loads(line) for line in lines]
    personal_no = next(r["personal_no"] for r in everyone if r["personal_no"])
    expected = sorted(r["returnee_id"] for r in everyone if r["personal_no"] == personal_no)
    found = cms.get("/v1/returnees", params={"personal_no": personal_no}).json()["items"]
    assert [r["returnee_id"] for r in found] == expected


def test_search_without_a_match_is_an_empty_list(cms: httpx.Client) -> None:
    response = cms.get("/v1/returnees", params={"personal_no": "1234567891"})
    assert response.status_code == 200
    assert response.json() == {"items": []}


def test_unknown_returnee_is_404_problem(cms: httpx.Client) -> None:
    response = cms.get("/v1/returnees/RT-9999999")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEMS + "returnee-not-found"
    assert "RT-9999999" not in response.text


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/v1/returnees/rt-1", "returnee_id"),
        ("/v1/returnees/RT-00000001", "returnee_id"),
        ("/v1/returnees?personal_no=0123456789", "personal_no"),
        ("/v1/returnees", "personal_no"),
    ],
)
def test_malformed_identifiers_are_422_naming_the_parameter(
    cms: httpx.Client, url: str, parameter: str
) -> None:
    response = cms.get(url)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == PROBLEMS + "invalid-request"
    assert [e["parameter"] for e in problem["errors"]] == [parameter]
    assert "0123456789" not in response.text


# --- employment registration ---------------------------------------------------------------------


def test_registration_updates_the_returnee_in_lookup_and_feed(
    cms: httpx.Client, returnees: list[dict[str, Any]]
) -> None:
    rid = returnees[1]["returnee_id"]
    cursor = _feed_end(cms)
    response = _register(cms, rid, "reg-visible")
    assert response.status_code == 200
    assert "idempotent-replayed" not in response.headers
    looked_up = cms.get(f"/v1/returnees/{rid}").json()
    assert response.json() == looked_up
    assert looked_up["emis_registered"] is True
    assert looked_up["jobseeker_id"] == "JS-0000077"
    assert looked_up["employment_status"] == "unemployed"
    assert looked_up["employment_as_of"] == "2026-11-05"
    changes = _changes_since(cms, cursor)
    assert [(c["kind"], c["data"]) for c in changes] == [("returnee", looked_up)]


def test_replay_answers_the_original_and_is_not_applied_twice(
    cms: httpx.Client, returnees: list[dict[str, Any]]
) -> None:
    rid = returnees[2]["returnee_id"]
    applied, replayed = _applied(cms, "employment-registration")
    cursor = _feed_end(cms)
    first = _register(cms, rid, "reg-replay")
    again = _register(cms, rid, "reg-replay")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert _applied(cms, "employment-registration") == (applied + 1, replayed + 1)
    received = cms.get("/admin/received", params={"operation": "employment-registration"}).json()
    assert [r["payload"]["returnee_id"] for r in received if r["key"] == "reg-replay"] == [rid]
    assert len(_changes_since(cms, cursor)) == 1


def test_same_key_with_another_body_is_409_and_changes_nothing(
    cms: httpx.Client, returnees: list[dict[str, Any]]
) -> None:
    rid, other = returnees[3]["returnee_id"], returnees[4]["returnee_id"]
    assert _register(cms, rid, "reg-conflict").status_code == 200
    cursor = _feed_end(cms)
    changed = {**REGISTRATION, "employment_status": "employed"}
    for response in (
        _register(cms, rid, "reg-conflict", changed),
        _register(cms, other, "reg-conflict"),
    ):
        assert response.status_code == 409
        assert response.json()["type"] == PROBLEMS + "idempotency-conflict"
    assert _changes_since(cms, cursor) == []
    assert cms.get(f"/v1/returnees/{rid}").json()["employment_status"] == "unemployed"


def test_write_without_idempotency_key_is_400_and_not_applied(
    cms: httpx.Client, returnees: list[dict[str, Any]]
) -> None:
    before = _applied(cms, "employment-registration")
    for key in (None, ""):
        response = _register(cms, returnees[5]["returnee_id"], key)
        assert response.status_code == 400
        assert response.json()["type"] == PROBLEMS + "idempotency-key-missing"
    assert _applied(cms, "employment-registration") == before


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"employment_status": "retired"}, "/employment_status"),
        ({"as_of": "2026-02-30"}, "/as_of"),
        ({"emis_registered": "maybe"}, "/emis_registered"),
        ({"jobseeker_id": ""}, "/jobseeker_id"),
        ({"nickname": "x"}, "/nickname"),
    ],
)
def test_invalid_body_is_422_naming_the_field(
    cms: httpx.Client, returnees: list[dict[str, Any]], change: dict[str, Any], pointer: str
) -> None:
    response = _register(
        cms, returnees[5]["returnee_id"], f"reg-invalid-{pointer}", {**REGISTRATION, **change}
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == PROBLEMS + "invalid-request"
    assert [e["pointer"] for e in problem["errors"]] == [pointer]
    assert "retired" not in response.text


def test_missing_field_is_named(cms: httpx.Client, returnees: list[dict[str, Any]]) -> None:
    body = {k: v for k, v in REGISTRATION.items() if k != "as_of"}
    response = _register(cms, returnees[5]["returnee_id"], "reg-missing", body)
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/as_of"]


def test_write_to_unknown_returnee_is_404_and_leaves_the_key_unused(
    cms: httpx.Client, returnees: list[dict[str, Any]]
) -> None:
    missing = _register(cms, "RT-9999999", "reg-unknown")
    assert missing.status_code == 404
    assert missing.json()["type"] == PROBLEMS + "returnee-not-found"
    assert _register(cms, returnees[6]["returnee_id"], "reg-unknown").status_code == 200


def test_a_write_failed_by_the_registry_is_applied_once_on_retry(
    cms: httpx.Client, returnees: list[dict[str, Any]]
) -> None:
    rid = returnees[7]["returnee_id"]
    applied, _ = _applied(cms, "employment-registration")
    cms.put("/admin/faults", json={"fail_next": 1, "error_status": 503, "retry_after": 1})
    try:
        failed = _register(cms, rid, "reg-retry")
    finally:
        cms.delete("/admin/faults")
    assert failed.status_code == 503
    assert failed.headers["retry-after"] == "1"
    assert _register(cms, rid, "reg-retry").status_code == 200
    assert _register(cms, rid, "reg-retry").headers["idempotent-replayed"] == "true"
    assert _applied(cms, "employment-registration")[0] == applied + 1


def test_write_without_credentials_is_401_and_not_applied(
    cms: httpx.Client, returnees: list[dict[str, Any]]
) -> None:
    before = _applied(cms, "employment-registration")
    url = f"{cms.base_url}/v1/returnees/{returnees[8]['returnee_id']}/employment-registration"
    response = httpx.put(url, json=REGISTRATION, headers={"Idempotency-Key": "reg-anon"})
    assert response.status_code == 401
    assert response.json()["type"] == PROBLEMS + "unauthorized"
    assert _applied(cms, "employment-registration") == before


# --- case closure ------------------------------------------------------------------------------


def test_case_closure_closes_the_case_once(
    cms: httpx.Client, returnees: list[dict[str, Any]]
) -> None:
    assert returnees[-1]["case_status"] == "open"
    rid = returnees[-1]["returnee_id"]
    cursor = _feed_end(cms)
    closed = _close(cms, rid, "close-1")
    assert closed.status_code == 200
    body = closed.json()
    assert (body["case_status"], body["closure_reason"], body["closed_on"]) == (
        "closed",
        "deceased",
        "2026-11-04",
    )
    replay = _close(cms, rid, "close-1")
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == body
    # closing a closed case again (new key) changes nothing
    again = _close(cms, rid, "close-2", reason="other")
    assert again.status_code == 200
    assert again.json() == body
    changes = _changes_since(cms, cursor)
    assert [c["data"] for c in changes] == [body]
    assert cms.get(f"/v1/returnees/{rid}").json() == body
    assert _applied(cms, "case-closure")[1] >= 1


def test_a_body_that_is_not_json_is_422_pointing_at_the_whole_body(
    cms: httpx.Client, returnees: list[dict[str, Any]]
) -> None:
    response = cms.put(
        f"/v1/returnees/{returnees[5]['returnee_id']}/employment-registration",
        content=b"{emis_registered: yes",
        headers={"Idempotency-Key": "reg-not-json", "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == [""]
