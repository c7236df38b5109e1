"""Hostile numbers, dates and bodies sent to a live hub: each is refused with the status the
contract names (422 for a value out of range, 405 with ``Allow``), nothing is stored (no run,
no job, no appeal, no decision), and the server answers normally afterwards.

Out-of-range values used to get through: an offset past 2**63 reached the database driver (a
500 on both databases), a run as of 0001-01-01 was accepted with a 202 and its job failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from hub.access.service import add_client
from hub.api import create_app
from hub.api.contract import CONTRACT_FILE
from hub.api.params import DAY_PATTERN, PERSONAL_NO_PATTERN
from hub.canonical import Suspension
from hub.decisions.models import Appeal, SuspensionEvent
from hub.jobs.models import Job
from hub.reconcile import service as reconcile
from hub.reconcile.detectors import KINDS
from hub.reconcile.models import ReconciliationRun
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.sync.models import OutboxMessage
from mocks.core.server import RunningRegistries, serve_app
from tests.api.conftest import Hub, api_store, running_hub  # noqa: F401 (api_store: a fixture)
from tests.support.postgres import temporary_database
from tests.support.registries import fast_settings

PROBLEM = "application/problem+json"
HUGE = str(2**63)  # 9223372036854775808: one past the largest 64-bit integer
OUT_OF_RANGE = [HUGE, "99999999999999999999999999", "-1", "1e3", "0x10", ""]
ABSURD_DAYS = ["0001-01-01", "1899-12-31", "9999-12-31", "2999-01-01", "2026-02-30", "today"]
_STORED = (ReconciliationRun, Job, OutboxMessage, Appeal, SuspensionEvent)


@pytest.fixture(scope="module")
def hub(
    api_store: Path,  # noqa: F811
    registries: RunningRegistries,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Hub]:
    with running_hub(api_store, registries, tmp_path_factory.mktemp("hostile")) as running:
        yield running


def _key(engine: Engine, name: str, *scopes: str, offices: tuple[str, ...] = ()) -> str:
    with unit_of_work(engine) as session:
        _client, key = add_client(
            session, name=name, scopes=list(scopes), offices=offices, rate_limit_per_minute=60_000
        )
    return key


@pytest.fixture(scope="module")
def suspension(hub: Hub) -> Suspension:
    with Session(hub.engine) as session:
        found = session.execute(select(Suspension).order_by(col(Suspension.id))).scalars().first()
    assert found is not None, "the filled store holds suspensions"
    assert found.office_code
    return found


@pytest.fixture(scope="module")
def caller(hub: Hub, suspension: Suspension) -> Iterator[httpx.Client]:
    """A client holding every scope the routes below need, for the suspension's office."""
    key = _key(
        hub.engine,
        "hostile-tester",
        "reconcile:run",
        "sync:operate",
        "suspension:decide",
        offices=(suspension.office_code or "",),
    )
    with hub.client(key) as client:
        yield client


@pytest.fixture(scope="module")
def run_id(hub: Hub) -> int:
    """A run whose findings the offset tests page through (no detector needs to run)."""
    with unit_of_work(hub.engine) as session:
        run = reconcile.start_run(session, dry_run=False)
        assert run.id is not None
        return run.id


def _counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            table.__name__: int(
                session.execute(select(func.count()).select_from(table)).scalar_one()
            )
            for table in _STORED
        }


def _refused(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def _still_answers(client: httpx.Client) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/jobs", params={"limit": 1}).status_code == 200


@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize("name", ["offset", "limit"])
def test_a_findings_page_out_of_range_is_422(
    hub: Hub, caller: httpx.Client, run_id: int, name: str, value: str
) -> None:
    before = _counts(hub.engine)
    response = caller.get(f"/v1/reconciliations/{run_id}/findings", params={name: value})
    assert _refused(response)["invalid_fields"] == [name]
    assert _counts(hub.engine) == before
    assert caller.get(f"/v1/reconciliations/{run_id}/findings").status_code == 200
    _still_answers(caller)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/reconciliations/{run}/findings", {"offset": "1000001"}),
        ("/v1/reconciliations/{run}/findings", {"limit": "501"}),
        ("/v1/reconciliations/{run}/findings", {"kind": "x" * 10_000}),
        ("/v1/syncs", {"limit": HUGE}),
        ("/v1/jobs", {"limit": "0"}),
        ("/v1/outbox", {"limit": HUGE}),
        ("/v1/outbox", {"state": "nonsense"}),
        ("/v1/suspension-proposals", {"offset": HUGE}),
        ("/v1/suspension-proposals", {"limit": "201"}),
        ("/v1/reconciliations/" + HUGE, {}),
        ("/v1/reconciliations/0", {}),
        ("/v1/reconciliations/{run}/findings/-1/apply", {}),
        ("/v1/jobs/" + HUGE, {}),
        ("/v1/suspensions/" + HUGE, {}),
        ("/v1/persons/0123456789/refusals", {}),
        ("/v1/persons/12345678901/refusals", {}),
        ("/v1/persons/\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660/refusals", {}),
    ],
)
def test_every_bounded_parameter_refuses_what_lies_outside(
    hub: Hub, caller: httpx.Client, run_id: int, path: str, params: dict[str, str]
) -> None:
    before = _counts(hub.engine)
    url = path.format(run=run_id)
    method = "POST" if url.endswith("/apply") else "GET"
    _refused(caller.request(method, url, params=params))
    assert _counts(hub.engine) == before
    _still_answers(caller)


@pytest.mark.parametrize("day", ABSURD_DAYS)
def test_a_reconciliation_as_of_an_absurd_day_is_422_and_starts_nothing(
    hub: Hub, caller: httpx.Client, day: str
) -> None:
    before = _counts(hub.engine)
    response = caller.post("/v1/reconciliations", json={"as_of": day})
    assert _refused(response)["invalid_fields"] == ["as_of"]
    assert _counts(hub.engine) == before  # no run row, no job row
    _still_answers(caller)


@pytest.mark.parametrize("day", ABSURD_DAYS)
def test_a_sync_as_of_an_absurd_day_is_422_and_queues_nothing(
    hub: Hub, caller: httpx.Client, day: str
) -> None:
    before = _counts(hub.engine)
    response = caller.post("/v1/syncs/suspensions/runs", json={"as_of": day, "ingest": False})
    assert _refused(response)["invalid_fields"] == ["as_of"]
    assert _counts(hub.engine) == before  # no job row
    _still_answers(caller)


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("confirm", {"starts_on": "0001-01-01", "reason": "hostile input"}),
        ("confirm", {"starts_on": "9999-12-20", "reason": "hostile input"}),
        ("confirm", {"starts_on": "2026-01-10", "ends_on": "9999-12-31", "reason": "hostile"}),
        ("appeals", {"grounds": "hostile input", "lodged_on": "0001-01-01"}),
        ("appeals", {"grounds": "hostile input", "lodged_on": "9999-12-31"}),
    ],
)
def test_a_decision_on_an_absurd_day_is_422_and_decides_nothing(
    hub: Hub, caller: httpx.Client, suspension: Suspension, action: str, body: dict[str, str]
) -> None:
    before = _counts(hub.engine)
    response = caller.post(f"/v1/suspensions/{suspension.id}/{action}", json=body)
    _refused(response)
    assert _counts(hub.engine) == before  # no appeal, no event of the suspension
    with Session(hub.engine) as session:
        stored = session.get(Suspension, suspension.id)
        assert stored is not None
        assert stored.status == suspension.status
    _still_answers(caller)


@pytest.mark.parametrize(
    "content",
    [b'{"as_of": "\xff\xfe"}', b"\xff\xfe\x00{", b'{"as_of": ', b"[" * 10_000, b"null" * 3],
    ids=["latin-1", "utf-16-bom", "truncated", "deep", "garbage"],
)
def test_an_undecodable_body_is_422_and_stores_nothing(
    hub: Hub, caller: httpx.Client, content: bytes
) -> None:
    before = _counts(hub.engine)
    response = caller.post(
        "/v1/reconciliations", content=content, headers={"Content-Type": "application/json"}
    )
    assert _refused(response)["invalid_fields"] == ["body"]
    assert _counts(hub.engine) == before
    _still_answers(caller)


def test_a_method_a_route_does_not_take_is_405_with_allow(
    caller: httpx.Client, run_id: int
) -> None:
    response = caller.delete(f"/v1/reconciliations/{run_id}")
    _refused(response, 405)
    assert response.headers["allow"] == "GET"
    response = caller.put("/v1/reconciliations")
    _refused(response, 405)
    assert response.headers["allow"] == "POST"
    _still_answers(caller)


@pytest.mark.postgres
def test_an_offset_past_64_bits_is_422_on_postgresql(
    registries: RunningRegistries, reference_day: date
) -> None:
    with temporary_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        with unit_of_work(engine) as session:
            run = reconcile.start_run(session, dry_run=False)
            run_id = run.id
        key = _key(engine, "hostile-pg", "reconcile:run", "sync:operate")
        settings = fast_settings(registries).model_copy(update={"database_url": url})
        try:
            with (
                serve_app(create_app(settings)) as served,
                httpx.Client(
                    base_url=served, headers={"Authorization": f"Bearer {key}"}, timeout=30
                ) as client,
            ):
                before = _counts(engine)
                for name in ("offset", "limit"):
                    response = client.get(
                        f"/v1/reconciliations/{run_id}/findings", params={name: HUGE}
                    )
                    assert _refused(response)["invalid_fields"] == [name]
                response = client.post("/v1/reconciliations", json={"as_of": "0001-01-01"})
                _refused(response)
                assert _counts(engine) == before
                page = client.get(f"/v1/reconciliations/{run_id}/findings", params={"offset": 0})
                assert page.status_code == 200, page.text
                assert page.json() == {"total": 0, "items": []}
                _still_answers(client)
        finally:
            engine.dispose()


def _contract() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))
    return document


def _parameters(*, prefix: str = "", exclude: str = "\0") -> list[tuple[str, dict[str, Any]]]:
    """(operation, parameter) for every parameter of the contract's operations."""
    found = []
    for path, operations in _contract()["paths"].items():
        if not path.startswith(prefix) or path.startswith(exclude):
            continue
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                found.append((f"{method.upper()} {path}", parameter))
    return found


def test_the_contract_bounds_every_number_and_day() -> None:
    for operation, parameter in _parameters():
        if parameter["name"] == "personal_no":
            continue  # the tests below
        schema = parameter["schema"]
        types = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
        if "integer" in types:
            bounded = schema if "maximum" in schema else schema["anyOf"][0]
            assert "minimum" in bounded, (operation, parameter["name"])
            assert "maximum" in bounded, (operation, parameter["name"])
        if "string" in types:
            assert schema.get("maxLength") or schema.get("enum") or schema.get("pattern"), (
                operation,
                parameter["name"],
            )
    bodies = _contract()["components"]["schemas"]
    for name in ("ReconciliationRequest", "SyncRunRequest", "ConfirmRequest", "AppealRequest"):
        for field, schema in bodies[name]["properties"].items():
            for option in schema.get("anyOf", [schema]):
                if option.get("format") == "date":
                    assert option["pattern"] == DAY_PATTERN, (name, field)
    kinds = bodies["FindingPublic"]["properties"]["kind"]["enum"]
    assert kinds == list(KINDS)


def test_the_contract_declares_every_status_an_operation_can_answer() -> None:
    for path, operations in _contract()["paths"].items():
        if path in ("/healthz", "/readyz"):
            continue
        for method, operation in operations.items():
            declared = set(operation["responses"])
            expected = {"401", "403", "422", "429", "503"}
            if method == "post":
                expected |= {"413"}
            assert expected <= declared, (method, path, sorted(expected - declared))


def test_the_refusal_history_states_the_personal_number_pattern() -> None:
    numbers = [p for _, p in _parameters(prefix="/v1/persons/") if p["name"] == "personal_no"]
    refusals = _contract()["paths"]["/v1/persons/{personal_no}/refusals"]["get"]
    assert refusals["parameters"][0]["schema"]["pattern"] == PERSONAL_NO_PATTERN
    assert numbers


def test_every_person_route_states_the_personal_number_pattern() -> None:
    numbers = [p for _, p in _parameters(prefix="/v1/persons/") if p["name"] == "personal_no"]
    assert len(numbers) == 4
    assert {p["schema"].get("pattern") for p in numbers} == {PERSONAL_NO_PATTERN}
