"""Wrong keys sent to a live hub: a real client's prefix with a wrong rest, a revoked key and
garbage each get a 401 problem, store nothing, and leave the server answering; four senders
of wrong keys do not slow a legitimate client down; and a malformed body sent without a
valid key is a 401, not a 422 that would answer a stranger's question.

Wrong keys used to cost 30-44 ms of PBKDF2 each on the event loop: four such senders raised
a legitimate client's median latency from 7.5 ms to 356 ms, and the time told whether a
prefix existed.
"""

from __future__ import annotations

import io
import json
import secrets
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from hub.access import keys
from hub.access.models import ApiClient
from hub.access.service import add_client, revoke_client
from hub.api.contract import CONTRACT_FILE
from hub.api.problems import KEYED_PREFIX
from hub.audit.models import AuditEntry
from hub.canonical import PersonIdentifier
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.decisions.models import Appeal, SuspensionEvent
from hub.jobs.models import Job
from hub.log import configure_logging
from hub.reconcile.models import ReconciliationRun
from hub.store.engine import unit_of_work
from hub.sync.models import OutboxMessage
from mocks.core.server import RunningRegistries
from tests.api.conftest import Hub, api_store, running_hub  # noqa: F401 (api_store: a fixture)

PROBLEM = "application/problem+json"
BAD_JSON = b"{bad"
LEGIT = "legit-reader"
OWNER = "prefix-owner"
REVOKED = "revoked-reader"
ROUTES = ("/v1/persons/{pn}", "/v1/jobs")
GARBAGE: list[bytes | None] = [
    None,
    b"",
    b"Bearer",
    b"Bearer ura_",
    b"Basic dXNlcjpwYXNzd29yZA==",
    b"Token ura_" + b"A" * 43,
    b"Bearer ura_short",
    b"Bearer ura_" + b"%" * 43,
    b"Bearer ura_" + b"A" * 5_000,
    b"Bearer ura_" + b"\xe9" * 43,
    b"Bearer ura_" + b"A" * 20 + b" " + b"A" * 22,
    b"Bearer URA_" + b"A" * 43,
    b"Bearer Bearer ura_" + b"A" * 43,
]
HAMMER_SECONDS = 3.0
HAMMERS = 4


@pytest.fixture(scope="module")
def hub(
    api_store: Path,  # noqa: F811
    registries: RunningRegistries,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Hub]:
    with running_hub(api_store, registries, tmp_path_factory.mktemp("hostile-keys")) as running:
        yield running


def _key(engine: Engine, name: str, *scopes: str) -> str:
    with unit_of_work(engine) as session:
        _client, key = add_client(
            session, name=name, scopes=list(scopes), rate_limit_per_minute=600_000
        )
    return key


@pytest.fixture(scope="module")
def legit_key(hub: Hub) -> str:
    """A reader that also queues runs and reads jobs: the client wrong keys must not hurt."""
    return _key(hub.engine, LEGIT, "person:read", "reconcile:run", "sync:operate")


@pytest.fixture(scope="module")
def owner_key(hub: Hub) -> str:
    """A client whose prefix the wrong keys borrow; it never sends a request itself."""
    return _key(hub.engine, OWNER, "person:read", "reconcile:run", "sync:operate")


@pytest.fixture(scope="module")
def revoked_key(hub: Hub) -> str:
    key = _key(hub.engine, REVOKED, "person:read", "reconcile:run", "sync:operate")
    with unit_of_work(hub.engine) as session:
        revoke_client(session, name=REVOKED)
    return key


@pytest.fixture(scope="module")
def personal_no(hub: Hub) -> str:
    """A person of the store: a read the key admitted would be audited."""
    with Session(hub.engine) as session:
        number = session.execute(
            select(col(PersonIdentifier.value))
            .where(col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME)
            .order_by(col(PersonIdentifier.id))
            .limit(1)
        ).scalar_one()
    return str(number)


@pytest.fixture(scope="module")
def legit(hub: Hub, legit_key: str, personal_no: str) -> Iterator[httpx.Client]:
    with hub.client(legit_key) as client:
        answer = client.get(f"/v1/persons/{personal_no}")
        assert answer.status_code == 200, answer.text
        yield client


def _wrong_rest(key: str) -> str:
    """A key of the same shape and prefix as ``key``, with another secret."""
    tail = secrets.token_urlsafe(48)[: len(key) - keys.PREFIX_LENGTH]
    return key[: keys.PREFIX_LENGTH] + tail


def _stored(engine: Engine) -> dict[str, int]:
    """What an admitted request would have left: runs, jobs, deliveries, decisions, and audit
    entries of anyone but the legitimate client (its own reads are audited, rightly)."""
    counts = {}
    with Session(engine) as session:
        for table in (ReconciliationRun, Job, OutboxMessage, Appeal, SuspensionEvent):
            counts[table.__name__] = session.execute(
                select(func.count()).select_from(table)
            ).scalar_one()
        counts["audit"] = session.execute(
            select(func.count()).select_from(AuditEntry).where(col(AuditEntry.actor) != LEGIT)
        ).scalar_one()
    return counts


def _send(
    hub: Hub,
    method: str,
    url: str,
    authorization: bytes | None,
    *,
    content: bytes | None = None,
    json: Any = None,
) -> httpx.Response:
    """One request from a fresh connection, ``authorization`` sent as it is (None: no header)."""
    headers = {b"Content-Type": b"application/json"}
    if authorization is not None:
        headers[b"Authorization"] = authorization
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        return client.request(method, url, headers=headers, content=content, json=json)


def _unauthenticated(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == 'Bearer realm="ura-hub"'
    body: dict[str, Any] = response.json()
    assert body["status"] == 401
    assert body["type"].endswith("/unauthenticated")
    return body


def _refused_everywhere(
    hub: Hub, legit: httpx.Client, personal_no: str, authorization: bytes | None
) -> list[httpx.Response]:
    """Send ``authorization`` to a person read, a job list and a run start: each is a 401,
    nothing is stored, and the legitimate client is still answered."""
    before = _stored(hub.engine)
    answers = [_send(hub, "GET", route.format(pn=personal_no), authorization) for route in ROUTES]
    answers.append(_send(hub, "POST", "/v1/reconciliations", authorization, json={}))
    for answer in answers:
        _unauthenticated(answer)
    time.sleep(0.2)  # the audit recorder writes after the answer: give it the time
    assert _stored(hub.engine) == before
    assert legit.get(f"/v1/persons/{personal_no}").status_code == 200
    assert legit.get("/v1/jobs", params={"limit": 1}).status_code == 200
    return answers


def test_a_known_prefix_with_a_wrong_rest_is_401_and_stores_nothing(
    hub: Hub, legit: httpx.Client, owner_key: str, personal_no: str
) -> None:
    wrong = _wrong_rest(owner_key)
    assert wrong != owner_key
    assert keys.looks_like_key(wrong)
    for answer in _refused_everywhere(hub, legit, personal_no, f"Bearer {wrong}".encode()):
        assert OWNER not in answer.text
        assert owner_key[: keys.PREFIX_LENGTH] not in answer.text


def test_a_revoked_key_is_401_and_stores_nothing(
    hub: Hub, legit: httpx.Client, revoked_key: str, personal_no: str
) -> None:
    for answer in _refused_everywhere(hub, legit, personal_no, f"Bearer {revoked_key}".encode()):
        assert "revoked" in answer.json()["detail"]


@pytest.mark.parametrize("authorization", GARBAGE, ids=lambda value: repr(value)[:24])
def test_garbage_in_the_authorization_header_is_401_and_stores_nothing(
    hub: Hub, legit: httpx.Client, personal_no: str, authorization: bytes | None
) -> None:
    _refused_everywhere(hub, legit, personal_no, authorization)


def test_the_401_does_not_tell_whether_a_prefix_exists(
    hub: Hub, owner_key: str, personal_no: str
) -> None:
    unknown = keys.generate_key()
    with Session(hub.engine) as session:
        prefixes = set(session.execute(select(col(ApiClient.key_prefix))).scalars())
    assert owner_key[: keys.PREFIX_LENGTH] in prefixes
    assert unknown[: keys.PREFIX_LENGTH] not in prefixes
    for route in ROUTES:
        url = route.format(pn=personal_no)
        known = _send(hub, "GET", url, f"Bearer {_wrong_rest(owner_key)}".encode())
        nobody = _send(hub, "GET", url, f"Bearer {unknown}".encode())
        bodies = [_unauthenticated(answer) for answer in (known, nobody)]
        for body in bodies:
            body.pop("request_id")
        assert bodies[0] == bodies[1]
        names = ("content-type", "www-authenticate")  # the length differs with the request id
        assert [known.headers[n] for n in names] == [nobody.headers[n] for n in names]


def test_failed_authentications_are_security_events_without_key_material(
    hub: Hub, owner_key: str, revoked_key: str, personal_no: str
) -> None:
    wrong = _wrong_rest(owner_key)
    stream = io.StringIO()
    configure_logging(level="INFO", fmt="json", stream=stream)  # the server shares the process
    try:
        sent = {
            kind: _send(hub, "GET", f"/v1/persons/{personal_no}", f"Bearer {key}".encode())
            for kind, key in (("wrong rest", wrong), ("revoked", revoked_key))
        }
        ids = {answer.headers["x-request-id"] for answer in sent.values()}
        events = _security_events(stream, ids)
    finally:
        configure_logging(level="INFO", fmt="json")
    assert {event["request_id"] for event in events} == ids
    for event in events:
        assert (event["kind"], event["status"]) == ("unauthenticated", 401)
        assert event["route"] == "/v1/persons/{personal_no}"
    log = stream.getvalue()
    for secret in (wrong, revoked_key, owner_key, wrong[len(keys.KEY_MARK) :]):
        assert secret not in log
    assert wrong[keys.PREFIX_LENGTH :] not in log
    assert owner_key[: keys.PREFIX_LENGTH] not in log
    assert personal_no not in log


def _security_events(stream: io.StringIO, ids: set[str]) -> list[dict[str, Any]]:
    """The security events of these requests, once each has been logged (after its answer)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(text) for text in stream.getvalue().splitlines() if text]
        events = [
            line
            for line in lines
            if line.get("event") == "security_event" and line.get("request_id") in ids
        ]
        if len(events) >= len(ids) or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def _contract_posts() -> list[tuple[str, dict[str, Any]]]:
    document = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))
    return [
        (path, operations["post"])
        for path, operations in document["paths"].items()
        if "post" in operations
    ]


def _concrete(path: str, operation: dict[str, Any]) -> str:
    """``path`` with each parameter set to a value its schema admits (an id of nothing)."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        schema = parameter["schema"]
        value = schema["enum"][0] if "enum" in schema else "1"
        path = path.replace("{" + parameter["name"] + "}", str(value))
    return path


POSTS = _contract_posts()


def test_every_keyed_operation_of_the_contract_lies_under_the_keyed_prefix() -> None:
    document = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            keyed = bool(operation.get("security"))
            assert keyed == path.startswith(KEYED_PREFIX), (method, path)
            if keyed:
                assert "401" in operation["responses"], (method, path)
    assert len(POSTS) >= 9


@pytest.mark.parametrize(("path", "operation"), POSTS, ids=[path for path, _ in POSTS])
def test_a_malformed_body_without_a_valid_key_is_401_not_422(
    hub: Hub,
    legit: httpx.Client,
    owner_key: str,
    personal_no: str,
    path: str,
    operation: dict[str, Any],
) -> None:
    url = _concrete(path, operation)
    before = _stored(hub.engine)
    for authorization in (None, f"Bearer {_wrong_rest(owner_key)}".encode()):
        malformed = _send(hub, "POST", url, authorization, content=BAD_JSON)
        well_formed = _send(hub, "POST", url, authorization, json={})  # the dependency's 401
        bodies = [_unauthenticated(answer) for answer in (malformed, well_formed)]
        for body in bodies:
            body.pop("request_id")
        assert bodies[0] == bodies[1]
    if "requestBody" in operation:  # a caller it admits is told what is wrong with the body
        told = legit.post(url, content=BAD_JSON, headers={"Content-Type": "application/json"})
        assert told.status_code == 422, told.text
        assert told.headers["content-type"] == PROBLEM
        assert told.json()["invalid_fields"] == ["body"]
    time.sleep(0.2)
    assert _stored(hub.engine) == before
    assert legit.get(f"/v1/persons/{personal_no}").status_code == 200


def test_a_malformed_path_without_a_key_is_401_and_with_one_422(
    hub: Hub, legit: httpx.Client
) -> None:
    """The consumer reads check the key first thing, after FastAPI checks the path."""
    stranger = _send(hub, "GET", "/v1/persons/0123456789", None)
    _unauthenticated(stranger)
    told = legit.get("/v1/persons/0123456789")
    assert told.status_code == 422, told.text
    assert told.json()["invalid_fields"] == ["personal_no"]


def _hammer(hub: Hub, headers: list[bytes], stop: threading.Event, statuses: list[int]) -> None:
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        turn = 0
        while not stop.is_set():
            authorization = headers[turn % len(headers)]
            turn += 1
            answer = client.get("/v1/jobs", headers={b"Authorization": authorization})
            statuses.append(answer.status_code)


def _median_under(
    hub: Hub, client: httpx.Client, url: str, headers: list[bytes]
) -> tuple[float, list[int]]:
    """The median latency of ``client`` reading ``url`` while :data:`HAMMERS` threads send
    requests with ``headers`` as fast as they are answered; and the statuses they got."""
    stop = threading.Event()
    statuses: list[int] = []
    threads = [
        threading.Thread(target=_hammer, args=(hub, headers, stop, statuses), daemon=True)
        for _ in range(HAMMERS)
    ]
    for thread in threads:
        thread.start()
    answered: list[tuple[int, float]] = []
    try:
        time.sleep(0.3)  # the senders are at full speed before the measurement starts
        deadline = time.monotonic() + HAMMER_SECONDS
        while time.monotonic() < deadline:
            started = time.perf_counter()
            status = client.get(url).status_code
            answered.append((status, time.perf_counter() - started))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert {status for status, _ in answered} == {200}
    assert len(statuses) > 100, "the senders kept the server busy"
    return statistics.median(seconds for _, seconds in answered), statuses


def test_senders_of_wrong_keys_do_not_slow_a_legitimate_client(
    hub: Hub, legit: httpx.Client, owner_key: str, revoked_key: str, personal_no: str
) -> None:
    url = f"/v1/persons/{personal_no}"
    malformed = [b"Bearer ura_short", b"Basic dXNlcjpwYXNzd29yZA=="]
    wrong = [f"Bearer {_wrong_rest(owner_key)}".encode() for _ in range(50)]
    wrong += [f"Bearer {revoked_key}".encode(), f"Bearer {keys.generate_key()}".encode()]

    control, refused = _median_under(hub, legit, url, malformed)
    loaded, statuses = _median_under(hub, legit, url, wrong)

    # refused; a per-source limit on failed authentications may answer 429 instead
    assert set(refused) | set(statuses) <= {401, 429}
    # The bound. A malformed header is refused before any look-up, so four senders of those
    # slow the client only by queueing on the loop (and, the server running in this test's
    # process, on the GIL): about 4x its quiet median here, more on a loaded CI machine. A
    # wrong key of a real prefix, or a revoked one, must cost the server no more than that
    # (one indexed read): measured back to back, both medians move with the machine's load,
    # and twice the control plus 10 ms leaves room for its noise. The bug it guards against
    # ran 20-44 ms of PBKDF2 on the loop per wrong key, and the client waited for about two
    # (36 ms and up on the fastest machine; 356 ms were measured), beyond it on any machine.
    bound = 2 * control + 0.010
    assert loaded < bound, (
        f"median {loaded * 1000:.1f} ms under wrong keys, {control * 1000:.1f} ms under "
        f"malformed ones: bound {bound * 1000:.1f} ms"
    )
