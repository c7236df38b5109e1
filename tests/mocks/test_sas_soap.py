"""SAS over real HTTP and SOAP: zeep against the simulated registry of a generated population."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
import zeep
import zeep.exceptions

from mocks.core.server import DEMO_AUTH, serve_app
from mocks.sas.app import create_app
from mocks.sas.records import CONTRACT
from mocks.soap.testing import fault_detail, raw_call, validate_feed, zeep_client
from tests.conftest import Population

AUTH = DEMO_AUTH["sas"]
FEED_KINDS = {
    "beneficiaries": "beneficiary",
    "decisions": "decision",
    "payments": "payment",
    "certificates": "certificate",
}


def _key() -> str:
    return f"test-{uuid.uuid4()}"


def _records(population: Population, kind: str) -> list[dict[str, Any]]:
    lines = (population.dir / "sas" / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


def _cases(population: Population, status: str = "active") -> list[dict[str, Any]]:
    """Cases of ``status`` whose applicant and members belong to no other case."""
    cases = _records(population, "beneficiaries")
    belonging = Counter(
        n
        for c in cases
        for n in {c["personal_no"], *(m["personal_no"] for m in c["family_members"])}
    )
    return [
        c
        for c in cases
        if c["status"] == status
        and all(belonging[m["personal_no"]] == 1 for m in c["family_members"])
        and belonging[c["personal_no"]] == 1
    ]


def _member(case: dict[str, Any]) -> str:
    return next(
        m["personal_no"] for m in case["family_members"] if m["personal_no"] != case["personal_no"]
    )


def _unknown_personal_no(population: Population) -> str:
    known = {
        n
        for c in _records(population, "beneficiaries")
        for n in {c["personal_no"], *(m["personal_no"] for m in c["family_members"])}
    } | {c["personal_no"] for c in _records(population, "certificates")}
    return next(n for n in (f"{d}00000000{d}" for d in range(1, 10)) if n not in known)


def _read_feed(client: zeep.Client, since: str | None = None) -> list[Any]:
    changes: list[Any] = []
    cursor = since
    while True:
        page = client.service.GetChanges(since=cursor, limit=1000)
        changes.extend(page.change)
        cursor = page.nextCursor
        if not page.hasMore:
            return changes


def _feed_length(url: str) -> str:
    return str(httpx.get(f"{url}/admin/stats").json()["feed_length"])


@pytest.fixture(scope="module")
def reader_url(population: Population) -> Iterator[str]:
    """A SAS nobody writes to."""
    with serve_app(create_app(population.dir, auth=AUTH)) as url:
        yield url


@pytest.fixture(scope="module")
def reader(reader_url: str) -> zeep.Client:
    return zeep_client(reader_url, CONTRACT, AUTH)


@pytest.fixture(scope="module")
def writer_url(population: Population) -> Iterator[str]:
    """A SAS the write tests change."""
    with serve_app(create_app(population.dir, auth=AUTH)) as url:
        yield url


@pytest.fixture(scope="module")
def writer(writer_url: str) -> zeep.Client:
    return zeep_client(writer_url, CONTRACT, AUTH)


# ------------------------------------------------------------------ reads


def test_get_beneficiary_of_an_applicant_returns_case_decisions_and_recent_payments(
    reader: zeep.Client, population: Population
) -> None:
    case = _cases(population)[0]

    answer = reader.service.GetBeneficiary(personalNo=case["personal_no"])

    assert (answer.beneficiary.caseNo, answer.role) == (case["case_no"], "applicant")
    assert (answer.beneficiary.category, answer.beneficiary.status) == (case["category"], "active")
    assert [m.personalNo for m in answer.beneficiary.familyMember] == [
        m["personal_no"] for m in case["family_members"]
    ]
    decisions = [d for d in _records(population, "decisions") if d["case_no"] == case["case_no"]]
    assert [d.decisionNo for d in answer.decision] == [d["decision_no"] for d in decisions]
    payments = [p for p in _records(population, "payments") if p["case_no"] == case["case_no"]]
    months = sorted((p["month"] for p in payments), reverse=True)[:12]
    assert [p.month for p in answer.payment] == months
    assert all(isinstance(p.amount, Decimal) for p in answer.payment)


def test_get_beneficiary_of_a_family_member_returns_the_same_case(
    reader: zeep.Client, population: Population
) -> None:
    case = next(c for c in _cases(population) if len(c["family_members"]) > 1)
    answer = reader.service.GetBeneficiary(personalNo=_member(case))
    assert (answer.beneficiary.caseNo, answer.role) == (case["case_no"], "member")


def test_whole_change_feed_pages_through_and_matches_the_manifest(
    reader: zeep.Client, population: Population
) -> None:
    changes = _read_feed(reader)

    expected = {FEED_KINDS[kind]: n for kind, n in population.manifest["counts"]["sas"].items()}
    assert Counter(c.kind for c in changes) == Counter({k: n for k, n in expected.items() if n})
    assert [c.seq for c in changes] == list(range(1, len(changes) + 1))
    assert all(getattr(c, c.kind) is not None for c in changes)


def test_answers_validate_against_the_published_xsd(
    reader: zeep.Client, reader_url: str, population: Population
) -> None:
    schema = CONTRACT.schema()
    case = next(c for c in _cases(population) if len(c["family_members"]) > 1)
    for operation, arguments in [
        ("GetBeneficiary", {"personalNo": case["personal_no"]}),
        ("GetBeneficiary", {"personalNo": _member(case)}),
        ("GetChanges", {"limit": 1000}),
    ]:
        status, payload = raw_call(reader, reader_url, CONTRACT, operation, auth=AUTH, **arguments)
        assert status == 200
        schema.assertValid(payload)


def test_unknown_person_is_a_person_not_found_client_fault(
    reader: zeep.Client, population: Population
) -> None:
    with pytest.raises(zeep.exceptions.Fault) as caught:
        reader.service.GetBeneficiary(personalNo=_unknown_personal_no(population))
    assert caught.value.code == "soap:Client"
    detail = fault_detail(caught.value)
    assert (detail["element"], detail["errorCode"]) == ("PersonNotFoundFault", "PersonNotFound")


def test_malformed_personal_number_is_an_invalid_request(reader: zeep.Client) -> None:
    with pytest.raises(zeep.exceptions.Fault) as caught:
        reader.service.GetBeneficiary(personalNo="0987654321")
    detail = fault_detail(caught.value)
    assert (detail["errorCode"], detail["field"]) == ("InvalidRequest", "personalNo")
    assert "0987654321" not in caught.value.message


# ------------------------------------------------------------------ writes


def test_certificate_copy_is_upserted_and_shows_for_a_person_without_a_case(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    personal_no = _unknown_personal_no(population)
    issued = {
        "certificateNo": "UC-2026-9000001",
        "personalNo": personal_no,
        "issuedOn": date(2026, 10, 1),
        "validUntil": date(2027, 9, 30),
    }
    feed_before = _feed_length(writer_url)

    writer.service.RecordUnemploymentCertificate(idempotencyKey=_key(), status="valid", **issued)
    writer.service.RecordUnemploymentCertificate(
        idempotencyKey=_key(),
        status="revoked",
        revokedOn=date(2026, 10, 20),
        revocationReason="employed",
        **issued,
    )

    answer = writer.service.GetBeneficiary(personalNo=personal_no)
    assert answer.beneficiary is None
    [copy] = answer.certificate
    assert (copy.status, copy.revokedOn, copy.revocationReason) == (
        "revoked",
        date(2026, 10, 20),
        "employed",
    )
    changes = _read_feed(writer, since=feed_before)
    assert [(c.kind, c.certificate.status) for c in changes] == [
        ("certificate", "valid"),
        ("certificate", "revoked"),
    ]


def test_revoked_certificate_without_date_is_an_invalid_request(writer: zeep.Client) -> None:
    with pytest.raises(zeep.exceptions.Fault) as caught:
        writer.service.RecordUnemploymentCertificate(
            idempotencyKey=_key(),
            certificateNo="UC-2026-9000002",
            personalNo="1000000001",
            issuedOn=date(2026, 1, 1),
            validUntil=date(2026, 12, 31),
            status="revoked",
        )
    assert fault_detail(caught.value)["field"] == "revokedOn"


def test_refusals_and_suspension_suspend_the_case_with_a_decision(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    case = _cases(population)[1]
    person = case["personal_no"]
    feed_before = _feed_length(writer_url)
    for offer_id, code in (("JO-9000001", "R10"), ("JO-9000002", "R12")):
        writer.service.RecordJobOfferRefusal(
            idempotencyKey=_key(),
            offerId=offer_id,
            personalNo=person,
            refusedOn=date(2026, 10, 3),
            reasonCode=code,
        )

    ack = writer.service.SetBenefitSuspension(
        idempotencyKey=_key(),
        personalNo=person,
        suspendedFrom=date(2026, 11, 1),
        rule="XK-REFUSALS-2",
        decisionRef="URA-SUSP-0002",
        offerId=["JO-9000001", "JO-9000002"],
    )

    assert ack.outcome == "APPLIED"
    answer = writer.service.GetBeneficiary(personalNo=person)
    assert answer.beneficiary.status == "suspended"
    suspension = answer.decision[-1]
    assert (suspension.kind, suspension.rule, suspension.offerId) == (
        "suspension",
        "XK-REFUSALS-2",
        ["JO-9000001", "JO-9000002"],
    )
    assert [r.reasonCode for r in answer.refusal] == ["R10", "R12"]
    kinds = [c.kind for c in _read_feed(writer, since=feed_before)]
    assert kinds == ["refusal", "refusal", "beneficiary", "decision"]


def test_stop_benefits_closes_the_case_once(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    case = next(c for c in _cases(population)[2:] if len(c["family_members"]) > 1)
    key = _key()
    request = {
        "personalNo": _member(case),
        "reason": "deceased",
        "effectiveDate": date(2026, 10, 5),
    }
    before = httpx.get(f"{writer_url}/admin/stats").json()

    first = writer.service.StopBenefits(idempotencyKey=key, **request)
    second = writer.service.StopBenefits(idempotencyKey=key, **request)

    assert (first.outcome, second.outcome) == ("APPLIED", "DUPLICATE")
    assert first.receivedAt == second.receivedAt
    after = httpx.get(f"{writer_url}/admin/stats").json()
    assert after["feed_length"] == before["feed_length"] + 2  # the case and one decision
    assert after["idempotency"]["replayed"]["StopBenefits"] == 1
    received = httpx.get(f"{writer_url}/admin/received", params={"operation": "StopBenefits"})
    assert [r["key"] for r in received.json()] == [key]
    answer = writer.service.GetBeneficiary(personalNo=case["personal_no"])
    assert answer.beneficiary.status == "closed"
    termination = answer.decision[-1]
    assert (termination.kind, termination.stopReason) == ("termination", "deceased")


def test_same_key_with_other_content_is_an_idempotency_conflict(
    writer: zeep.Client, population: Population
) -> None:
    person = _cases(population)[0]["personal_no"]
    key = _key()
    income = {"personalNo": person, "employerTin": "612953039", "period": "2026-09"}
    writer.service.RecordIncome(idempotencyKey=key, grossWage=Decimal("612.50"), **income)
    with pytest.raises(zeep.exceptions.Fault) as caught:
        writer.service.RecordIncome(idempotencyKey=key, grossWage=Decimal("700.00"), **income)
    detail = fault_detail(caught.value)
    assert (detail["errorCode"], detail["field"]) == ("IdempotencyConflict", "idempotencyKey")
    [recorded] = writer.service.GetBeneficiary(personalNo=person).income
    assert (recorded.period, recorded.grossWage) == ("2026-09", Decimal("612.50"))


def test_address_change_moves_the_applicants_case(
    writer: zeep.Client, population: Population
) -> None:
    person = _cases(population)[0]["personal_no"]
    writer.service.RecordAddressChange(
        idempotencyKey=_key(),
        personalNo=person,
        municipalityCode="38",
        address="Rruga Mbretëresha Teutë 4",
        effectiveDate=date(2026, 10, 10),
    )
    case = writer.service.GetBeneficiary(personalNo=person).beneficiary
    assert (case.municipalityCode, case.cswOffice) == ("38", "CSW-38")
    assert case.address == "Rruga Mbretëresha Teutë 4"


@pytest.mark.parametrize(
    ("field", "arguments"),
    [
        ("period", {"period": "2026-13"}),
        ("grossWage", {"grossWage": "12.345"}),
        ("grossWage", {"grossWage": "-5.00"}),
        ("employerTin", {"employerTin": "12345"}),
    ],
)
def test_invalid_income_fields_are_named(
    writer: zeep.Client, field: str, arguments: dict[str, Any]
) -> None:
    request = {
        "idempotencyKey": _key(),
        "personalNo": "1000000001",
        "employerTin": "612953039",
        "period": "2026-09",
        "grossWage": "100.00",
        **arguments,
    }
    with pytest.raises(zeep.exceptions.Fault) as caught:
        writer.service.RecordIncome(**request)
    assert fault_detail(caught.value)["field"] == field


def test_suspension_for_a_person_without_a_case_is_person_not_found(
    writer: zeep.Client, population: Population
) -> None:
    with pytest.raises(zeep.exceptions.Fault) as caught:
        writer.service.SetBenefitSuspension(
            idempotencyKey=_key(),
            personalNo=_unknown_personal_no(population),
            suspendedFrom=date(2026, 11, 1),
            rule="XK-REFUSALS-2",
            decisionRef="URA-SUSP-0003",
        )
    assert fault_detail(caught.value)["errorCode"] == "PersonNotFound"


def test_answers_after_the_writes_still_validate_against_the_xsd(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    for case in _cases(population)[:3]:
        status, payload = raw_call(
            writer,
            writer_url,
            CONTRACT,
            "GetBeneficiary",
            auth=AUTH,
            personalNo=case["personal_no"],
        )
        assert status == 200
        CONTRACT.schema().assertValid(payload)
    assert validate_feed(writer, writer_url, CONTRACT, auth=AUTH) == int(_feed_length(writer_url))
