"""The three consumer views over a real server, checked against the registries' own data.

Expected answers are computed from the generated data files (what SAS, EMIS and CRA
hold), not from the hub's store; only the suspension flag, which the hub itself
decides, is compared with the ``suspension`` table. Certificate states the data never
has (expired; revoked after expiry) are planted in this module's private store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from fixtures.ids import luhn_check_digit
from hub.api.persons.models import (
    CertificateStatus,
    GoldenRecord,
    PersonRecord,
    SocialAssistanceStatus,
)
from hub.canonical import PersonIdentifier, Suspension, UnemploymentCertificate
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.store.engine import unit_of_work
from hub.store.types import utc_now
from tests.api.conftest import Hub
from tests.conftest import Population
from tests.support.problems import assert_problem

Record = dict[str, Any]
SA, CERTIFICATE, PERSON = "sa-status:read", "certificate:read", "person:read"
ROUTES: dict[str, tuple[str, type[BaseModel]]] = {
    SA: ("/v1/persons/{}/social-assistance", SocialAssistanceStatus),
    CERTIFICATE: ("/v1/persons/{}/unemployment-certificate", CertificateStatus),
    PERSON: ("/v1/persons/{}", PersonRecord),
}


def _jsonl(path: Path) -> list[Record]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@dataclass(frozen=True)
class Registries:
    """What CRA, SAS and EMIS hold, read from the generated data folder."""

    persons: list[Record]
    cases: list[Record]
    payments: list[Record]
    certificates: list[Record]
    jobseekers: list[Record]
    manifest: dict[str, Any]

    @classmethod
    def load(cls, population: Population) -> Registries:
        def read(registry: str, kind: str) -> list[Record]:
            return _jsonl(population.dir / registry / f"{kind}.jsonl")

        return cls(
            persons=read("cra", "persons"),
            cases=read("sas", "beneficiaries"),
            payments=read("sas", "payments"),
            certificates=read("emis", "certificates"),
            jobseekers=read("emis", "jobseekers"),
            manifest=population.manifest,
        )

    @property
    def suspended(self) -> set[str]:
        """Who the hub's policy (profile XK, as the store was filled) suspends."""
        return set(self.manifest["expected"]["suspensions"]["XK"])

    @property
    def returnees(self) -> set[str]:
        return {r["personal_no"] for r in self.manifest["returnee_identity"]}

    def cases_of(self, personal_no: str) -> list[Record]:
        return [case for case in self.cases if personal_no in _covered(case)]

    def certificates_of(self, personal_no: str) -> list[Record]:
        return [c for c in self.certificates if c["personal_no"] == personal_no]

    def person(self, personal_no: str) -> Record:
        return next(p for p in self.persons if p["personal_no"] == personal_no)


def _covered(case: Record) -> set[str]:
    return {case["personal_no"], *(m["personal_no"] for m in case["family_members"])}


@pytest.fixture(scope="module")
def data(population: Population) -> Registries:
    return Registries.load(population)


@pytest.fixture(scope="module")
def clients(hub: Hub) -> Iterator[dict[str, httpx.Client]]:
    """One client per purpose, each registered for that purpose alone."""
    opened = {scope: hub.client(hub.new_key(scope)) for scope in ROUTES}
    yield opened
    for client in opened.values():
        client.close()


def _get(clients: dict[str, httpx.Client], scope: str, personal_no: str) -> httpx.Response:
    return clients[scope].get(ROUTES[scope][0].format(personal_no))


# --- who to ask about: chosen from the data by what the registries say of them ---

Chooser = Callable[[Registries], str]
_MISMATCH = "certificate_status_mismatch"  # planted: EMIS and SAS's copy disagree


def _case_applicant(status: str) -> Chooser:
    def choose(data: Registries) -> str:
        return next(
            case["personal_no"]
            for case in data.cases
            if case["status"] == status and not _covered(case) & data.suspended
        )

    return choose


def _active_case_member(data: Registries) -> str:
    return next(
        member["personal_no"]
        for case in data.cases
        if case["status"] == "active" and not _covered(case) & data.suspended
        for member in case["family_members"]
        if member["personal_no"] != case["personal_no"]
    )


def _without_case(data: Registries) -> str:
    covered = set().union(*(_covered(case) for case in data.cases)) | data.suspended
    return next(p["personal_no"] for p in data.persons if p["personal_no"] not in covered)


def _certificate_holder(status: str) -> Chooser:
    def choose(data: Registries) -> str:
        planted = {m["personal_no"] for m in data.manifest["planted"][_MISMATCH]}
        return next(
            c["personal_no"]
            for c in data.certificates
            if c["status"] == status and c["personal_no"] not in planted
        )

    return choose


def _never_certified(data: Registries) -> str:
    holders = {c["personal_no"] for c in data.certificates}
    return next(p["personal_no"] for p in data.persons if p["personal_no"] not in holders)


def _status_mismatch(emis_status: str) -> Chooser:
    def choose(data: Registries) -> str:
        planted = data.manifest["planted"][_MISMATCH]
        return next(m["personal_no"] for m in planted if m["emis_status"] == emis_status)

    return choose


def _civil_person(matches: Callable[[Record, Registries], bool]) -> Chooser:
    def choose(data: Registries) -> str:
        return next(
            p["personal_no"]
            for p in data.persons
            if p["personal_no"] not in data.returnees and matches(p, data)
        )

    return choose


def _jobseeker_numbers(data: Registries) -> set[str]:
    return {j["personal_no"] for j in data.jobseekers}


# --- what the registries' data says each view must answer ---


def expected_social_assistance(data: Registries, personal_no: str) -> Record:
    cases = data.cases_of(personal_no)
    if not cases:
        none = SocialAssistanceStatus(personal_no=personal_no, beneficiary=False, status="none")
        return none.model_dump(mode="json")
    (case,) = cases  # the generated world puts a person in at most one case
    payments = sorted(
        (p for p in data.payments if p["case_no"] == case["case_no"]),
        key=lambda p: p["month"],
        reverse=True,
    )
    return {
        "personal_no": personal_no,
        "beneficiary": case["status"] in ("active", "suspended"),
        "category": case["category"],
        "status": case["status"],
        "since": case["since"],
        "last_payments": [
            {"month": p["month"], "amount": p["amount"], "paid_on": p["paid_on"]}
            for p in payments[:3]
        ],
        "suspension": None,
        "as_of": case["updated_at"],
        "source_registry": "sas",
    }


def expected_certificate(data: Registries, personal_no: str, today: date) -> Record:
    certificates = data.certificates_of(personal_no)
    if not certificates:
        return CertificateStatus(personal_no=personal_no, status="never-issued").model_dump(
            mode="json"
        )
    latest = max(certificates, key=lambda c: c["issued_on"])
    if latest["status"] == "revoked":
        state = "revoked"
    else:
        state = "valid" if date.fromisoformat(latest["valid_until"]) >= today else "expired"
    return {
        "personal_no": personal_no,
        "status": state,
        "certificate_no": latest["certificate_no"],
        "issued_on": latest["issued_on"],
        "valid_until": latest["valid_until"],
        "revoked_on": latest["revoked_on"],
        "revocation_reason": latest["revocation_reason"],
        "as_of": latest["updated_at"],
        "source_registry": "emis",
    }


# --- the shape of each view ---


@pytest.mark.parametrize("scope", list(ROUTES))
def test_each_view_answers_exactly_the_fields_of_its_purpose(
    data: Registries, clients: dict[str, httpx.Client], scope: str
) -> None:
    # a person every view has something to say about: a beneficiary holding a certificate
    personal_no = next(
        c["personal_no"] for c in data.certificates if data.cases_of(c["personal_no"])
    )
    response = _get(clients, scope, personal_no)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == set(ROUTES[scope][1].model_fields)


@pytest.mark.parametrize(
    ("scope", "other"),
    [(SA, CertificateStatus), (CERTIFICATE, SocialAssistanceStatus), (SA, GoldenRecord)],
    ids=["no certificate in social assistance", "no benefits in certificate", "no identity"],
)
def test_a_purpose_never_sees_the_fields_of_another(
    data: Registries, clients: dict[str, httpx.Client], scope: str, other: type[BaseModel]
) -> None:
    own = set(ROUTES[scope][1].model_fields)
    foreign = set(other.model_fields) - own
    assert foreign, "the models share every field; this test would prove nothing"
    for personal_no in (data.certificates[0]["personal_no"], data.cases[0]["personal_no"]):
        response = _get(clients, scope, personal_no)
        assert response.status_code == 200, response.text
        assert not set(response.json()) & foreign
        assert not foreign & set(_nested_keys(response.json()))


def _nested_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _nested_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _nested_keys(item)


# --- social assistance, as SAS holds it ---


@pytest.mark.parametrize(
    "choose",
    [
        pytest.param(_case_applicant("active"), id="applicant of an active case"),
        pytest.param(_active_case_member, id="family member of an active case"),
        pytest.param(_case_applicant("closed"), id="applicant of a closed case"),
        pytest.param(_without_case, id="covered by no case"),
    ],
)
def test_social_assistance_is_what_sas_holds(
    data: Registries, clients: dict[str, httpx.Client], choose: Chooser
) -> None:
    personal_no = choose(data)
    response = _get(clients, SA, personal_no)
    assert response.status_code == 200, response.text
    assert response.json() == expected_social_assistance(data, personal_no)


def test_exactly_the_persons_the_policy_suspends_carry_a_suspension_flag(
    hub: Hub, data: Registries, clients: dict[str, httpx.Client]
) -> None:
    decided = _decided_suspensions(hub.engine)
    assert set(decided) == data.suspended
    asked = sorted(set().union(*(_covered(case) for case in data.cases)) | data.suspended)
    flags = {pn: _get(clients, SA, pn).json()["suspension"] for pn in asked}
    assert {pn for pn, flag in flags.items() if flag is not None} == data.suspended
    for personal_no in data.suspended:
        flag = flags[personal_no]
        assert {key: flag[key] for key in decided[personal_no]} == decided[personal_no]
        assert flag["policy_profile"] == "XK"
        assert flag["status"] == "confirmed"
        assert flag["decided_by"] == "csw-test"
        assert flag["appeal_pending"] is False
        assert flag["suspended_until"] > flag["suspended_from"]


def _decided_suspensions(engine: Engine) -> dict[str, Record]:
    statement = select(
        col(PersonIdentifier.value),
        col(Suspension.suspended_from),
        col(Suspension.status),
        col(Suspension.policy_profile),
        col(Suspension.rule),
    ).where(
        col(PersonIdentifier.person_id) == col(Suspension.person_id),
        col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
        col(Suspension.status) != "lifted",
    )
    with Session(engine) as session:
        rows = session.execute(statement).all()
    return {
        pn: {"suspended_from": since.isoformat(), "status": status, "policy_profile": p, "rule": r}
        for pn, since, status, p, r in rows
    }


# --- unemployment certificates, as EMIS (the issuer) holds them ---


@pytest.mark.parametrize(
    "choose",
    [
        pytest.param(_certificate_holder("valid"), id="valid"),
        pytest.param(_certificate_holder("revoked"), id="revoked"),
        pytest.param(_never_certified, id="never issued"),
        pytest.param(_status_mismatch("valid"), id="valid in EMIS, revoked in SAS's copy"),
        pytest.param(_status_mismatch("revoked"), id="revoked in EMIS, valid in SAS's copy"),
    ],
)
def test_certificate_status_is_what_emis_holds(
    data: Registries, clients: dict[str, httpx.Client], choose: Chooser
) -> None:
    personal_no = choose(data)
    response = _get(clients, CERTIFICATE, personal_no)
    assert response.status_code == 200, response.text
    answer = response.json()
    consequence = answer.pop("consequence")
    expected = expected_certificate(data, personal_no, utc_now().date())
    expected.pop("consequence", None)
    assert answer == expected
    # a confirmed suspension's certificate consequence is shown with its decision (XK: refuse)
    if personal_no in data.suspended:
        assert consequence["action"] == "refuse"
        assert consequence["suspension"]["status"] == "confirmed"
    else:
        assert consequence is None


@pytest.mark.parametrize(
    ("nth", "emis_status", "revoked_on", "answered"),
    [(1, "valid", None, "expired"), (2, "revoked", date(2024, 6, 1), "revoked")],
    ids=["past its validity", "revoked, and past its validity too"],
)
def test_a_certificate_past_its_validity_is_expired_unless_revoked(
    hub: Hub,
    data: Registries,
    clients: dict[str, httpx.Client],
    nth: int,
    emis_status: str,
    revoked_on: date | None,
    answered: str,
) -> None:
    holders = {c["personal_no"] for c in data.certificates}
    # the nth person EMIS never certified (the 0th is _never_certified's, left untouched)
    uncertified = [p["personal_no"] for p in data.persons if p["personal_no"] not in holders]
    personal_no = uncertified[nth]
    certificate_no = f"UC-2024-{personal_no[:7]}"
    with unit_of_work(hub.engine) as session:
        person_id = session.execute(
            select(col(PersonIdentifier.person_id)).where(
                col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
                col(PersonIdentifier.value) == personal_no,
            )
        ).scalar_one()
        session.add(
            UnemploymentCertificate(
                source_registry="emis",
                as_of=datetime(2024, 1, 10, 9, 0, tzinfo=UTC),
                certificate_no=certificate_no,
                person_id=person_id,
                issued_on=date(2024, 1, 10),
                valid_until=date(2025, 1, 9),
                status=emis_status,
                revoked_on=revoked_on,
                revocation_reason="employed" if revoked_on else None,
            )
        )
    body = _get(clients, CERTIFICATE, personal_no).json()
    assert body["status"] == answered
    assert (body["certificate_no"], body["valid_until"]) == (certificate_no, "2025-01-09")


# --- the canonical record, with provenance ---


def _cra(script: str) -> Callable[[Record, Registries], bool]:
    return lambda p, _data: p["name_script"] == script and p["status"] == "alive"


@pytest.mark.parametrize(
    "choose",
    [
        pytest.param(_civil_person(_cra("Latn")), id="name in Latin script"),
        pytest.param(_civil_person(_cra("Cyrl")), id="name in Cyrillic script"),
        pytest.param(_civil_person(lambda p, _d: p["status"] == "deceased"), id="deceased"),
        pytest.param(
            _civil_person(lambda p, d: p["personal_no"] in _jobseeker_numbers(d)),
            id="registered jobseeker",
        ),
    ],
)
def test_person_record_is_the_civil_registry_with_provenance(
    data: Registries, clients: dict[str, httpx.Client], choose: Chooser
) -> None:
    personal_no = choose(data)
    cra = data.person(personal_no)
    response = _get(clients, PERSON, personal_no)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["personal_no"] == personal_no
    assert body["golden"] == {name: cra[name] for name in GoldenRecord.model_fields}

    expected_ids = {(PERSONAL_NO_SCHEME, personal_no, "cra")}
    expected_ids |= {
        ("EMIS-JS", j["jobseeker_id"], "emis")
        for j in data.jobseekers
        if j["personal_no"] == personal_no
    }
    assert {(i["scheme"], i["value"], i["source_registry"]) for i in body["identifiers"]} == (
        expected_ids
    )

    survivors = [a for a in body["attributes"] if a["survives"]]
    assert len({a["name"] for a in survivors}) == len(survivors), "one survivor per attribute"
    by_name = {a["name"]: a for a in survivors}
    for name, value in body["golden"].items():
        if value is not None:
            assert (by_name[name]["source_registry"], by_name[name]["value"]) == ("cra", value)


# --- errors ---


def _unknown_personal_no(data: Registries) -> str:
    known = {p["personal_no"] for p in data.persons}
    payloads = (str(n) for n in range(100_000_000, 1_000_000_000))
    return next(n for n in (p + luhn_check_digit(p) for p in payloads) if n not in known)


@pytest.mark.parametrize("scope", list(ROUTES))
def test_a_well_formed_but_unknown_personal_number_is_404(
    data: Registries, clients: dict[str, httpx.Client], scope: str
) -> None:
    problem = assert_problem(_get(clients, scope, _unknown_personal_no(data)), 404, "not-found")
    assert "personal number" in problem["detail"]


def _bad_check_digit(data: Registries) -> str:
    number = data.persons[0]["personal_no"]
    return number[:9] + str((int(number[9]) + 1) % 10)


MALFORMED: list[Any] = [
    pytest.param(lambda _d: "12345", id="too short"),
    pytest.param(lambda d: d.persons[0]["personal_no"] + "0", id="11 digits"),
    pytest.param(lambda _d: "abcdefghij", id="letters"),
    pytest.param(lambda d: "0" + d.persons[0]["personal_no"][1:], id="leading zero"),
    pytest.param(_bad_check_digit, id="bad check digit"),
    pytest.param(lambda _d: "1" * 33, id="longer than 32 characters"),
]


@pytest.mark.parametrize("scope", list(ROUTES))
@pytest.mark.parametrize("malformed", MALFORMED)
def test_a_malformed_personal_number_is_422_naming_the_field(
    data: Registries,
    clients: dict[str, httpx.Client],
    scope: str,
    malformed: Callable[[Registries], str],
) -> None:
    number = malformed(data)
    problem = assert_problem(_get(clients, scope, number), 422, "invalid-input")
    assert problem["invalid_fields"] == ["personal_no"]
    assert number not in problem["detail"]


def test_the_bad_check_digit_is_named_in_the_detail(
    data: Registries, clients: dict[str, httpx.Client]
) -> None:
    problem = assert_problem(_get(clients, SA, _bad_check_digit(data)), 422, "invalid-input")
    assert "check digit" in problem["detail"]


@pytest.mark.parametrize("scope", list(ROUTES))
def test_a_number_with_surrounding_spaces_is_refused_or_answered_canonically(
    data: Registries, clients: dict[str, httpx.Client], scope: str
) -> None:
    personal_no = data.cases[0]["personal_no"]
    response = _get(clients, scope, f" {personal_no} ")
    if response.status_code == 422:
        assert assert_problem(response, 422, "invalid-input")["invalid_fields"] == ["personal_no"]
    else:
        assert response.status_code == 200
        assert response.json()["personal_no"] == personal_no
