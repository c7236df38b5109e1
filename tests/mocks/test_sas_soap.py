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
from lxml import etree

from mocks.core.server import DEMO_AUTH, serve_app
from mocks.sas.app import create_app
from mocks.sas.records import CONTRACT
from mocks.soap.testing import (
    fault_detail,
    hand_built_call,
    raw_call,
    validate_feed,
    zeep_client,
)
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


def _valid_answer(client: zeep.Client, url: str, personal_no: str) -> None:
    """GetBeneficiary of the person, as raw XML, follows the published XSD."""
    status, payload = raw_call(
        client, url, CONTRACT, "GetBeneficiary", auth=AUTH, personalNo=personal_no
    )
    assert status == 200, etree.tostring(payload)
    CONTRACT.schema().assertValid(payload)


def _fault_of(call: Any, /, **arguments: Any) -> dict[str, str]:
    """The typed fault detail a call answers with (it must fail)."""
    with pytest.raises(zeep.exceptions.Fault) as caught:
        call(idempotencyKey=_key(), **arguments)
    return fault_detail(caught.value)


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
        suspendedUntil=date(2027, 1, 31),
        rule="XK-REFUSALS-2",
        decisionRef="URA-SUSP-0002",
        decidedBy="CSW-07",
        offerId=["JO-9000001", "JO-9000002"],
    )

    assert ack.outcome == "APPLIED"
    answer = writer.service.GetBeneficiary(personalNo=person)
    assert answer.beneficiary.status == "suspended"
    [shown] = answer.beneficiary.suspension
    assert (shown.suspendedFrom, shown.suspendedUntil, shown.decisionRef, shown.decidedBy) == (
        date(2026, 11, 1),
        date(2027, 1, 31),
        "URA-SUSP-0002",
        "CSW-07",
    )
    suspension = answer.decision[-1]
    assert (suspension.kind, suspension.rule, suspension.offerId) == (
        "suspension",
        "XK-REFUSALS-2",
        ["JO-9000001", "JO-9000002"],
    )
    assert (suspension.effectiveFrom, suspension.effectiveUntil) == (
        date(2026, 11, 1),
        date(2027, 1, 31),
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
            suspendedUntil=date(2026, 12, 31),
            rule="XK-REFUSALS-2",
            decisionRef="URA-SUSP-0003",
        )
    assert fault_detail(caught.value)["errorCode"] == "PersonNotFound"


def test_a_suspension_ending_before_it_starts_is_an_invalid_request_naming_the_until(
    writer: zeep.Client, population: Population
) -> None:
    detail = _fault_of(
        writer.service.SetBenefitSuspension,
        personalNo=_cases(population)[0]["personal_no"],
        suspendedFrom=date(2026, 11, 1),
        suspendedUntil=date(2026, 10, 31),
        rule="XK-REFUSALS-2",
        decisionRef="URA-SUSP-0004",
    )
    assert (detail["errorCode"], detail["field"]) == ("InvalidRequest", "suspendedUntil")


def test_a_suspension_without_its_end_date_is_refused_naming_it(
    writer_url: str, population: Population
) -> None:
    """A client of the contract before suspendedUntil existed is told what is missing."""
    fields = {
        "idempotencyKey": _key(),
        "personalNo": _cases(population)[0]["personal_no"],
        "suspendedFrom": "2026-11-01",
        "rule": "XK-REFUSALS-2",
        "decisionRef": "URA-SUSP-0005",
    }
    status, detail = hand_built_call(
        writer_url, CONTRACT, "SetBenefitSuspension", fields, auth=AUTH
    )
    assert status == 500
    assert (detail["errorCode"], detail["field"]) == ("InvalidRequest", "suspendedUntil")


def _lift_case(population: Population) -> dict[str, Any]:
    return next(c for c in reversed(_cases(population)) if len(c["family_members"]) == 1)


def test_a_lift_after_an_overturned_appeal_reactivates_the_case_with_arrears_once(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    person = _lift_case(population)["personal_no"]
    writer.service.SetBenefitSuspension(
        idempotencyKey=_key(),
        personalNo=person,
        suspendedFrom=date(2026, 11, 1),
        suspendedUntil=date(2027, 1, 31),
        rule="XK-REFUSALS-2",
        decisionRef="URA-SUSP-0101",
    )
    lift = {
        "personalNo": person,
        "decisionRef": "URA-SUSP-0101",
        "liftedOn": date(2026, 12, 10),
        "reason": "appeal_overturned",
        "arrearsFrom": date(2026, 11, 1),
        "arrearsUntil": date(2026, 12, 9),
    }
    key, feed_before = _key(), _feed_length(writer_url)

    first = writer.service.LiftBenefitSuspension(idempotencyKey=key, **lift)
    second = writer.service.LiftBenefitSuspension(idempotencyKey=key, **lift)

    assert (first.outcome, second.outcome) == ("APPLIED", "DUPLICATE")
    answer = writer.service.GetBeneficiary(personalNo=person)
    assert (answer.beneficiary.status, answer.beneficiary.suspension) == ("active", [])
    suspension, lifted = answer.decision[-2:]
    assert (suspension.kind, lifted.kind) == ("suspension", "lift")
    assert (lifted.decisionRef, lifted.liftReason, lifted.effectiveFrom) == (
        "URA-SUSP-0101",
        "appeal_overturned",
        date(2026, 12, 10),
    )
    assert (lifted.arrearsFrom, lifted.arrearsUntil) == (date(2026, 11, 1), date(2026, 12, 9))
    assert [c.kind for c in _read_feed(writer, since=feed_before)] == ["beneficiary", "decision"]
    received = httpx.get(
        f"{writer_url}/admin/received", params={"operation": "LiftBenefitSuspension"}
    ).json()
    assert [r["key"] for r in received].count(key) == 1
    _valid_answer(writer, writer_url, person)


def test_a_lift_naming_another_decision_is_acknowledged_and_changes_nothing(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    person = _cases(population)[1]["personal_no"]  # suspended under URA-SUSP-0002 above
    before = writer.service.GetBeneficiary(personalNo=person)
    feed_before = _feed_length(writer_url)

    ack = writer.service.LiftBenefitSuspension(
        idempotencyKey=_key(),
        personalNo=person,
        decisionRef="URA-SUSP-9999",
        liftedOn=date(2027, 2, 1),
        reason="ended",
    )

    assert ack.outcome == "APPLIED"
    assert _feed_length(writer_url) == feed_before
    after = writer.service.GetBeneficiary(personalNo=person)
    assert after.beneficiary.status == before.beneficiary.status
    assert len(after.decision) == len(before.decision)


@pytest.mark.parametrize(
    ("field", "arguments"),
    [
        ("arrearsFrom", {"reason": "ended", "arrearsFrom": date(2026, 11, 1)}),
        ("arrearsUntil", {"arrearsFrom": date(2026, 11, 1)}),
        ("arrearsFrom", {"arrearsUntil": date(2026, 11, 30)}),
        ("arrearsUntil", {"arrearsFrom": date(2026, 11, 30), "arrearsUntil": date(2026, 11, 1)}),
        ("reason", {"reason": "forgiven"}),
        ("liftedOn", {"liftedOn": "2026-11-31"}),
        ("decisionRef", {"decisionRef": "x" * 65}),
    ],
)
def test_invalid_lift_fields_are_named(
    writer: zeep.Client, population: Population, field: str, arguments: dict[str, Any]
) -> None:
    request = {
        "personalNo": _cases(population)[1]["personal_no"],
        "decisionRef": "URA-SUSP-0002",
        "liftedOn": date(2026, 12, 1),
        "reason": "appeal_overturned",
        **arguments,
    }
    detail = _fault_of(writer.service.LiftBenefitSuspension, **request)
    assert (detail["errorCode"], detail["field"]) == ("InvalidRequest", field)


@pytest.mark.parametrize("operation", ["LiftBenefitSuspension", "RecordDeath"])
def test_a_lift_or_death_of_a_person_in_no_case_is_person_not_found(
    writer: zeep.Client, population: Population, operation: str
) -> None:
    lift = {"decisionRef": "URA-SUSP-0002", "liftedOn": date(2026, 12, 1), "reason": "ended"}
    death = {"dateOfDeath": date(2026, 10, 2)}
    arguments = lift if operation == "LiftBenefitSuspension" else death
    personal_no = _unknown_personal_no(population)
    detail = _fault_of(getattr(writer.service, operation), personalNo=personal_no, **arguments)
    assert (detail["errorCode"], detail["field"]) == ("PersonNotFound", "personalNo")


def test_a_members_death_keeps_the_case_and_the_last_living_members_death_closes_it(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    case = next(c for c in reversed(_cases(population)) if len(c["family_members"]) == 2)
    applicant, member = case["personal_no"], _member(case)
    feed_before = _feed_length(writer_url)

    key = _key()
    first = writer.service.RecordDeath(
        idempotencyKey=key, personalNo=member, dateOfDeath=date(2026, 10, 2)
    )
    again = writer.service.RecordDeath(
        idempotencyKey=key, personalNo=member, dateOfDeath=date(2026, 10, 2)
    )

    assert (first.outcome, again.outcome) == ("APPLIED", "DUPLICATE")
    answer = writer.service.GetBeneficiary(personalNo=applicant)
    assert answer.beneficiary.status == "active"
    deaths = {m.personalNo: m.dateOfDeath for m in answer.beneficiary.familyMember}
    assert deaths == {applicant: None, member: date(2026, 10, 2)}
    assert all(d.kind != "termination" for d in answer.decision)
    assert [c.kind for c in _read_feed(writer, since=feed_before)] == ["beneficiary"]
    _valid_answer(writer, writer_url, applicant)

    writer.service.RecordDeath(
        idempotencyKey=_key(), personalNo=applicant, dateOfDeath=date(2026, 10, 20)
    )

    answer = writer.service.GetBeneficiary(personalNo=applicant)
    assert answer.beneficiary.status == "closed"
    termination = answer.decision[-1]
    assert (termination.kind, termination.stopReason, termination.personalNo) == (
        "termination",
        "deceased",
        applicant,
    )
    assert termination.effectiveFrom == date(2026, 10, 20)
    _valid_answer(writer, writer_url, applicant)


def test_an_invalid_date_of_death_is_named(writer: zeep.Client, population: Population) -> None:
    detail = _fault_of(
        writer.service.RecordDeath,
        personalNo=_cases(population)[0]["personal_no"],
        dateOfDeath="02.10.2026",
    )
    assert (detail["errorCode"], detail["field"]) == ("InvalidRequest", "dateOfDeath")


def _profile(personal_no: str, **changes: Any) -> dict[str, Any]:
    return {
        "personalNo": personal_no,
        "educationLevel": "secondary",
        "employmentStatus": "registered",
        "statusSince": date(2025, 3, 1),
        "profilingSegment": "high",
        "almpMeasure": [
            {"measureCode": "VOC_TRAINING", "startDate": date(2025, 4, 1), "endDate": None},
            {"measureCode": "OJT", "startDate": date(2026, 2, 1), "endDate": date(2026, 7, 31)},
        ],
        **changes,
    }


def test_a_jobseeker_profile_is_shown_and_replaced_by_the_next(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    person = next(c for c in reversed(_cases(population)) if len(c["family_members"]) == 3)
    personal_no = person["personal_no"]
    feed_before = _feed_length(writer_url)
    key = _key()

    first = writer.service.RecordJobseekerProfile(idempotencyKey=key, **_profile(personal_no))
    again = writer.service.RecordJobseekerProfile(idempotencyKey=key, **_profile(personal_no))

    assert (first.outcome, again.outcome) == ("APPLIED", "DUPLICATE")
    shown = writer.service.GetBeneficiary(personalNo=personal_no).jobseekerProfile
    assert (shown.educationLevel, shown.employmentStatus, shown.profilingSegment) == (
        "secondary",
        "registered",
        "high",
    )
    assert [(m.measureCode, m.startDate, m.endDate) for m in shown.almpMeasure] == [
        ("VOC_TRAINING", date(2025, 4, 1), None),
        ("OJT", date(2026, 2, 1), date(2026, 7, 31)),
    ]
    received = httpx.get(
        f"{writer_url}/admin/received", params={"operation": "RecordJobseekerProfile"}
    ).json()
    [entry] = [r for r in received if r["key"] == key]
    assert entry["payload"]["almpMeasure"][1] == {
        "measureCode": "OJT",
        "startDate": "2026-02-01",
        "endDate": "2026-07-31",
    }
    _valid_answer(writer, writer_url, personal_no)

    writer.service.RecordJobseekerProfile(
        idempotencyKey=_key(),
        **_profile(
            personal_no,
            employmentStatus="terminated",
            statusSince=date(2026, 10, 1),
            terminationReason="employed",
            profilingSegment=None,
            almpMeasure=[],
        ),
    )

    shown = writer.service.GetBeneficiary(personalNo=personal_no).jobseekerProfile
    assert (shown.employmentStatus, shown.terminationReason, shown.statusSince) == (
        "terminated",
        "employed",
        date(2026, 10, 1),
    )
    assert (shown.profilingSegment, shown.almpMeasure) == (None, [])
    assert _feed_length(writer_url) == feed_before  # profiles are not published as changes


def test_a_profile_of_a_person_in_no_case_is_kept_and_shown(
    writer: zeep.Client, population: Population
) -> None:
    personal_no = next(
        n
        for n in (f"{d}11111111{d}" for d in range(1, 10))
        if n != _unknown_personal_no(population)
    )
    writer.service.RecordJobseekerProfile(idempotencyKey=_key(), **_profile(personal_no))
    answer = writer.service.GetBeneficiary(personalNo=personal_no)
    assert answer.beneficiary is None
    assert answer.jobseekerProfile.personalNo == personal_no


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("educationLevel", {"educationLevel": "doctorate"}),
        ("employmentStatus", {"employmentStatus": "retired"}),
        ("terminationReason", {"terminationReason": "employed"}),
        ("terminationReason", {"employmentStatus": "terminated", "terminationReason": "bored"}),
        ("profilingSegment", {"profilingSegment": "medium"}),
        ("statusSince", {"statusSince": "2026-00-01"}),
        (
            "almpMeasure/measureCode",
            {"almpMeasure": [{"measureCode": "YOGA", "startDate": "2026-01-01"}]},
        ),
        (
            "almpMeasure/endDate",
            {
                "almpMeasure": [
                    {"measureCode": "OJT", "startDate": "2026-05-01", "endDate": "2026-04-30"}
                ]
            },
        ),
        (
            "almpMeasure/startDate",
            {"almpMeasure": [{"measureCode": "OJT", "startDate": "1.5.2026"}]},
        ),
    ],
)
def test_invalid_profile_fields_are_named_with_their_path(
    writer: zeep.Client, population: Population, field: str, changes: dict[str, Any]
) -> None:
    request = _profile(_cases(population)[0]["personal_no"], **changes)
    detail = _fault_of(writer.service.RecordJobseekerProfile, **request)
    assert (detail["errorCode"], detail["field"]) == ("InvalidRequest", field)


def test_a_refusal_says_what_was_offered(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    person = _cases(population)[0]["personal_no"]
    writer.service.RecordJobOfferRefusal(
        idempotencyKey=_key(),
        offerId="JO-9000101",
        personalNo=person,
        refusedOn=date(2026, 10, 8),
        reasonCode="R11",
        offerKind="almp",
        employerName="Qendra për Aftësim Profesional Prizren",
        occupationCode="7212",
        offeredOn=date(2026, 10, 1),
    )
    [refusal] = [
        r
        for r in writer.service.GetBeneficiary(personalNo=person).refusal
        if r.offerId == "JO-9000101"
    ]
    assert (refusal.offerKind, refusal.occupationCode, refusal.offeredOn) == (
        "almp",
        "7212",
        date(2026, 10, 1),
    )
    assert refusal.employerName == "Qendra për Aftësim Profesional Prizren"
    _valid_answer(writer, writer_url, person)


@pytest.mark.parametrize(
    ("field", "arguments"),
    [
        ("offerKind", {"offerKind": "internship"}),
        ("occupationCode", {"occupationCode": "72"}),
        ("offeredOn", {"offeredOn": date(2026, 10, 9)}),
        ("employerName", {"employerName": "x" * 201}),
    ],
)
def test_invalid_refusal_offer_fields_are_named(
    writer: zeep.Client, population: Population, field: str, arguments: dict[str, Any]
) -> None:
    detail = _fault_of(
        writer.service.RecordJobOfferRefusal,
        offerId="JO-9000102",
        personalNo=_cases(population)[0]["personal_no"],
        refusedOn=date(2026, 10, 8),
        reasonCode="R11",
        **arguments,
    )
    assert (detail["errorCode"], detail["field"]) == ("InvalidRequest", field)


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


def test_a_case_with_two_suspended_members_stays_suspended_until_both_are_lifted(
    writer: zeep.Client, population: Population
) -> None:
    cases = [c for c in _cases(population) if len(c["family_members"]) >= 2]
    case = cases[len(cases) // 2]  # away from the cases other tests change
    applicant, member = case["personal_no"], _member(case)
    for number, ref in ((applicant, "URA-SUSP-0201"), (member, "URA-SUSP-0202")):
        writer.service.SetBenefitSuspension(
            idempotencyKey=_key(),
            personalNo=number,
            suspendedFrom=date(2026, 11, 1),
            suspendedUntil=date(2027, 4, 30),
            rule="XK-REFUSALS-2",
            decisionRef=ref,
        )
    answer = writer.service.GetBeneficiary(personalNo=applicant)
    assert answer.beneficiary.status == "suspended"
    assert [s.decisionRef for s in answer.beneficiary.suspension] == [
        "URA-SUSP-0201",
        "URA-SUSP-0202",
    ]
    lift = {"liftedOn": date(2026, 12, 1), "reason": "ended"}
    writer.service.LiftBenefitSuspension(
        idempotencyKey=_key(), personalNo=applicant, decisionRef="URA-SUSP-0201", **lift
    )
    answer = writer.service.GetBeneficiary(personalNo=applicant)
    assert answer.beneficiary.status == "suspended", "the member's suspension still runs"
    assert [s.decisionRef for s in answer.beneficiary.suspension] == ["URA-SUSP-0202"]
    writer.service.LiftBenefitSuspension(
        idempotencyKey=_key(), personalNo=member, decisionRef="URA-SUSP-0202", **lift
    )
    answer = writer.service.GetBeneficiary(personalNo=applicant)
    assert (answer.beneficiary.status, answer.beneficiary.suspension) == ("active", [])
