"""/v1/reconciliations as an operator sees it: start a run, poll it, read and apply findings."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from hub.audit.models import AuditEntry
from hub.audit.service import person_ids_of, personal_nos_in
from hub.reconcile.detectors import KINDS
from hub.sync.models import OutboxMessage
from tests.api.conftest import Hub

PROBLEM = "application/problem+json"
FINDING_FIELDS = sorted(
    (
        "id",
        "kind",
        "subject_key",
        "person_id",
        "evidence",
        "proposed_action",
        "status",
        "applied_at",
    )
)
NO_ACTION = "person_with_two_personal_numbers"


def _fields(problem: httpx.Response) -> list[str]:
    """The invalid fields a 422 names, without where they were ("query.limit" is "limit")."""
    return [name.rsplit(".", 1)[-1] for name in problem.json()["invalid_fields"]]


def wait_done(client: httpx.Client, location: str, *, timeout: float = 60) -> dict[str, Any]:
    """Poll a run until it is no longer running (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(location)
        assert response.status_code == 200, response.text
        run: dict[str, Any] = response.json()
        assert 0 <= run["progress"] <= 100
        if run["status"] != "running":
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {location} still running after {timeout} s")


@pytest.fixture(scope="module")
def operator(hub: Hub) -> httpx.Client:
    """A client registered for reconcile:run."""
    return hub.client(hub.new_key("reconcile:run"))


@pytest.fixture(scope="module")
def started(operator: httpx.Client, reference_day: date) -> httpx.Response:
    """The answer to starting a run as on the generated world's day."""
    return operator.post("/v1/reconciliations", json={"as_of": reference_day.isoformat()})


@pytest.fixture(scope="module")
def run(operator: httpx.Client, started: httpx.Response) -> dict[str, Any]:
    """That run, polled until done."""
    return wait_done(operator, started.headers["location"])


def _findings(client: httpx.Client, run_id: int, **params: Any) -> dict[str, Any]:
    response = client.get(f"/v1/reconciliations/{run_id}/findings", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _open_finding_of(client: httpx.Client, run_id: int, kind: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = _findings(client, run_id, kind=kind, limit=500)["items"]
    for item in items:
        if item["status"] == "open":
            return item
    raise AssertionError(f"no open {kind} finding in run {run_id}")


def test_without_a_key_the_answer_is_401(hub: Hub) -> None:
    with hub.client() as client:
        response = client.post("/v1/reconciliations", json={})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/reconciliations"),
        ("GET", "/v1/reconciliations/1"),
        ("GET", "/v1/reconciliations/1/findings"),
        ("POST", "/v1/reconciliations/1/findings/1/apply"),
    ],
)
def test_a_key_without_reconcile_run_is_403(hub: Hub, method: str, path: str) -> None:
    with hub.client(hub.new_key("sync:operate", "person:read")) as client:
        response = client.request(method, path)
    assert response.status_code == 403
    assert response.json()["type"] == "https://ura.example/problems/forbidden"


def test_starting_answers_202_with_the_run_and_where_to_follow_it(
    started: httpx.Response,
) -> None:
    assert started.status_code == 202, started.text
    body = started.json()
    assert started.headers["location"] == f"/v1/reconciliations/{body['id']}"
    # the detectors work after the answer: it shows the run as just started
    assert body == {
        "id": body["id"],
        "status": "running",
        "dry_run": False,
        "progress": 0,
        "counts": {},
        "started_at": body["started_at"],
        "finished_at": None,
        "error": None,
    }


def test_a_polled_run_ends_done_with_counts_per_kind(run: dict[str, Any]) -> None:
    assert run["status"] == "done", run["error"]
    assert run["progress"] == 100
    assert set(run["counts"]) == set(KINDS)
    assert sum(run["counts"].values()) > 0
    assert run["finished_at"] is not None


def test_findings_are_paged_with_their_total(operator: httpx.Client, run: dict[str, Any]) -> None:
    first = _findings(operator, run["id"], limit=5)
    second = _findings(operator, run["id"], limit=5, offset=5)
    assert first["total"] == second["total"] == sum(run["counts"].values())
    assert len(first["items"]) == len(second["items"]) == 5
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
    assert sorted(first["items"][0]) == FINDING_FIELDS
    kind = max(run["counts"], key=run["counts"].get)
    only = _findings(operator, run["id"], kind=kind, limit=500)
    assert only["total"] == run["counts"][kind]
    assert {item["kind"] for item in only["items"]} == {kind}


def test_each_person_on_a_findings_page_is_audited(hub: Hub, run: dict[str, Any]) -> None:
    name = "findings-reader"
    with hub.client(hub.new_key("reconcile:run", name=name)) as client:
        response = client.get(f"/v1/reconciliations/{run['id']}/findings", params={"limit": 20})
    assert response.status_code == 200
    items = response.json()["items"]
    persons = {item["person_id"] for item in items} - {None}
    persons |= _persons_of(hub, [n for item in items for n in personal_nos_in(item["evidence"])])
    with Session(hub.engine) as session:
        entries = session.exec(select(AuditEntry).where(col(AuditEntry.actor) == name)).all()
    assert sorted(e.person_id for e in entries if e.person_id is not None) == sorted(persons)
    assert len(entries) == len(persons), "one entry per person, however many findings"
    for entry in entries:
        assert entry.action == "read"
        assert entry.purpose == "reconcile:run"
        assert entry.fields == FINDING_FIELDS
        assert entry.target == "/v1/reconciliations/{run_id}/findings"
        assert entry.request_id == response.headers["x-request-id"]


def test_both_persons_of_a_duplicate_finding_are_audited(hub: Hub, run: dict[str, Any]) -> None:
    """A person_with_two_personal_numbers finding shows a second person's number: their
    read is audited as theirs, not only the finding's own person's."""
    name = "duplicates-reader"
    with hub.client(hub.new_key("reconcile:run", name=name)) as client:
        page = _findings(client, run["id"], kind=NO_ACTION, limit=1)
    (finding,) = page["items"]
    numbers = finding["evidence"]["personal_nos"]
    persons = _persons_of(hub, numbers)
    assert len(numbers) >= 2
    assert len(persons) == len(numbers)
    assert finding["person_id"] in persons
    with Session(hub.engine) as session:
        entries = session.exec(select(AuditEntry).where(col(AuditEntry.actor) == name)).all()
    assert {e.person_id for e in entries} == persons
    assert len(entries) == len(persons)


def _persons_of(hub: Hub, numbers: list[str]) -> set[int]:
    with Session(hub.engine) as session:
        return {p for found in person_ids_of(session, numbers).values() for p in found}


def test_applying_a_finding_queues_its_fix_once(
    hub: Hub, operator: httpx.Client, run: dict[str, Any]
) -> None:
    kind = next(k for k in KINDS if k != NO_ACTION and run["counts"][k])
    finding = _open_finding_of(operator, run["id"], kind)
    apply = f"/v1/reconciliations/{run['id']}/findings/{finding['id']}/apply"

    response = operator.post(apply)

    assert response.status_code == 200, response.text
    applied = response.json()
    assert applied["status"] == "applied"
    assert applied["applied_at"] is not None
    assert applied["proposed_action"] == finding["proposed_action"]
    key = f"reconcile:{kind}:{finding['subject_key']}"
    with Session(hub.engine) as session:
        queued = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.idempotency_key) == key)
        ).one()
    assert (queued.flow, queued.state) == ("reconcile", "pending")
    assert queued.target_registry == finding["proposed_action"]["target"]
    assert queued.operation == finding["proposed_action"]["operation"]
    with hub.client(hub.new_key("sync:operate")) as ops:
        outbox = ops.get("/v1/outbox", params={"state": "pending", "limit": 500}).json()
    assert queued.id in {m["id"] for m in outbox["items"]}

    again = operator.post(apply)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/conflict")
    assert "applied, not open" in again.json()["detail"]


def test_a_finding_proposing_nothing_cannot_be_applied(
    operator: httpx.Client, run: dict[str, Any]
) -> None:
    assert run["counts"][NO_ACTION], "the generated population plants duplicate persons"
    finding = _open_finding_of(operator, run["id"], NO_ACTION)
    response = operator.post(f"/v1/reconciliations/{run['id']}/findings/{finding['id']}/apply")
    assert response.status_code == 422
    assert "proposes no action" in response.json()["detail"]


def test_a_dry_run_counts_but_lists_no_findings(
    operator: httpx.Client, reference_day: date
) -> None:
    response = operator.post(
        "/v1/reconciliations", json={"dry_run": True, "as_of": reference_day.isoformat()}
    )
    assert response.status_code == 202
    assert response.json()["dry_run"] is True
    done = wait_done(operator, response.headers["location"])
    assert done["status"] == "done"
    assert sum(done["counts"].values()) > 0
    assert _findings(operator, done["id"]) == {"total": 0, "items": []}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/reconciliations/999999",
        "/v1/reconciliations/999999/findings",
    ],
)
def test_an_unknown_run_is_404(operator: httpx.Client, path: str) -> None:
    response = operator.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert "no reconciliation run 999999" in response.json()["detail"]


def test_an_unknown_finding_is_404(operator: httpx.Client, run: dict[str, Any]) -> None:
    for path in (
        f"/v1/reconciliations/{run['id']}/findings/999999999/apply",
        "/v1/reconciliations/999999/findings/1/apply",
    ):
        response = operator.post(path)
        assert response.status_code == 404, path
        assert response.json()["type"] == "https://ura.example/problems/not-found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"dry_run": "perhaps"}, "dry_run"),
        ({"dryrun": True}, "dryrun"),
    ],
)
def test_an_invalid_start_is_422_naming_the_field(
    operator: httpx.Client, body: dict[str, Any], field: str
) -> None:
    response = operator.post("/v1/reconciliations", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert _fields(response) == [field]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "bad_kind"}, "kind"),
        ({"limit": 0}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_an_invalid_findings_query_is_422(
    operator: httpx.Client, run: dict[str, Any], params: dict[str, Any], field: str
) -> None:
    response = operator.get(f"/v1/reconciliations/{run['id']}/findings", params=params)
    assert response.status_code == 422
    assert _fields(response) == [field]


def test_an_id_no_database_could_hold_is_422(operator: httpx.Client) -> None:
    response = operator.get(f"/v1/reconciliations/{2**64}")
    assert response.status_code == 422
    assert _fields(response) == ["run_id"]
