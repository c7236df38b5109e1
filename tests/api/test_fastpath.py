"""The consumer reads' fast path answers exactly as the FastAPI routes do.

Two apps serve the same store: one as ``hub serve`` runs it (the fast path answers the
three consumer reads before FastAPI), one with its routes alone. The same request to each
must give the same status, headers and body byte for byte (the request id sent along, so
that problem bodies match too), the same audit entry, access log line and metrics; and
what the fast path does not answer (a malformed number, a body, another method or path)
is the routes' to answer, the body limit first. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlmodel import col
from structlog.testing import capture_logs

from hub.access.service import revoke_client
from hub.api import create_app
from hub.api.fastpath import ConsumerReads, HubAPI
from hub.audit.models import AuditEntry
from hub.metrics import PROCESS
from hub.settings import Settings
from hub.store.engine import make_engine, unit_of_work
from mocks.core.server import RunningRegistries, serve_app
from tests.api.conftest import PERSON_ROUTES, KeyMaker, key_maker
from tests.conftest import Population
from tests.support.postgres import temporary_database
from tests.support.problems import assert_problem
from tests.support.registries import (
    BENEFICIARY,
    REGISTERED_PERSON,
    REVOKED_HOLDER,
    fast_settings,
    personal_numbers,
)
from tests.support.store import fill_store

SA, CERTIFICATE, PERSON = PERSON_ROUTES.values()
_ids = itertools.count(1)


class CountedReads(ConsumerReads):
    """The fast path, counting the requests it answered itself."""

    answered = 0

    async def answer(self, *args: Any) -> bool:
        done = await super().answer(*args)
        self.answered += done
        return done


@dataclass(frozen=True)
class Pair:
    """The same store served with the fast path (``fast``) and without (``routed``)."""

    fast: str
    routed: str
    engine: Engine
    new_key: KeyMaker
    reads: CountedReads

    def both(
        self, key: str | None, path: str, method: str = "GET", **kwargs: Any
    ) -> tuple[httpx.Response, httpx.Response]:
        """The fast app's answer and the routed app's to the same request (same request id)."""
        headers = {"X-Request-ID": f"fastpath-test-{next(_ids):04d}"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        answers = []
        for url in (self.fast, self.routed):
            with httpx.Client(base_url=url, timeout=30) as client:
                answers.append(client.request(method, path, headers=headers, **kwargs))
        return answers[0], answers[1]


@contextmanager
def serving_both(settings: Settings) -> Iterator[Pair]:
    engine = make_engine(settings.database_url)
    fast_app = create_app(settings)
    assert isinstance(fast_app, HubAPI)
    reads = CountedReads(fast_app)
    fast_app.fast_path = reads
    routed_app = create_app(settings, fast_reads=False)
    with serve_app(fast_app) as fast, serve_app(routed_app) as routed:
        yield Pair(fast, routed, engine, key_maker(engine), reads)
    engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def pair(
    request: pytest.FixtureRequest,
    api_store: Path,
    registries: RunningRegistries,
    reference_day: date,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pair]:
    """Both apps over one store: a copy of the filled SQLite file, or PostgreSQL filled alike."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("fastpath") / "hub.sqlite3"
        shutil.copyfile(api_store, path)
        url = f"sqlite:///{path}"
        with serving_both(
            fast_settings(registries).model_copy(update={"database_url": url})
        ) as both:
            yield both
        return
    with temporary_database() as url:
        fill_store(url, registries, reference_day).dispose()
        with serving_both(
            fast_settings(registries).model_copy(update={"database_url": url})
        ) as both:
            yield both


@pytest.fixture(scope="module")
def numbers(population: Population) -> list[str]:
    """A beneficiary, a revoked certificate's holder, a plain person, an unknown number."""
    found = personal_numbers(population.dir, BENEFICIARY, REVOKED_HOLDER, REGISTERED_PERSON)
    return [*found, "1234567897"]


def assert_same(fast: httpx.Response, routed: httpx.Response) -> None:
    """Status, headers (but the server's date) and body, byte for byte."""
    assert fast.status_code == routed.status_code, fast.text
    assert _headers(fast) == _headers(routed)
    assert fast.content == routed.content


def _headers(response: httpx.Response) -> list[tuple[str, str]]:
    """The headers but the date, each server's own address taken out (a redirect's)."""
    server = str(response.url.copy_with(path="/", query=None)).rstrip("/")
    return [
        (name, value.replace(server, ""))
        for name, value in response.headers.multi_items()
        if name != "date"
    ]


@pytest.mark.parametrize("scope", list(PERSON_ROUTES))
def test_each_view_is_answered_by_the_fast_path_as_by_its_route(
    pair: Pair, numbers: list[str], scope: str
) -> None:
    key = pair.new_key(scope)
    before = pair.reads.answered
    for personal_no in numbers:
        fast, routed = pair.both(key, PERSON_ROUTES[scope].format(personal_no=personal_no))
        assert_same(fast, routed)
        assert fast.status_code == (404 if personal_no == "1234567897" else 200)
    assert pair.reads.answered == before + len(numbers)


def test_each_answered_read_leaves_the_routes_audit_entry(pair: Pair, numbers: list[str]) -> None:
    key = pair.new_key("sa-status:read", name=f"fastpath-audited-{next(_ids)}")
    fast, routed = pair.both(key, SA.format(personal_no=numbers[0]))
    assert fast.status_code == routed.status_code == 200, (fast.text, routed.text)
    fast_entry, routed_entry = _entries(pair.engine, request_id=fast.headers["x-request-id"])
    assert fast_entry == routed_entry
    assert fast_entry["target"] == SA
    assert fast_entry["purpose"] == "sa-status:read"


def _entries(engine: Engine, *, request_id: str) -> list[dict[str, Any]]:
    """The audit entries of a request id, without what differs by time and place in the chain."""
    with unit_of_work(engine) as session:
        entries = session.execute(
            select(AuditEntry).where(col(AuditEntry.request_id) == request_id)
        ).scalars()
        kept = {"action", "actor", "purpose", "person_id", "fields", "target", "request_id"}
        return [entry.model_dump(include=kept) for entry in entries]


REFUSED_KEYS = {
    "no key": None,
    "not a key": "not-a-key",
    "unknown key": "ura_" + "x" * 43,
}


@pytest.mark.parametrize("key", list(REFUSED_KEYS.values()), ids=list(REFUSED_KEYS))
def test_a_refused_key_is_answered_as_by_the_route(
    pair: Pair, numbers: list[str], key: str | None
) -> None:
    fast, routed = pair.both(key, SA.format(personal_no=numbers[0]))
    assert_same(fast, routed)
    assert_problem(fast, 401, "unauthenticated")


def test_a_revoked_key_is_refused_at_once_as_by_the_route(pair: Pair, numbers: list[str]) -> None:
    name = f"fastpath-revoked-{next(_ids)}"
    key = pair.new_key("sa-status:read", name=name)
    assert [answer.status_code for answer in pair.both(key, SA.format(personal_no=numbers[0]))] == [
        200,
        200,
    ]
    with unit_of_work(pair.engine) as session:
        revoke_client(session, name=name)
    fast, routed = pair.both(key, SA.format(personal_no=numbers[0]))
    assert_same(fast, routed)
    assert "revoked" in assert_problem(fast, 401, "unauthenticated")["detail"]


def test_another_purpose_is_forbidden_as_by_the_route(pair: Pair, numbers: list[str]) -> None:
    fast, routed = pair.both(pair.new_key("certificate:read"), SA.format(personal_no=numbers[0]))
    assert_same(fast, routed)
    assert_problem(fast, 403, "forbidden")


def test_a_bad_check_digit_is_invalid_as_by_the_route(pair: Pair, numbers: list[str]) -> None:
    number = numbers[0][:9] + str((int(numbers[0][9]) + 1) % 10)
    fast, routed = pair.both(pair.new_key("person:read"), PERSON.format(personal_no=number))
    assert_same(fast, routed)
    assert assert_problem(fast, 422, "invalid-input")["invalid_fields"] == ["personal_no"]


def test_a_client_over_its_rate_is_limited_as_by_the_route(pair: Pair, numbers: list[str]) -> None:
    """Each app counts on its own (one bucket per process), so both refuse the second read."""
    key = pair.new_key("sa-status:read", per_minute=1)
    path = SA.format(personal_no=numbers[0])
    assert [answer.status_code for answer in pair.both(key, path)] == [200, 200]
    fast, routed = pair.both(key, path)
    assert_same(fast, routed)
    assert_problem(fast, 429, "rate-limited")
    assert fast.headers["retry-after"] == routed.headers["retry-after"]


def _access_lines(logs: list[dict[str, Any]], client: str) -> list[dict[str, Any]]:
    return [
        line for line in logs if line.get("component") == "access" and line.get("client") == client
    ]


def test_the_access_log_line_and_metrics_are_the_routes(pair: Pair, numbers: list[str]) -> None:
    name = f"fastpath-logged-{next(_ids)}"
    key = pair.new_key("certificate:read", name=name)
    labels = {"method": "GET", "route": CERTIFICATE, "status": "200", "client": name}
    with capture_logs() as logs:
        fast, routed = pair.both(key, CERTIFICATE.format(personal_no=numbers[1]))
        # the server writes a request's access line and counts it once the answer is sent:
        # the client may have the answer a moment before
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (
            len(_access_lines(logs, name)) < 2
            or PROCESS.get_sample_value("hub_api_requests_total", labels) != 2.0
        ):
            time.sleep(0.01)
    assert fast.status_code == routed.status_code == 200
    lines = _access_lines(logs, name)
    assert len(lines) == 2
    for line in lines:
        assert {name: line[name] for name in ("method", "route", "status")} == {
            "method": "GET", "route": CERTIFICATE, "status": 200,
        }  # fmt: skip
        assert numbers[1] not in repr(line)
    assert PROCESS.get_sample_value("hub_api_requests_total", labels) == 2.0


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        pytest.param("GET", "/v1/persons/0123456789", {}, id="a number FastAPI refuses"),
        pytest.param("GET", "/v1/persons/{}/", {}, id="a trailing slash"),
        pytest.param("GET", "/v1/persons/{}/refusals", {}, id="another route below"),
        pytest.param("HEAD", "/v1/persons/{}", {}, id="another method"),
        pytest.param("GET", "/v1/persons/{}", {"content": b"{}"}, id="a body"),
    ],
)
def test_what_the_fast_path_does_not_answer_the_routes_do(
    pair: Pair, numbers: list[str], method: str, path: str, kwargs: dict[str, Any]
) -> None:
    key = pair.new_key("person:read")
    before = pair.reads.answered
    fast, routed = pair.both(key, path.format(numbers[0]), method, **kwargs)
    assert_same(fast, routed)
    assert pair.reads.answered == before


def test_a_body_over_the_limit_is_refused_before_any_read(pair: Pair, numbers: list[str]) -> None:
    key = pair.new_key("sa-status:read")
    body = b"x" * 2_000_000
    fast, routed = pair.both(key, SA.format(personal_no=numbers[0]), content=body)
    assert_same(fast, routed)
    assert_problem(fast, 413, "content-too-large")
