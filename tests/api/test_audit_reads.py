"""Every answered read of personal data leaves one audit entry; a refused one leaves none.

Read over a real server; the entries are read back from the store the server writes to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from hub.audit.models import AuditEntry
from hub.audit.service import verify
from hub.canonical import PersonIdentifier
from hub.canonical.persons import PERSONAL_NO_SCHEME
from tests.api.conftest import PERSON_ROUTES, Hub
from tests.conftest import Population
from tests.support.registries import first_record

ALL_SCOPES = tuple(PERSON_ROUTES)


@dataclass(frozen=True)
class Reader:
    """A registered client for every purpose of the persons API."""

    name: str
    key: str
    client: httpx.Client

    def read(self, scope: str, personal_no: str, **headers: str) -> httpx.Response:
        return self.client.get(
            PERSON_ROUTES[scope].format(personal_no=personal_no), headers=headers
        )


@pytest.fixture(scope="module")
def reader(hub: Hub) -> Iterator[Reader]:
    key = hub.new_key(*ALL_SCOPES, name="ea-portal")
    with hub.client(key) as client:
        yield Reader("ea-portal", key, client)


@pytest.fixture(scope="module")
def numbers(population: Population) -> list[str]:
    """Personal numbers of persons the civil registry knows, in file order."""
    lines = (population.dir / "cra" / "persons.jsonl").read_text(encoding="utf-8").splitlines()
    return [str(json.loads(line)["personal_no"]) for line in lines[:40]]


@pytest.fixture(scope="module")
def beneficiary(population: Population) -> str:
    return str(
        first_record(population.dir, "sas", "beneficiaries", having="case_no")["personal_no"]
    )


def _last_id(engine: Engine) -> int:
    """The id of the newest audit entry (0 while there is none)."""
    with Session(engine) as session:
        last = session.exec(select(func.max(col(AuditEntry.id)))).one()
    return last or 0


def _entries_after(engine: Engine, last_id: int) -> list[AuditEntry]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEntry).where(col(AuditEntry.id) > last_id).order_by(col(AuditEntry.id))
            )
        )


def _person_id(engine: Engine, personal_no: str) -> int:
    with Session(engine) as session:
        return session.exec(
            select(PersonIdentifier.person_id).where(
                col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
                col(PersonIdentifier.value) == personal_no,
            )
        ).one()


@pytest.mark.parametrize("scope", ALL_SCOPES)
def test_an_answered_read_appends_one_entry_saying_who_read_what_and_why(
    hub: Hub, reader: Reader, beneficiary: str, scope: str
) -> None:
    before = _last_id(hub.engine)
    response = reader.read(scope, beneficiary)
    assert response.status_code == 200, response.text
    (entry,) = _entries_after(hub.engine, before)
    assert entry.action == "read"
    assert entry.actor == "ea-portal"
    assert entry.purpose == scope
    assert entry.person_id == _person_id(hub.engine, beneficiary)
    assert entry.fields == sorted(response.json())
    assert entry.target == PERSON_ROUTES[scope]
    assert beneficiary not in entry.target
    assert entry.request_id == response.headers["x-request-id"]


UNKNOWN = "1234567897"
"""Well formed (its check digit holds) and not among CRA's random numbers; tests assert the 404."""

Refusal = Callable[[Hub, Reader, str], tuple[str | None, str]]
"""Prepares a request the hub must refuse: the key to send (None: none) and the path."""


def _no_key(_hub: Hub, _reader: Reader, personal_no: str) -> tuple[str | None, str]:
    return None, PERSON_ROUTES["sa-status:read"].format(personal_no=personal_no)


def _unknown_key(_hub: Hub, _reader: Reader, personal_no: str) -> tuple[str | None, str]:
    return "ura_" + "x" * 43, PERSON_ROUTES["sa-status:read"].format(personal_no=personal_no)


def _other_purpose(hub: Hub, _reader: Reader, personal_no: str) -> tuple[str | None, str]:
    return hub.new_key("certificate:read"), PERSON_ROUTES["person:read"].format(
        personal_no=personal_no
    )


def _unknown_person(_hub: Hub, reader: Reader, _personal_no: str) -> tuple[str | None, str]:
    return reader.key, PERSON_ROUTES["person:read"].format(personal_no=UNKNOWN)


def _malformed(_hub: Hub, reader: Reader, personal_no: str) -> tuple[str | None, str]:
    bad = personal_no[:9] + str((int(personal_no[9]) + 1) % 10)
    return reader.key, PERSON_ROUTES["certificate:read"].format(personal_no=bad)


def _over_the_rate(hub: Hub, _reader: Reader, personal_no: str) -> tuple[str | None, str]:
    key = hub.new_key("sa-status:read", per_minute=1)
    path = PERSON_ROUTES["sa-status:read"].format(personal_no=personal_no)
    with hub.client(key) as client:
        assert client.get(path).status_code == 200  # the allowance, spent (and audited)
    return key, path


@pytest.mark.parametrize(
    ("refusal", "status"),
    [
        pytest.param(_no_key, 401, id="no key"),
        pytest.param(_unknown_key, 401, id="unknown key"),
        pytest.param(_other_purpose, 403, id="another purpose"),
        pytest.param(_unknown_person, 404, id="unknown person"),
        pytest.param(_malformed, 422, id="bad check digit"),
        pytest.param(_over_the_rate, 429, id="over the rate"),
    ],
)
def test_a_refused_read_appends_no_entry(
    hub: Hub, reader: Reader, beneficiary: str, refusal: Refusal, status: int
) -> None:
    key, path = refusal(hub, reader, beneficiary)
    before = _last_id(hub.engine)
    with hub.client(key) as client:
        response = client.get(path)
    assert response.status_code == status, response.text
    assert _entries_after(hub.engine, before) == []


def test_the_chain_verifies_after_many_reads(hub: Hub, reader: Reader, numbers: list[str]) -> None:
    before = _last_id(hub.engine)
    for index, personal_no in enumerate(numbers[:12]):
        scope = ALL_SCOPES[index % len(ALL_SCOPES)]
        assert reader.read(scope, personal_no).status_code == 200
    assert len(_entries_after(hub.engine, before)) == 12
    with Session(hub.engine) as session:
        result = verify(session)
    assert result.ok, result.reason
    with Session(hub.engine) as session:
        assert result.checked == session.exec(select(func.count(col(AuditEntry.id)))).one()


@pytest.mark.parametrize("scope", ALL_SCOPES)
def test_the_callers_request_id_is_echoed_and_recorded(
    hub: Hub, reader: Reader, beneficiary: str, scope: str
) -> None:
    sent = f"complaint-2026-{scope.split(':')[0]}"
    before = _last_id(hub.engine)
    response = reader.read(scope, beneficiary, **{"X-Request-ID": sent})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == sent
    (entry,) = _entries_after(hub.engine, before)
    assert entry.request_id == sent


def test_a_refusal_carries_the_callers_request_id_too(reader: Reader) -> None:
    response = reader.read("person:read", UNKNOWN, **{"X-Request-ID": "trace-0001-abc"})
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "trace-0001-abc"
    assert response.json()["request_id"] == "trace-0001-abc"


@pytest.mark.parametrize(
    "sent",
    ["short", "has spaces in it", "x" * 65, "semi;colon-id"],
    ids=["too short", "spaces", "too long", "forbidden character"],
)
def test_an_ill_formed_request_id_is_replaced_and_the_new_one_recorded(
    hub: Hub, reader: Reader, beneficiary: str, sent: str
) -> None:
    before = _last_id(hub.engine)
    response = reader.read("sa-status:read", beneficiary, **{"X-Request-ID": sent})
    assert response.status_code == 200
    given = response.headers["x-request-id"]
    assert given != sent
    assert re.fullmatch(r"[0-9a-f]{12}-[0-9a-f]+", given)
    (entry,) = _entries_after(hub.engine, before)
    assert entry.request_id == given


def test_without_a_request_id_each_read_gets_its_own(
    hub: Hub, reader: Reader, beneficiary: str
) -> None:
    before = _last_id(hub.engine)
    given = [reader.read("sa-status:read", beneficiary).headers["x-request-id"] for _ in range(3)]
    assert len(set(given)) == 3
    assert [e.request_id for e in _entries_after(hub.engine, before)] == given


def test_concurrent_reads_each_record_their_own_request_id_and_person(
    hub: Hub, reader: Reader, numbers: list[str]
) -> None:
    asked = {f"parallel-read-{i:04d}": pn for i, pn in enumerate(numbers[:24])}
    before = _last_id(hub.engine)

    def read(item: tuple[str, str]) -> int:
        request_id, personal_no = item
        response = reader.read("person:read", personal_no, **{"X-Request-ID": request_id})
        assert response.headers["x-request-id"] == request_id
        return response.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(read, asked.items())) == {200}
    recorded = {e.request_id: e.person_id for e in _entries_after(hub.engine, before)}
    assert recorded == {rid: _person_id(hub.engine, pn) for rid, pn in asked.items()}
