"""Who may read: bearer keys (401), purposes (403) and rate limits (429), over a real server.

Every refusal is an RFC 9457 problem with a stable ``type``; this module has its own
server, so its rate limits spend nobody else's allowance.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from hub.access.service import revoke_client
from hub.store.engine import unit_of_work
from tests.api.conftest import Hub
from tests.conftest import Population
from tests.support.problems import assert_problem
from tests.support.registries import first_record

ROUTES = {
    "sa-status:read": "/v1/persons/{}/social-assistance",
    "certificate:read": "/v1/persons/{}/unemployment-certificate",
    "person:read": "/v1/persons/{}",
}


@pytest.fixture(scope="module")
def personal_no(population: Population) -> str:
    """The applicant of SAS's first case: every purpose has an answer about them."""
    case = first_record(population.dir, "sas", "beneficiaries", having="case_no")
    return str(case["personal_no"])


@pytest.fixture(scope="module")
def sa_key(hub: Hub) -> str:
    return hub.new_key("sa-status:read")


@pytest.fixture
def anonymous(hub: Hub) -> Iterator[httpx.Client]:
    with hub.client() as client:
        yield client


def _unknown_key(key: str) -> str:
    """A key of the right shape and prefix that the hub never issued."""
    return key[:-1] + ("A" if key[-1] != "A" else "B")


# header value (given a valid key), or None for no header at all -> what the detail says
UNAUTHENTICATED: list[Any] = [
    pytest.param(lambda _key: None, "no API key", id="no Authorization header"),
    pytest.param(lambda _key: "", "no API key", id="empty header"),
    pytest.param(lambda _key: "Bearer", "does not carry an API key", id="Bearer without a key"),
    pytest.param(lambda key: key, "does not carry an API key", id="key without the scheme"),
    pytest.param(lambda key: f"Basic {key}", "does not carry an API key", id="another auth scheme"),
    pytest.param(
        lambda _key: "Bearer not-a-key", "does not carry an API key", id="not shaped as a key"
    ),
    pytest.param(lambda key: f"Bearer {key} {key}", "does not carry an API key", id="two keys"),
    pytest.param(lambda _key: "Bearer ura_" + "x" * 43, "not valid", id="unknown key"),
    pytest.param(lambda key: f"Bearer {_unknown_key(key)}", "not valid", id="one character off"),
]


@pytest.mark.parametrize(("header", "says"), UNAUTHENTICATED)
def test_a_request_without_a_usable_key_is_401(
    anonymous: httpx.Client,
    sa_key: str,
    personal_no: str,
    header: Callable[[str], str | None],
    says: str,
) -> None:
    value = header(sa_key)
    headers = {} if value is None else {"Authorization": value}
    response = anonymous.get(ROUTES["sa-status:read"].format(personal_no), headers=headers)
    problem = assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert says in problem["detail"]
    assert sa_key not in response.text


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_bearer_scheme_is_accepted_in_any_case(
    anonymous: httpx.Client, sa_key: str, personal_no: str, scheme: str
) -> None:
    response = anonymous.get(
        ROUTES["sa-status:read"].format(personal_no),
        headers={"Authorization": f"{scheme} {sa_key}"},
    )
    assert response.status_code == 200, response.text


def test_a_revoked_key_is_refused_from_the_next_request_on(hub: Hub, personal_no: str) -> None:
    key = hub.new_key("sa-status:read", "certificate:read", name="csw-prishtina")
    routes = [ROUTES["sa-status:read"], ROUTES["certificate:read"]]
    with hub.client(key) as client:
        for route in routes:
            assert client.get(route.format(personal_no)).status_code == 200
        with unit_of_work(hub.engine) as session:
            revoke_client(session, name="csw-prishtina")
        for route in routes:
            problem = assert_problem(client.get(route.format(personal_no)), 401, "unauthenticated")
            assert "revoked" in problem["detail"]
            assert "csw-prishtina" in problem["detail"]


@pytest.mark.parametrize(
    ("scope", "route_scope"),
    [
        ("certificate:read", "sa-status:read"),
        ("sa-status:read", "certificate:read"),
        ("sa-status:read", "person:read"),
        ("reconcile:run", "certificate:read"),
        ("sync:operate", "person:read"),
    ],
)
def test_a_key_for_another_purpose_is_403_naming_the_purpose(
    hub: Hub, personal_no: str, scope: str, route_scope: str
) -> None:
    with hub.client(hub.new_key(scope)) as client:
        response = client.get(ROUTES[route_scope].format(personal_no))
    problem = assert_problem(response, 403, "forbidden")
    assert repr(route_scope) in problem["detail"]


def test_a_client_over_its_rate_is_429_with_retry_after_while_others_read_on(
    hub: Hub, personal_no: str
) -> None:
    path = ROUTES["sa-status:read"].format(personal_no)
    limited = hub.client(hub.new_key("sa-status:read", "certificate:read", per_minute=3))
    other = hub.client(hub.new_key("sa-status:read"))
    with limited, other:
        assert [limited.get(path).status_code for _ in range(3)] == [200, 200, 200]
        refused = limited.get(path)
        problem = assert_problem(refused, 429, "rate-limited")
        # 3 a minute refill one every 20 s: the caller is told to wait whole seconds, <= 20
        assert 1 <= int(refused.headers["retry-after"]) <= 20
        assert "3 requests per minute" in problem["detail"]
        # the allowance is the client's, not the route's
        other_route = ROUTES["certificate:read"].format(personal_no)
        assert_problem(limited.get(other_route), 429, "rate-limited")
        assert [other.get(path).status_code for _ in range(5)] == [200] * 5


def test_waiting_as_long_as_retry_after_says_is_enough(hub: Hub, personal_no: str) -> None:
    path = ROUTES["sa-status:read"].format(personal_no)
    with hub.client(hub.new_key("sa-status:read", per_minute=30)) as client:
        statuses = []
        for _ in range(60):  # the burst is 30; refill (one per 2 s) cannot keep up
            response = client.get(path)
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
        assert statuses[-1] == 429, "the client was never limited"
        wait = int(response.headers["retry-after"])
        assert 1 <= wait <= 2
        time.sleep(wait)
        assert client.get(path).status_code == 200
