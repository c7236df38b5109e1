"""Delivering writes to EMIS, SAS and CMS over their real protocols, as the dispatcher does.

Writes change the mocks, so this module has its own (``own_registries``) and
each operation works on a person no other test here touches.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from lxml import etree

from hub.connectors.delivery import (
    CMS_WRITES,
    EMIS_WRITES,
    SAS_WRITES,
    WRITE_OPERATIONS,
    Acknowledgement,
    WriteContract,
    WriteOperation,
    WriteRecord,
    validate_write,
)
from hub.connectors.registry import open_connector, open_writer
from hub.errors import InvalidInput, RegistryRejected
from hub.settings import RegistryName, Settings
from mocks.core.server import RunningRegistries
from tests.conftest import Population
from tests.support.registries import fast_settings

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
UNKNOWN_PN = "9999999999"
Record = dict[str, Any]


def new_key() -> str:
    """A fresh idempotency key, as the outbox makes one per message."""
    return f"test-{uuid.uuid4()}"


def stats(registries: RunningRegistries, registry: str) -> Record:
    """The mock's counters: requests, and writes applied and replayed per operation."""
    answer: Record = httpx.get(f"{registries.url(registry)}/admin/stats").json()
    return answer


def writes_counted(registries: RunningRegistries, registry: str) -> tuple[int, int]:
    """How many writes the registry applied and replayed, over all operations."""
    ledger = stats(registries, registry)["idempotency"]
    return sum(ledger["applied"].values()), sum(ledger["replayed"].values())


@dataclass(frozen=True)
class People:
    """Generated records to write about, each operation taking its own."""

    jobseekers: list[Record]  # active, with a personal number and at least one offer
    offers: dict[str, Record]  # an offer of each of those jobseekers, by personal number
    certificates: list[Record]
    cases: list[Record]  # active SAS cases
    returnees: list[Record]  # open CMS cases of returnees with a personal number
    unnumbered: list[Record]  # CMS returnees without a personal number


def _rows(path: Path) -> list[Record]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def people(population: Population) -> People:
    data = population.dir
    offers = {o["personal_no"]: o for o in reversed(_rows(data / "emis" / "job_offers.jsonl"))}
    jobseekers = [
        j
        for j in _rows(data / "emis" / "jobseekers.jsonl")
        if j["status"] == "active" and j["personal_no"] in offers
    ]
    returnees = _rows(data / "cms" / "returnees.jsonl")
    return People(
        jobseekers=jobseekers,
        offers=offers,
        certificates=_rows(data / "emis" / "certificates.jsonl"),
        cases=[c for c in _rows(data / "sas" / "beneficiaries.jsonl") if c["status"] == "active"],
        returnees=[r for r in returnees if r["personal_no"] and r["case_status"] == "open"],
        unnumbered=[r for r in returnees if not r["personal_no"]],
    )


@pytest.fixture(scope="module")
def settings(own_registries: RunningRegistries) -> Settings:
    return fast_settings(own_registries)


@pytest.fixture(autouse=True)
def _healed(own_registries: RunningRegistries) -> Iterator[None]:
    yield
    for name in ("emis", "sas", "cms"):
        httpx.delete(f"{own_registries.url(name)}/admin/faults").raise_for_status()


# ---------------------------------------------------------------- one case per operation


@dataclass(frozen=True)
class Case:
    """A write, whose record to look up afterwards, and how the change shows there.

    ``before`` is a write (operation, payload) sent first to the same registry, for
    operations that undo an earlier one.
    """

    payload: Record
    personal_no: str
    shows: Callable[[Record, Acknowledgement], bool]
    before: tuple[str, Record] | None = None


def _jobseeker(answer: Record) -> Record:
    record: Record = answer["jobseeker"]
    return record


def set_social_assistance_status(p: People) -> Case:
    pn = p.jobseekers[0]["personal_no"]
    payload = {"personalNo": pn, "category": "II", "since": "2026-10-01", "caseNo": "SA-0000001"}
    return Case(payload, pn, lambda a, _: _jobseeker(a)["socialAssistance"]["category"] == "II")


def terminate_jobseeker(p: People) -> Case:
    pn = p.jobseekers[1]["personal_no"]
    payload = {
        "personalNo": pn,
        "reason": "employed",
        "effectiveDate": "2026-10-15",
        "employerTin": "600123456",
    }
    return Case(payload, pn, lambda a, _: _jobseeker(a)["status"] == "terminated")


def move_to_end_of_offer_list(p: People) -> Case:
    pn = p.jobseekers[2]["personal_no"]
    offer = p.offers[pn]["offer_id"]
    payload = {"personalNo": pn, "offerId": offer}
    return Case(payload, pn, lambda a, _: _jobseeker(a)["offerList"]["offerId"] == offer)


def _flag(pn: str, decision_ref: str, action: str) -> Record:
    return {
        "personalNo": pn,
        "suspendedFrom": "2026-11-01",
        "suspendedUntil": "2027-01-31",
        "rule": "XK-REFUSALS-2",
        "decisionRef": decision_ref,
        "certificateAction": action,
    }


def set_benefit_suspension_flag(p: People) -> Case:
    pn = p.jobseekers[3]["personal_no"]
    payload = _flag(pn, "CSW-07/2026/118", "refuse")
    return Case(
        payload,
        pn,
        lambda a, _: (
            _jobseeker(a)["benefitSuspension"]["suspendedUntil"] == date(2027, 1, 31)
            and _jobseeker(a)["certificateIssuanceBlock"]["decisionRef"] == "CSW-07/2026/118"
        ),
    )


def clear_benefit_suspension_flag(p: People) -> Case:
    pn = p.jobseekers[8]["personal_no"]
    payload = {
        "personalNo": pn,
        "decisionRef": "CSW-07/2026/119",
        "clearedOn": "2026-12-10",
        "reason": "appeal_overturned",
    }
    flag = _flag(pn, "CSW-07/2026/119", "revoke")
    return Case(
        payload,
        pn,
        lambda a, _: (
            _jobseeker(a)["benefitSuspension"] is None
            and not any(c["decisionRef"] and c["status"] == "revoked" for c in a["certificate"])
        ),
        before=("SetBenefitSuspensionFlag", flag),
    )


def register_returnee_referral(p: People) -> Case:
    returnee = p.returnees[0]
    payload = {
        "returneeId": returnee["returnee_id"],
        "personalNo": returnee["personal_no"],
        "firstName": returnee["first_name"],
        "lastName": returnee["last_name"],
        "birthDate": returnee["birth_date"],
        "sex": returnee["sex"],
        "municipalityCode": returnee["municipality_code"],
    }
    return Case(
        payload,
        returnee["personal_no"],
        lambda a, ack: _jobseeker(a)["jobseekerId"] == ack.details["jobseekerId"],
    )


def emis_record_address_change(p: People) -> Case:
    pn = p.jobseekers[4]["personal_no"]
    payload = {
        "personalNo": pn,
        "municipalityCode": "13",
        "address": "Rruga Nëna Terezë 12",
        "effectiveDate": "2026-10-20",
    }
    return Case(payload, pn, lambda a, _: _jobseeker(a)["address"] == payload["address"])


def record_unemployment_certificate(p: People) -> Case:
    cert = p.certificates[0]
    payload = {
        "certificateNo": cert["certificate_no"],
        "personalNo": cert["personal_no"],
        "issuedOn": cert["issued_on"],
        "validUntil": cert["valid_until"],
        "status": "revoked",
        "revokedOn": "2026-10-30",
        "revocationReason": "employed",
    }
    return Case(
        payload,
        cert["personal_no"],
        lambda a, _: any(
            c["certificateNo"] == cert["certificate_no"] and c["status"] == "revoked"
            for c in a["certificate"]
        ),
    )


def record_job_offer_refusal(p: People) -> Case:
    pn = p.jobseekers[5]["personal_no"]
    offer = p.offers[pn]
    payload = {
        "offerId": offer["offer_id"],
        "personalNo": pn,
        "refusedOn": "2026-10-03",
        "reasonCode": "R10",
        "offerKind": offer["offer_kind"],
        "employerName": offer["employer_name"],
        "occupationCode": offer["occupation_code"],
        "offeredOn": offer["offered_on"],
    }
    return Case(
        payload,
        pn,
        lambda a, _: any(
            (r["offerId"], r["offerKind"]) == (offer["offer_id"], offer["offer_kind"])
            for r in a["refusal"]
        ),
    )


def _suspension(pn: str, decision_ref: str) -> Record:
    return {
        "personalNo": pn,
        "suspendedFrom": "2026-11-01",
        "suspendedUntil": "2027-01-31",
        "rule": "XK-REFUSALS-2",
        "decisionRef": decision_ref,
        "decidedBy": "CSW-07",
        "offerId": ["JO-0000001", "JO-0000002"],
    }


def set_benefit_suspension(p: People) -> Case:
    pn = p.cases[0]["personal_no"]
    payload = _suspension(pn, "HUB-2026-0001")
    return Case(
        payload,
        pn,
        lambda a, _: (
            a["beneficiary"]["status"] == "suspended"
            and a["beneficiary"]["suspension"][0]["suspendedUntil"] == date(2027, 1, 31)
        ),
    )


def lift_benefit_suspension(p: People) -> Case:
    pn = p.cases[6]["personal_no"]
    payload = {
        "personalNo": pn,
        "decisionRef": "HUB-2026-0002",
        "liftedOn": "2026-12-10",
        "reason": "appeal_overturned",
        "arrearsFrom": "2026-11-01",
        "arrearsUntil": "2026-12-09",
    }
    return Case(
        payload,
        pn,
        lambda a, _: (
            a["beneficiary"]["status"] == "active"
            and (a["decision"][-1]["kind"], a["decision"][-1]["arrearsUntil"])
            == ("lift", date(2026, 12, 9))
        ),
        before=("SetBenefitSuspension", _suspension(pn, "HUB-2026-0002")),
    )


def record_death(p: People) -> Case:
    case = next(c for c in p.cases[7:] if len(c["family_members"]) > 1)
    member = next(
        m["personal_no"] for m in case["family_members"] if m["personal_no"] != case["personal_no"]
    )
    payload = {"personalNo": member, "dateOfDeath": "2026-10-02"}
    return Case(
        payload,
        case["personal_no"],
        lambda a, _: (
            a["beneficiary"]["status"] == case["status"]
            and {m["personalNo"]: m["dateOfDeath"] for m in a["beneficiary"]["familyMember"]}[
                member
            ]
            == date(2026, 10, 2)
        ),
    )


def record_jobseeker_profile(p: People) -> Case:
    pn = p.jobseekers[9]["personal_no"]
    payload = {
        "personalNo": pn,
        "educationLevel": "primary",
        "employmentStatus": "registered",
        "statusSince": "2025-03-01",
        "profilingSegment": "average",
        "almpMeasure": [
            {"measureCode": "OJT", "startDate": "2025-05-01", "endDate": "2025-10-31"},
            {"measureCode": "WAGE_SUBSIDY", "startDate": date(2026, 3, 1)},
        ],
    }
    return Case(
        payload,
        pn,
        lambda a, _: (
            [m["measureCode"] for m in a["jobseekerProfile"]["almpMeasure"]]
            == ["OJT", "WAGE_SUBSIDY"]
        ),
    )


def record_income(p: People) -> Case:
    pn = p.cases[1]["personal_no"]
    payload = {
        "personalNo": pn,
        "employerTin": "600123456",
        "period": "2026-09",
        "grossWage": 512.5,
    }
    return Case(payload, pn, lambda a, _: any(i["period"] == "2026-09" for i in a["income"]))


def stop_benefits(p: People) -> Case:
    pn = p.cases[2]["personal_no"]
    payload = {"personalNo": pn, "reason": "deceased", "effectiveDate": "2026-10-09"}
    return Case(payload, pn, lambda a, _: a["beneficiary"]["status"] == "closed")


def sas_record_address_change(p: People) -> Case:
    pn = p.cases[3]["personal_no"]
    payload = {
        "personalNo": pn,
        "municipalityCode": "22",
        "address": "Rruga UÇK 5",
        "effectiveDate": "2026-10-20",
    }
    return Case(payload, pn, lambda a, _: a["beneficiary"]["municipalityCode"] == "22")


def _returnee(answer: Record, returnee_id: str) -> Record:
    record: Record = next(r for r in answer["items"] if r["returnee_id"] == returnee_id)
    return record


def record_employment_registration(p: People) -> Case:
    returnee = p.returnees[1]
    rid = returnee["returnee_id"]
    payload = {
        "returnee_id": rid,
        "emis_registered": True,
        "jobseeker_id": "JS-0000042",
        "employment_status": "unemployed",
        "as_of": "2026-10-01",
    }
    return Case(
        payload,
        returnee["personal_no"],
        lambda a, _: _returnee(a, rid)["jobseeker_id"] == "JS-0000042",
    )


def close_case(p: People) -> Case:
    returnee = p.returnees[2]
    rid = returnee["returnee_id"]
    payload = {"returnee_id": rid, "reason": "deceased", "effective_date": "2026-10-09"}
    return Case(
        payload,
        returnee["personal_no"],
        lambda a, _: _returnee(a, rid)["closed_on"] == "2026-10-09",
    )


WRITES: list[tuple[RegistryName, str, Callable[[People], Case]]] = [
    ("emis", "SetSocialAssistanceStatus", set_social_assistance_status),
    ("emis", "TerminateJobseeker", terminate_jobseeker),
    ("emis", "MoveToEndOfOfferList", move_to_end_of_offer_list),
    ("emis", "SetBenefitSuspensionFlag", set_benefit_suspension_flag),
    ("emis", "ClearBenefitSuspensionFlag", clear_benefit_suspension_flag),
    ("emis", "RegisterReturneeReferral", register_returnee_referral),
    ("emis", "RecordAddressChange", emis_record_address_change),
    ("sas", "RecordUnemploymentCertificate", record_unemployment_certificate),
    ("sas", "RecordJobOfferRefusal", record_job_offer_refusal),
    ("sas", "SetBenefitSuspension", set_benefit_suspension),
    ("sas", "LiftBenefitSuspension", lift_benefit_suspension),
    ("sas", "RecordDeath", record_death),
    ("sas", "RecordJobseekerProfile", record_jobseeker_profile),
    ("sas", "RecordIncome", record_income),
    ("sas", "StopBenefits", stop_benefits),
    ("sas", "RecordAddressChange", sas_record_address_change),
    ("cms", "RecordEmploymentRegistration", record_employment_registration),
    ("cms", "CloseCase", close_case),
]


def test_every_write_operation_is_tested() -> None:
    tested = {(registry, operation) for registry, operation, _ in WRITES}
    declared = {(r, op) for r, ops in WRITE_OPERATIONS.items() for op in ops}
    assert tested == declared


@pytest.mark.parametrize(
    ("registry", "operation", "build"), WRITES, ids=[f"{r}-{op}" for r, op, _ in WRITES]
)
def test_a_write_is_applied_once_shows_in_the_registry_and_a_replay_is_a_duplicate(
    registry: RegistryName,
    operation: str,
    build: Callable[[People], Case],
    people: People,
    settings: Settings,
    own_registries: RunningRegistries,
) -> None:
    case, key = build(people), new_key()
    writer = open_writer(registry, settings)
    if case.before is not None:
        writer.send(*case.before, idempotency_key=new_key())
    applied, replayed = writes_counted(own_registries, registry)

    ack = writer.send(operation, case.payload, idempotency_key=key)

    assert (ack.registry, ack.operation, ack.idempotency_key) == (registry, operation, key)
    assert ack.outcome == "applied"
    assert set(ack.details) == (
        {"jobseekerId"} if operation == "RegisterReturneeReferral" else set()
    )
    answer = open_connector(registry, settings).lookup(case.personal_no)
    assert case.shows(answer, ack)

    again = writer.send(operation, case.payload, idempotency_key=key)

    assert again == Acknowledgement(registry, operation, key, "duplicate", ack.details)
    assert writes_counted(own_registries, registry) == (applied + 1, replayed + 1)


def test_a_referral_without_personal_number_shows_in_the_change_feed(
    people: People, settings: Settings
) -> None:
    returnee = people.unnumbered[0]
    payload = {
        "returneeId": returnee["returnee_id"],
        "firstName": returnee["first_name"],
        "lastName": returnee["last_name"],
        "birthDate": date.fromisoformat(returnee["birth_date"]),
        "sex": returnee["sex"],
        "municipalityCode": returnee["municipality_code"],
    }
    ack = open_writer("emis", settings).send(
        "RegisterReturneeReferral", payload, idempotency_key=new_key()
    )
    emis = open_connector("emis", settings)
    page = emis.changes(None, 1000)
    while page.has_more:
        page = emis.changes(page.next_cursor, 1000)
    assert page.items[-1].data["jobseekerId"] == ack.details["jobseekerId"]
    assert page.items[-1].data["returneeId"] == returnee["returnee_id"]


# ---------------------------------------------------------------- dates: objects or ISO strings

DATED: list[tuple[RegistryName, str, Record]] = [
    (
        "emis",
        "TerminateJobseeker",
        {"personalNo": "", "reason": "deceased", "effectiveDate": date(2026, 9, 30)},
    ),
    (
        "sas",
        "RecordJobOfferRefusal",
        {"offerId": "", "personalNo": "", "refusedOn": date(2026, 9, 2), "reasonCode": "R01"},
    ),
    (
        "cms",
        "RecordEmploymentRegistration",
        {
            "returnee_id": "",
            "emis_registered": False,
            "jobseeker_id": None,
            "employment_status": "unknown",
            "as_of": date(2026, 9, 1),
        },
    ),
]


@pytest.mark.parametrize(("registry", "operation", "template"), DATED, ids=[d[1] for d in DATED])
def test_date_objects_and_iso_strings_send_the_same_write(
    registry: RegistryName,
    operation: str,
    template: Record,
    people: People,
    settings: Settings,
) -> None:
    jobseeker = people.jobseekers[6]
    fill = {
        "personalNo": jobseeker["personal_no"],
        "offerId": people.offers[jobseeker["personal_no"]]["offer_id"],
        "returnee_id": people.unnumbered[1]["returnee_id"],
    }
    with_dates = {k: fill[k] if v == "" else v for k, v in template.items()}
    as_stored = json.loads(json.dumps(with_dates, default=date.isoformat))  # as in the outbox
    assert any(isinstance(v, date) for v in with_dates.values())
    writer, key = open_writer(registry, settings), new_key()

    assert writer.send(operation, with_dates, idempotency_key=key).outcome == "applied"
    assert writer.send(operation, as_stored, idempotency_key=key).outcome == "duplicate"


# ---------------------------------------------------------------- refusals


def test_the_same_key_with_other_content_is_rejected_and_nothing_more_is_applied(
    people: People, settings: Settings, own_registries: RunningRegistries
) -> None:
    cases: list[tuple[RegistryName, str, Record, Record, str]] = [
        (
            "emis",
            "SetSocialAssistanceStatus",
            {
                "personalNo": people.jobseekers[7]["personal_no"],
                "category": "I",
                "since": "2026-01-01",
            },
            {"category": "NONE"},
            "IdempotencyConflict",
        ),
        (
            "sas",
            "RecordIncome",
            {
                "personalNo": people.cases[4]["personal_no"],
                "employerTin": "600123456",
                "period": "2026-08",
                "grossWage": "400.00",
            },
            {"grossWage": "4000.00"},
            "IdempotencyConflict",
        ),
        (
            "cms",
            "CloseCase",
            {
                "returnee_id": people.unnumbered[2]["returnee_id"],
                "reason": "other",
                "effective_date": "2026-10-01",
            },
            {"reason": "deceased"},
            "idempotency-conflict",
        ),
    ]
    for registry, operation, payload, change, code in cases:
        writer, key = open_writer(registry, settings), new_key()
        writer.send(operation, payload, idempotency_key=key)
        applied, _ = writes_counted(own_registries, registry)

        with pytest.raises(RegistryRejected) as refused:
            writer.send(operation, {**payload, **change}, idempotency_key=key)

        assert refused.value.code == code
        assert refused.value.registry == registry
        assert "idempotency key" in str(refused.value)
        assert writes_counted(own_registries, registry)[0] == applied


REFUSED: list[tuple[RegistryName, str, Record, str]] = [
    (
        "emis",
        "TerminateJobseeker",
        {"personalNo": UNKNOWN_PN, "reason": "employed", "effectiveDate": "2026-10-01"},
        "PersonNotFound",
    ),
    (
        "emis",
        "MoveToEndOfOfferList",
        {"personalNo": UNKNOWN_PN, "offerId": "JO-0000001"},
        "PersonNotFound",
    ),
    (
        "sas",
        "StopBenefits",
        {"personalNo": UNKNOWN_PN, "reason": "other", "effectiveDate": "2026-10-01"},
        "PersonNotFound",
    ),
    (
        "sas",
        "LiftBenefitSuspension",
        {
            "personalNo": UNKNOWN_PN,
            "decisionRef": "HUB-2026-0009",
            "liftedOn": "2026-12-01",
            "reason": "ended",
        },
        "PersonNotFound",
    ),
    (
        "sas",
        "RecordDeath",
        {"personalNo": UNKNOWN_PN, "dateOfDeath": "2026-10-01"},
        "PersonNotFound",
    ),
    (
        "emis",
        "ClearBenefitSuspensionFlag",
        {
            "personalNo": UNKNOWN_PN,
            "decisionRef": "HUB-2026-0009",
            "clearedOn": "2026-12-01",
            "reason": "ended",
        },
        "PersonNotFound",
    ),
    (
        "sas",
        "LiftBenefitSuspension",
        {
            "personalNo": UNKNOWN_PN,
            "decisionRef": "HUB-2026-0009",
            "liftedOn": "2026-12-01",
            "reason": "ended",
            "arrearsFrom": "2026-11-01",
            "arrearsUntil": "2026-11-30",
        },
        "InvalidRequest",
    ),
    (
        "cms",
        "CloseCase",
        {"returnee_id": "RT-9999999", "reason": "other", "effective_date": "2026-10-01"},
        "returnee-not-found",
    ),
    (
        "sas",
        "RecordIncome",
        {"personalNo": UNKNOWN_PN, "employerTin": "12345", "period": "2026-09", "grossWage": 1},
        "InvalidRequest",
    ),
    (
        "cms",
        "RecordEmploymentRegistration",
        {
            "returnee_id": "RT-0000001",
            "emis_registered": True,
            "jobseeker_id": "JS-0000001",
            "employment_status": "retired",
            "as_of": "2026-10-01",
        },
        "invalid-request",
    ),
]


@pytest.mark.parametrize(
    ("registry", "operation", "payload", "code"), REFUSED, ids=[f"{r[1]}-{r[3]}" for r in REFUSED]
)
def test_an_unknown_person_or_invalid_content_is_rejected_once_not_retried(
    registry: RegistryName,
    operation: str,
    payload: Record,
    code: str,
    own_registries: RunningRegistries,
) -> None:
    writer = open_writer(registry, fast_settings(own_registries, max_attempts=3))
    writer.send(*WARM_UP[registry], idempotency_key=new_key())  # loads the WSDL first
    before = stats(own_registries, registry)["requests"]

    with pytest.raises(RegistryRejected) as refused:
        writer.send(operation, payload, idempotency_key=new_key())

    assert type(refused.value) is RegistryRejected
    assert refused.value.code == code
    assert UNKNOWN_PN not in str(refused.value)
    assert stats(own_registries, registry)["requests"] - before == 1


WARM_UP: dict[str, tuple[str, Record]] = {
    "emis": (
        "RegisterReturneeReferral",
        {
            "returneeId": "RT-0999999",
            "firstName": "Test",
            "lastName": "Warm",
            "birthDate": "1990-01-01",
            "sex": "F",
            "municipalityCode": "01",
        },
    ),
    "sas": (
        "RecordJobOfferRefusal",
        {
            "offerId": "JO-0000001",
            "personalNo": "1000000001",
            "refusedOn": "2026-01-01",
            "reasonCode": "R11",
        },
    ),
    "cms": (
        "CloseCase",
        {"returnee_id": "RT-0000001", "reason": "other", "effective_date": "2026-10-01"},
    ),
}


# ---------------------------------------------------------------- refused before any request

PROFILE: Record = {
    "personalNo": UNKNOWN_PN,
    "educationLevel": "none",
    "employmentStatus": "registered",
    "statusSince": "2026-01-01",
}

NEVER_SENT: list[tuple[RegistryName, str, Record, str, str]] = [
    ("emis", "GetJobseeker", {"personalNo": UNKNOWN_PN}, "operation", "a read"),
    ("emis", "RecordIncome", {"personalNo": UNKNOWN_PN}, "operation", "another registry's"),
    ("cms", "DeleteReturnee", {"returnee_id": "RT-0000001"}, "operation", "unknown"),
    (
        "sas",
        "StopBenefits",
        {"personalNo": UNKNOWN_PN, "reason": "other"},
        "payload.effectiveDate",
        "missing field",
    ),
    (
        "emis",
        "MoveToEndOfOfferList",
        {"personalNo": UNKNOWN_PN, "offerId": "JO-0000001", "idempotencyKey": "k" * 12},
        "payload.idempotencyKey",
        "key inside the payload",
    ),
    (
        "cms",
        "CloseCase",
        {"returnee_id": "RT-0000001", "reason": "other", "effective_date": "01.10.2026"},
        "payload.effective_date",
        "not an ISO date",
    ),
    (
        "emis",
        "TerminateJobseeker",
        {
            "personalNo": UNKNOWN_PN,
            "reason": "employed",
            "effectiveDate": datetime(2026, 10, 1, 12, 0),
        },
        "payload.effectiveDate",
        "a timestamp for a date",
    ),
    (
        "sas",
        "SetBenefitSuspension",
        {
            "personalNo": UNKNOWN_PN,
            "suspendedFrom": "2026-10-01",
            "suspendedUntil": "2026-12-31",
            "rule": "XK",
            "decisionRef": "D",
            "offerId": "JO-0000001",
        },
        "payload.offerId",
        "one value for a list",
    ),
    (
        "sas",
        "SetBenefitSuspension",
        {"personalNo": UNKNOWN_PN, "suspendedFrom": "2026-10-01", "rule": "XK", "decisionRef": "D"},
        "payload.suspendedUntil",
        "a suspension without its end",
    ),
    (
        "emis",
        "SetBenefitSuspensionFlag",
        {
            "personalNo": UNKNOWN_PN,
            "suspendedFrom": "2026-10-01",
            "suspendedUntil": "2026-12-31",
            "rule": "XK",
            "decisionRef": "D",
        },
        "payload.certificateAction",
        "a flag without its certificate action",
    ),
    (
        "sas",
        "RecordJobseekerProfile",
        {**PROFILE, "almpMeasure": {"measureCode": "OJT", "startDate": "2026-01-01"}},
        "payload.almpMeasure",
        "one record for a list",
    ),
    (
        "sas",
        "RecordJobseekerProfile",
        {**PROFILE, "almpMeasure": ["OJT"]},
        "payload.almpMeasure[0]",
        "a value for a record",
    ),
    (
        "sas",
        "RecordJobseekerProfile",
        {**PROFILE, "almpMeasure": [{"measureCode": "OJT", "startDate": "2026-01-01"}, {}]},
        "payload.almpMeasure[1].measureCode",
        "a record without a required field",
    ),
    (
        "sas",
        "RecordJobseekerProfile",
        {**PROFILE, "almpMeasure": [{"measureCode": "OJT", "startDate": "2026-01-01", "x": 1}]},
        "payload.almpMeasure[0].x",
        "a record with an unknown field",
    ),
    (
        "sas",
        "RecordJobseekerProfile",
        {**PROFILE, "almpMeasure": [{"measureCode": "OJT", "startDate": "01.01.2026"}]},
        "payload.almpMeasure[0].startDate",
        "a record with a bad date",
    ),
    (
        "cms",
        "RecordEmploymentRegistration",
        {
            "returnee_id": "RT-0000001",
            "emis_registered": True,
            "employment_status": "employed",
            "as_of": "2026-10-01",
        },
        "payload.jobseeker_id",
        "nullable but required",
    ),
]


@pytest.mark.parametrize(
    ("registry", "operation", "payload", "field"),
    [n[:4] for n in NEVER_SENT],
    ids=[n[4] for n in NEVER_SENT],
)
def test_a_write_that_can_never_be_delivered_fails_without_a_request(
    registry: RegistryName,
    operation: str,
    payload: Record,
    field: str,
    settings: Settings,
    own_registries: RunningRegistries,
) -> None:
    before = stats(own_registries, registry)["requests"]
    with pytest.raises(InvalidInput) as invalid:
        open_writer(registry, settings).send(operation, payload, idempotency_key=new_key())
    assert invalid.value.field == field
    assert UNKNOWN_PN not in str(invalid.value)
    with pytest.raises(InvalidInput):
        validate_write(registry, operation, payload)
    assert stats(own_registries, registry)["requests"] == before


def test_a_soap_idempotency_key_shorter_than_the_contract_allows_is_not_sent(
    settings: Settings, own_registries: RunningRegistries
) -> None:
    before = stats(own_registries, "sas")["requests"]
    payload = {"personalNo": UNKNOWN_PN, "reason": "other", "effectiveDate": "2026-10-01"}
    with pytest.raises(InvalidInput) as invalid:
        open_writer("sas", settings).send("StopBenefits", payload, idempotency_key="k-1")
    assert invalid.value.field == "idempotency_key"
    assert stats(own_registries, "sas")["requests"] == before


@pytest.mark.parametrize("registry", ["tak", "cra"])
def test_registries_without_writes_have_no_writer(
    registry: RegistryName, settings: Settings
) -> None:
    assert WRITE_OPERATIONS[registry] == frozenset()
    with pytest.raises(InvalidInput, match="receives no writes") as invalid:
        open_writer(registry, settings)
    assert invalid.value.field == "registry"
    with pytest.raises(InvalidInput):
        validate_write(registry, "Anything", {})


# ---------------------------------------------------------------- transient failures


@pytest.mark.parametrize("registry", ["sas", "cms"])
def test_a_transient_failure_is_retried_within_one_send_and_applied_once(
    registry: RegistryName, people: People, own_registries: RunningRegistries
) -> None:
    writer = open_writer(registry, fast_settings(own_registries, max_attempts=3))
    writer.send(*WARM_UP[registry], idempotency_key=new_key())
    operation, payload = {
        "sas": (
            "RecordIncome",
            {
                "personalNo": people.cases[5]["personal_no"],
                "employerTin": "600123456",
                "period": "2026-07",
                "grossWage": 300,
            },
        ),
        "cms": (
            "CloseCase",
            {
                "returnee_id": people.unnumbered[3]["returnee_id"],
                "reason": "other",
                "effective_date": "2026-10-01",
            },
        ),
    }[registry]
    httpx.put(
        f"{own_registries.url(registry)}/admin/faults",
        json={"fail_next": 2, "error_status": 503, "retry_after": 0},
    ).raise_for_status()
    before = stats(own_registries, registry)["requests"]
    applied, _ = writes_counted(own_registries, registry)

    ack = writer.send(operation, payload, idempotency_key=new_key())

    assert ack.outcome == "applied"
    assert stats(own_registries, registry)["requests"] - before == 3
    assert writes_counted(own_registries, registry)[0] == applied + 1


# ---------------------------------------------------------------- the tables follow the contracts

XS = "{http://www.w3.org/2001/XMLSchema}"
WSDL = "{http://schemas.xmlsoap.org/wsdl/}"


def _names(
    fields: list[etree._Element], attribute: str, value: str, *, negate: bool = False
) -> tuple[str, ...]:
    return tuple(str(f.get("name")) for f in fields if (f.get(attribute) == value) is not negate)


def _soap_operations(registry: str) -> dict[str, WriteOperation]:
    """The write operations as the WSDL and XSD declare them (a write carries idempotencyKey)."""
    wsdl = etree.parse(str(CONTRACTS / registry / f"{registry}-v1.wsdl"))
    xsd = etree.parse(str(CONTRACTS / registry / f"{registry}-types-v1.xsd"))
    port_type = wsdl.find(f"{WSDL}portType")
    assert port_type is not None
    declared: dict[str, WriteOperation] = {}
    for operation in port_type.iter(f"{WSDL}operation"):
        name = str(operation.get("name"))
        element = xsd.find(f"{XS}element[@name='{name}']")
        assert element is not None, name
        children = [f for f in element.iter(f"{XS}element") if f is not element]
        fields = [f for f in children if f.get("name") != "idempotencyKey"]
        if len(fields) == len(children):
            continue  # a read
        declared[name] = WriteOperation(
            name=name,
            required=_names(fields, "minOccurs", "0", negate=True),
            optional=_names(fields, "minOccurs", "0"),
            dates=_names(fields, "type", "xs:date"),
            repeated=_names(fields, "maxOccurs", "unbounded"),
            records=tuple(_record(xsd, f) for f in fields if _complex(xsd, f) is not None),
        )
    return declared


def _complex(xsd: etree._ElementTree, field: etree._Element) -> etree._Element | None:
    """The named complexType a field's type refers to, if it is one."""
    local = str(field.get("type", "")).removeprefix("tns:")
    return xsd.find(f"{XS}complexType[@name='{local}']")


def _record(xsd: etree._ElementTree, field: etree._Element) -> WriteRecord:
    complex_type = _complex(xsd, field)
    assert complex_type is not None
    fields = list(complex_type.iter(f"{XS}element"))
    return WriteRecord(
        name=str(field.get("name")),
        required=_names(fields, "minOccurs", "0", negate=True),
        optional=_names(fields, "minOccurs", "0"),
        dates=_names(fields, "type", "xs:date"),
    )


@pytest.mark.parametrize(
    ("registry", "contract"), [("emis", EMIS_WRITES), ("sas", SAS_WRITES)], ids=["emis", "sas"]
)
def test_the_soap_write_tables_follow_the_wsdl(
    registry: str, contract: WriteContract[WriteOperation]
) -> None:
    declared = _soap_operations(registry)
    assert contract.names == set(declared)
    for spec in contract.operations:
        expected = declared[spec.name]
        assert set(spec.required) == set(expected.required), spec.name
        assert set(spec.optional) == set(expected.optional), spec.name
        assert set(spec.dates) == set(expected.dates), spec.name
        assert set(spec.repeated) == set(expected.repeated), spec.name
        assert {r.name: (set(r.required), set(r.optional), set(r.dates)) for r in spec.records} == {
            r.name: (set(r.required), set(r.optional), set(r.dates)) for r in expected.records
        }, spec.name


def test_the_cms_write_table_follows_the_openapi_contract() -> None:
    api = yaml.safe_load((CONTRACTS / "cms" / "cms-openapi-v1.yaml").read_text())
    schemas = api["components"]["schemas"]
    writes = {
        (method.upper(), f"/v1{path}"): schemas[
            op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        ]
        for path, ops in api["paths"].items()
        for method, op in ops.items()
        if method in ("put", "post", "patch")
    }
    assert {(op.method, op.path) for op in CMS_WRITES.operations} == set(writes)
    for spec in CMS_WRITES.operations:
        body = writes[(spec.method, spec.path)]
        assert set(spec.fields) - set(spec.path_fields) == set(body["properties"]), spec.name
        assert set(spec.required) - set(spec.path_fields) == set(body["required"]), spec.name
        dates = {k for k, v in body["properties"].items() if v.get("format") == "date"}
        assert set(spec.dates) == dates, spec.name
        nullable = {
            k
            for k, v in body["properties"].items()
            if isinstance(v.get("type"), list) and "null" in v["type"]
        }
        assert set(spec.nullable) == nullable, spec.name
