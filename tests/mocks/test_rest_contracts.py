"""The REST mocks (TAK, CRA, CMS) against their published OpenAPI contracts, over real HTTP.

One suite runs against each registry: routes equal the contract's paths, the
responses validate against the contract's schemas, and the behaviour every
contract promises (change feed paging and cursors, problem+json errors,
credentials, Retry-After) holds.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import httpx
import pytest
import yaml
from fastapi import FastAPI

from mocks.cms.app import REGISTRY as CMS
from mocks.cms.app import create_app as create_cms
from mocks.core.auth import AuthConfig
from mocks.core.server import serve_app
from mocks.cra.app import REGISTRY as CRA
from mocks.cra.app import create_app as create_cra
from mocks.tak.app import REGISTRY as TAK
from mocks.tak.app import create_app as create_tak

if TYPE_CHECKING:
    from tests.conftest import Population

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


# --- a small validator for the subset of JSON Schema the contracts use ----------------------

_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
}
_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[name])


def _format_ok(value: str, fmt: str) -> bool:
    if fmt == "date":
        try:
            return len(value) == 10 and bool(date.fromisoformat(value))
        except ValueError:
            return False
    if fmt == "date-time":
        return bool(_DATE_TIME.match(value))
    if fmt == "uri":
        return bool(urlparse(value).scheme)
    return True


class Contract:
    """An OpenAPI document and a validator for the schema keywords it uses.

    Objects are closed: a property the contract does not declare is reported,
    so the mock publishes exactly what its contract says.
    """

    def __init__(self, path: Path) -> None:
        self.doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.base_path = urlparse(self.doc["servers"][0]["url"]).path.rstrip("/")

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def operations(self) -> set[tuple[str, str]]:
        return {
            (self.base_path + path, method)
            for path, item in self.doc["paths"].items()
            for method in item
            if method in {"get", "put", "post", "patch", "delete"}
        }

    def response_errors(self, template: str, method: str, response: httpx.Response) -> list[str]:
        """Why ``response`` does not match the contract's documented response (empty if it does)."""
        operation = self.doc["paths"][template][method]
        documented = operation["responses"].get(str(response.status_code))
        if documented is None:
            return [f"status {response.status_code} is not documented for {method} {template}"]
        media = response.headers.get("content-type", "").split(";")[0]
        content = self.resolve(documented).get("content", {})
        if media not in content:
            return [f"media type {media!r} is not documented for {response.status_code}"]
        return self.errors(response.json(), content[media]["schema"])

    def errors(self, value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
        """Why ``value`` does not match ``schema`` (empty when it does)."""
        return self._check(value, schema, where, closed=True)

    def _check(self, value: Any, schema: dict[str, Any], where: str, *, closed: bool) -> list[str]:
        schema = self.resolve(schema)
        found: list[str] = []
        for part in schema.get("allOf", []):
            found += self._check(value, part, where, closed=False)
        if "oneOf" in schema:
            found += self._one_of(value, schema, where)
        if "type" in schema:
            names = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
            if not any(_is_type(value, name) for name in names):
                return [*found, f"{where}: {type(value).__name__} is not {names}"]
        if "const" in schema and value != schema["const"]:
            found.append(f"{where}: is not {schema['const']!r}")
        if "enum" in schema and value not in schema["enum"]:
            found.append(f"{where}: is not one of {schema['enum']}")
        if isinstance(value, str):
            found += self._string(value, schema, where)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if value < schema.get("minimum", value) or value > schema.get("maximum", value):
                found.append(f"{where}: out of range")
        elif isinstance(value, list):
            if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
                found.append(f"{where}: wrong number of items")
            for index, item in enumerate(value):
                found += self._check(
                    item, schema.get("items", {}), f"{where}[{index}]", closed=True
                )
        elif isinstance(value, dict):
            found += self._object(value, schema, where, closed=closed)
        return found

    def _one_of(self, value: Any, schema: dict[str, Any], where: str) -> list[str]:
        discriminator = schema.get("discriminator")
        if discriminator and isinstance(value, dict):
            target = discriminator["mapping"].get(value.get(discriminator["propertyName"]))
            if target is None:
                return [f"{where}: unknown {discriminator['propertyName']}"]
            return self._check(value, {"$ref": target}, where, closed=True)
        matches = sum(not self.errors(value, option, where) for option in schema["oneOf"])
        return [] if matches == 1 else [f"{where}: matches {matches} oneOf alternatives"]

    @staticmethod
    def _string(value: str, schema: dict[str, Any], where: str) -> list[str]:
        found = []
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{where}: does not match {schema['pattern']}")
        if "format" in schema and not _format_ok(value, schema["format"]):
            found.append(f"{where}: is not a {schema['format']}")
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
            found.append(f"{where}: wrong length")
        return found

    def _object(
        self, value: dict[str, Any], schema: dict[str, Any], where: str, *, closed: bool
    ) -> list[str]:
        found = [
            f"{where}: {name} missing" for name in schema.get("required", []) if name not in value
        ]
        properties = schema.get("properties", {})
        for name, sub in properties.items():
            if name in value:
                found += self._check(value[name], sub, f"{where}.{name}", closed=True)
        if closed and ("properties" in schema or "allOf" in schema):
            undeclared = set(value) - self._declared(schema)
            found += [f"{where}: {name} is not in the contract" for name in sorted(undeclared)]
        return found

    def _declared(self, schema: dict[str, Any]) -> set[str]:
        schema = self.resolve(schema)
        names = set(schema.get("properties", {}))
        for part in schema.get("allOf", []):
            names |= self._declared(part)
        return names


def test_the_validator_rejects_what_the_contract_forbids() -> None:
    contract = Contract(CONTRACTS / "cms" / "cms-openapi-v1.yaml")
    closure = {"$ref": "#/components/schemas/CaseClosure"}
    assert contract.errors({"reason": "other", "effective_date": "2026-11-01"}, closure) == []
    assert contract.errors(
        {"reason": "bored", "effective_date": "2026-13-01", "x": 1}, closure
    ) == [
        "$.reason: is not one of ['deceased', 'other']",
        "$.effective_date: is not a date",
        "$: x is not in the contract",
    ]
    nullable = {"$ref": "#/components/schemas/Returnee/properties/personal_no"}
    assert contract.errors(None, nullable) == []
    assert contract.errors("0123456789", nullable) != []


# --- the registries under test ------------------------------------------------------------------


def _basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _luhn(payload: str) -> str:
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        total += (digit * 2 - 9 if digit > 4 else digit * 2) if position % 2 == 0 else digit
    return str(-total % 10)


UNKNOWN_PERSONAL_NO = "123456789" + str((int(_luhn("123456789")) + 1) % 10)
"""Well-formed but with a wrong check digit, so no generated person has it."""


def _first(data_dir: Path, registry: str, kind: str, **where: Any) -> dict[str, Any]:
    with (data_dir / registry / f"{kind}.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            record: dict[str, Any] = json.loads(line)
            if all(record.get(k) == v for k, v in where.items()):
                return record
    raise LookupError(f"no {registry}/{kind} record matching {where}")


@dataclass(frozen=True)
class Call:
    """One request whose answer must match the contract: (method, template, url, status)."""

    method: str
    template: str
    url: str
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _tak_calls(data_dir: Path) -> list[Call]:
    known = _first(data_dir, "tak", "contracts")["personal_no"]
    template = "/persons/{personal_no}/employment"
    return [
        Call("get", template, f"/v1/persons/{known}/employment", 200),
        Call("get", template, f"/v1/persons/{UNKNOWN_PERSONAL_NO}/employment", 404),
        Call("get", template, "/v1/persons/0123456789/employment", 422),
    ]


def _cra_calls(data_dir: Path) -> list[Call]:
    person = _first(data_dir, "cra", "persons")["personal_no"]
    dead = _first(data_dir, "cra", "persons", status="deceased")["personal_no"]
    household = _first(data_dir, "cra", "households")["household_id"]
    return [
        Call("get", "/persons/{personal_no}", f"/v1/persons/{person}", 200),
        Call("get", "/persons/{personal_no}", f"/v1/persons/{dead}", 200),
        Call("get", "/persons/{personal_no}", f"/v1/persons/{UNKNOWN_PERSONAL_NO}", 404),
        Call("get", "/persons/{personal_no}", "/v1/persons/12345", 422),
        Call("get", "/households/{household_id}", f"/v1/households/{household}", 200),
        Call("get", "/households/{household_id}", "/v1/households/HH-9999999", 404),
    ]


def _cms_calls(data_dir: Path) -> list[Call]:
    returnee = _first(data_dir, "cms", "returnees", case_status="open")
    rid = returnee["returnee_id"]
    with_no = next(
        r
        for r in map(json.loads, (data_dir / "cms" / "returnees.jsonl").open())
        if r["personal_no"]
    )
    registration = {
        "emis_registered": True,
        "jobseeker_id": "JS-0000042",
        "employment_status": "unemployed",
        "as_of": "2026-11-02",
    }
    put = f"/v1/returnees/{rid}/employment-registration"
    template = "/returnees/{returnee_id}/employment-registration"
    key = {"Idempotency-Key": "contract-suite-1"}
    return [
        Call("get", "/returnees/{returnee_id}", f"/v1/returnees/{rid}", 200),
        Call("get", "/returnees/{returnee_id}", "/v1/returnees/RT-9999999", 404),
        Call("get", "/returnees", f"/v1/returnees?personal_no={with_no['personal_no']}", 200),
        Call("get", "/returnees", f"/v1/returnees?personal_no={UNKNOWN_PERSONAL_NO}", 200),
        Call("get", "/returnees", "/v1/returnees?personal_no=abc", 422),
        Call("put", template, put, 400, registration),
        Call("put", template, put, 200, registration, key),
        Call("put", template, put, 200, registration, key),
        Call("put", template, put, 409, {**registration, "employment_status": "employed"}, key),
        Call(
            "put", template, put, 422, {**registration, "as_of": "soon"}, {"Idempotency-Key": "b"}
        ),
        Call(
            "post",
            "/returnees/{returnee_id}/case-closure",
            f"/v1/returnees/{rid}/case-closure",
            200,
            {"reason": "other", "effective_date": "2026-11-03"},
            {"Idempotency-Key": "contract-suite-2"},
        ),
    ]


@dataclass(frozen=True)
class RestMock:
    """How to start one REST registry and talk to it."""

    name: str
    create_app: Callable[..., FastAPI]
    auth: AuthConfig
    credentials: dict[str, str]
    calls: Callable[[Path], list[Call]]
    feed_kinds: dict[str, str]

    @property
    def contract(self) -> Contract:
        return Contract(CONTRACTS / self.name / f"{self.name}-openapi-v1.yaml")


MOCKS = [
    RestMock(
        "tak",
        create_tak,
        AuthConfig(kind="api_key", header="X-API-Key", api_key="tak-test-key"),
        {"X-API-Key": "tak-test-key"},
        _tak_calls,
        dict(TAK.feed_kinds),
    ),
    RestMock(
        "cra",
        create_cra,
        AuthConfig(kind="basic", username="hub", password="cra-test"),
        _basic("hub", "cra-test"),
        _cra_calls,
        dict(CRA.feed_kinds),
    ),
    RestMock(
        "cms",
        create_cms,
        AuthConfig(kind="api_key", header="X-API-Key", api_key="cms-test-key"),
        {"X-API-Key": "cms-test-key"},
        _cms_calls,
        dict(CMS.feed_kinds),
    ),
]


@dataclass(frozen=True)
class Served:
    mock: RestMock
    contract: Contract
    app: FastAPI
    client: httpx.Client
    population: Population


@pytest.fixture(scope="module", params=MOCKS, ids=[m.name for m in MOCKS])
def served(request: pytest.FixtureRequest, population: Population) -> Iterator[Served]:
    mock: RestMock = request.param
    app = mock.create_app(population.dir, auth=mock.auth)
    with (
        serve_app(app) as url,
        httpx.Client(base_url=url, headers=mock.credentials, timeout=30) as client,
    ):
        yield Served(mock, mock.contract, app, client, population)


@dataclass(frozen=True)
class Feed:
    """The whole change feed as read page by page."""

    items: list[dict[str, Any]]
    pages: int
    last_cursor: str


def _read_feed(client: httpx.Client, limit: int) -> Feed:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    pages = 0
    while True:
        page = client.get("/v1/changes", params=params).raise_for_status().json()
        pages += 1
        items += page["items"]
        params["since"] = page["next_cursor"]
        if not page["has_more"]:
            return Feed(items, pages, page["next_cursor"])


# --- the suite ------------------------------------------------------------------------------------


def test_routes_are_exactly_the_contract_paths(served: Served) -> None:
    # FastAPI includes routers lazily; its OpenAPI is the public list of every route
    routes = {
        (path, method)
        for path, item in served.app.openapi()["paths"].items()
        if not path.startswith("/admin")
        for method in item
    }
    assert routes == served.contract.operations()


def test_generated_schema_matches_the_contract(served: Served) -> None:
    """FastAPI's own OpenAPI documents the same statuses and record fields as the contract."""
    generated = served.app.openapi()
    base = served.contract.base_path
    for path, item in served.contract.doc["paths"].items():
        for method, operation in item.items():
            ours = generated["paths"][base + path][method]["responses"]
            assert set(ours) == set(operation["responses"]), f"{method} {path}"
    ours_schemas = generated["components"]["schemas"]
    for name, schema in served.contract.doc["components"]["schemas"].items():
        if name in ours_schemas and "properties" in schema:
            assert set(ours_schemas[name]["properties"]) == set(schema["properties"]), name
            assert set(ours_schemas[name].get("required", [])) == set(schema.get("required", []))


def test_sample_answers_validate_against_the_contract(served: Served) -> None:
    base = served.contract.base_path
    for call in served.mock.calls(served.population.dir):
        response = served.client.request(
            call.method, call.url, json=call.body, headers=call.headers
        )
        assert response.status_code == call.status, (call, response.text)
        assert served.contract.response_errors(call.template, call.method, response) == []
        assert call.url.startswith(base)


def test_every_feed_item_validates_and_counts_match_the_manifest(served: Served) -> None:
    feed = _read_feed(served.client, limit=1000)
    schema = {"$ref": "#/components/schemas/Change"}
    problems = [e for item in feed.items for e in served.contract.errors(item, schema)]
    assert problems[:5] == []
    assert [item["seq"] for item in feed.items] == list(range(1, len(feed.items) + 1))
    counts = served.population.manifest["counts"][served.mock.name]
    expected = {feed_kind: counts[kind] for kind, feed_kind in served.mock.feed_kinds.items()}
    # the loaded records come first, once each; writes by other tests of the suite follow
    loaded = feed.items[: sum(expected.values())]
    assert Counter(item["kind"] for item in loaded) == expected


def test_paging_with_any_limit_reads_the_same_feed(served: Served) -> None:
    whole = _read_feed(served.client, limit=1000)
    paged = _read_feed(served.client, limit=min(337, max(1, len(whole.items) // 3)))
    assert paged.items == whole.items
    assert paged.pages > 1
    assert paged.last_cursor == whole.last_cursor


def test_rereading_from_a_cursor_gives_the_same_page(served: Served) -> None:
    first = served.client.get("/v1/changes", params={"limit": 3}).json()
    cursor = first["next_cursor"]
    one = served.client.get("/v1/changes", params={"since": cursor, "limit": 5}).json()
    two = served.client.get("/v1/changes", params={"since": cursor, "limit": 5}).json()
    assert one == two
    assert one["items"][0]["seq"] == first["items"][-1]["seq"] + 1


def test_the_last_cursor_is_an_empty_page_until_something_changes(served: Served) -> None:
    cursor = _read_feed(served.client, limit=1000).last_cursor
    tail = served.client.get("/v1/changes", params={"since": cursor}).json()
    assert tail == {"items": [], "next_cursor": cursor, "has_more": False}


def _cursor_of(registry: str, seq: int) -> str:
    return base64.urlsafe_b64encode(f"{registry}:{seq}".encode()).decode()


@pytest.mark.parametrize(
    ("case", "parameter"),
    [
        ("garbage", "since"),
        ("empty", "since"),
        ("other registry", "since"),
        ("beyond the end", "since"),
        ("limit 0", "limit"),
        ("limit 1001", "limit"),
        ("limit not a number", "limit"),
    ],
)
def test_bad_cursor_or_limit_is_a_422_problem_naming_the_parameter(
    served: Served, case: str, parameter: str
) -> None:
    cases: dict[str, dict[str, str | int]] = {
        "garbage": {"since": "not-a-cursor"},
        "empty": {"since": ""},
        "other registry": {"since": _cursor_of("emis", 1)},
        "beyond the end": {"since": _cursor_of(served.mock.name, 10**9)},
        "limit 0": {"limit": 0},
        "limit 1001": {"limit": 1001},
        "limit not a number": {"limit": "many"},
    }
    response = served.client.get("/v1/changes", params=cases[case])
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].startswith(f"https://{served.mock.name}.example.rks/problems/")
    assert [e["parameter"] for e in problem["errors"]] == [parameter]
    assert served.contract.response_errors("/changes", "get", response) == []


def test_unknown_path_is_a_problem(served: Served) -> None:
    response = served.client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["type"] == f"https://{served.mock.name}.example.rks/problems/not-found"


@pytest.mark.parametrize("credentials", ["none", "wrong"])
def test_missing_or_wrong_credentials_are_401(served: Served, credentials: str) -> None:
    wrong = {name: "x" + value for name, value in served.mock.credentials.items()}
    headers = {} if credentials == "none" else wrong
    with httpx.Client(base_url=str(served.client.base_url), headers=headers) as anonymous:
        response = anonymous.get("/v1/changes")
        assert anonymous.get("/admin/health").status_code == 200
    assert response.status_code == 401
    assert (
        response.json()["type"] == f"https://{served.mock.name}.example.rks/problems/unauthorized"
    )
    assert served.contract.response_errors("/changes", "get", response) == []
    if served.mock.auth.kind == "basic":
        assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    ("status", "slug"), [(503, "service-unavailable"), (429, "too-many-requests")]
)
def test_fail_next_answers_problems_with_retry_after_then_recovers(
    served: Served, status: int, slug: str
) -> None:
    faults = {"fail_next": 2, "error_status": status, "retry_after": 7}
    served.client.put("/admin/faults", json=faults).raise_for_status()
    try:
        failed = [served.client.get("/v1/changes", params={"limit": 1}) for _ in range(2)]
        recovered = served.client.get("/v1/changes", params={"limit": 1})
    finally:
        served.client.delete("/admin/faults").raise_for_status()
    for response in failed:
        assert response.status_code == status
        assert response.headers["retry-after"] == "7"
        assert response.json()["type"] == f"https://{served.mock.name}.example.rks/problems/{slug}"
        assert served.contract.response_errors("/changes", "get", response) == []
    assert recovered.status_code == 200


def test_injected_latency_delays_answers(served: Served) -> None:
    served.client.put("/admin/faults", json={"latency_ms": 250}).raise_for_status()
    try:
        started = time.perf_counter()
        response = served.client.get("/v1/changes", params={"limit": 1})
        elapsed = time.perf_counter() - started
    finally:
        served.client.delete("/admin/faults").raise_for_status()
    assert response.status_code == 200
    assert elapsed >= 0.25
