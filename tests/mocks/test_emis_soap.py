"""EMIS over real HTTP and SOAP: zeep against the simulated registry of a generated population."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import zeep
import zeep.exceptions
from lxml import etree

from mocks.core.server import DEMO_AUTH, serve_app
from mocks.emis.app import create_app
from mocks.emis.records import CONTRACT
from mocks.soap.testing import (
    fault_detail,
    hand_built_call,
    raw_call,
    validate_feed,
    zeep_client,
)
from tests.conftest import Population

AUTH = DEMO_AUTH["emis"]
FEED_KINDS = {
    "jobseekers": "jobseeker",
    "certificates": "certificate",
    "job_offers": "jobOffer",
    "placements": "placement",
}


def _key() -> str:
    return f"test-{uuid.uuid4()}"


def _records(population: Population, kind: str) -> list[dict[str, Any]]:
    lines = (population.dir / "emis" / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


def _only_registration(population: Population, *, refused: bool = False) -> dict[str, Any]:
    """An active jobseeker registered once (optionally one who refused an offer)."""
    jobseekers = _records(population, "jobseekers")
    registrations = Counter(j["personal_no"] for j in jobseekers)
    refusers = {
        o["personal_no"] for o in _records(population, "job_offers") if o["response"] == "refused"
    }
    return next(
        j
        for j in jobseekers
        if j["status"] == "active"
        and registrations[j["personal_no"]] == 1
        and (j["personal_no"] in refusers) == refused
    )


def _unknown_personal_no(population: Population) -> str:
    known = {j["personal_no"] for j in _records(population, "jobseekers")}
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


def _with_valid_certificate(population: Population, skip: int) -> dict[str, Any]:
    """An active jobseeker registered once who holds a valid certificate, from the end of
    the file (``skip`` others passed over), so that no other test touches them."""
    jobseekers = _records(population, "jobseekers")
    registrations = Counter(j["personal_no"] for j in jobseekers)
    valid = {
        c["personal_no"] for c in _records(population, "certificates") if c["status"] == "valid"
    }
    candidates = [
        j
        for j in reversed(jobseekers)
        if j["status"] == "active"
        and registrations[j["personal_no"]] == 1
        and j["personal_no"] in valid
    ]
    chosen: dict[str, Any] = candidates[skip]
    return chosen


def _valid_answer(client: zeep.Client, url: str, personal_no: str) -> None:
    """GetJobseeker of the person, as raw XML, follows the published XSD."""
    status, payload = raw_call(
        client, url, CONTRACT, "GetJobseeker", auth=AUTH, personalNo=personal_no
    )
    assert status == 200, etree.tostring(payload)
    CONTRACT.schema().assertValid(payload)


def _flag(personal_no: str, decision_ref: str, action: str) -> dict[str, Any]:
    return {
        "personalNo": personal_no,
        "suspendedFrom": date(2026, 11, 1),
        "suspendedUntil": date(2027, 1, 31),
        "rule": "XK-REFUSALS-2",
        "decisionRef": decision_ref,
        "certificateAction": action,
    }


def _clear(personal_no: str, decision_ref: str, reason: str) -> dict[str, Any]:
    return {
        "personalNo": personal_no,
        "decisionRef": decision_ref,
        "clearedOn": date(2026, 12, 10),
        "reason": reason,
    }


@pytest.fixture(scope="module")
def reader_url(population: Population) -> Iterator[str]:
    """An EMIS nobody writes to."""
    with serve_app(create_app(population.dir, auth=AUTH)) as url:
        yield url


@pytest.fixture(scope="module")
def reader(reader_url: str) -> zeep.Client:
    return zeep_client(reader_url, CONTRACT, AUTH)


@pytest.fixture(scope="module")
def writer_url(population: Population) -> Iterator[str]:
    """An EMIS the write tests change."""
    with serve_app(create_app(population.dir, auth=AUTH)) as url:
        yield url


@pytest.fixture(scope="module")
def writer(writer_url: str) -> zeep.Client:
    return zeep_client(writer_url, CONTRACT, AUTH)


def _stats(url: str) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(f"{url}/admin/stats").json()
    return stats


# ------------------------------------------------------------------ reads


def test_get_jobseeker_returns_registration_certificates_offers_and_refusal_reasons(
    reader: zeep.Client, population: Population
) -> None:
    jobseeker = _only_registration(population, refused=True)
    personal_no = jobseeker["personal_no"]

    answer = reader.service.GetJobseeker(personalNo=personal_no)

    assert answer.jobseeker.jobseekerId == jobseeker["jobseeker_id"]
    assert answer.jobseeker.lastName == jobseeker["last_name"]
    assert answer.jobseeker.birthDate == date.fromisoformat(jobseeker["birth_date"])
    assert answer.jobseeker.profilingSegment == jobseeker["profiling_segment"]
    offers = [o for o in _records(population, "job_offers") if o["personal_no"] == personal_no]
    assert {o.offerId: o.refusalReasonCode for o in answer.jobOffer} == {
        o["offer_id"]: o["refusal_reason_code"] for o in offers
    }
    assert {o.offerId: o.offerKind for o in answer.jobOffer} == {
        o["offer_id"]: o["offer_kind"] for o in offers
    }
    certificates = [
        c["certificate_no"]
        for c in _records(population, "certificates")
        if c["personal_no"] == personal_no
    ]
    assert sorted(c.certificateNo for c in answer.certificate) == sorted(certificates)


def test_whole_change_feed_pages_through_and_matches_the_manifest(
    reader: zeep.Client, population: Population
) -> None:
    changes = _read_feed(reader)

    expected = {FEED_KINDS[kind]: n for kind, n in population.manifest["counts"]["emis"].items()}
    assert Counter(c.kind for c in changes) == Counter({k: n for k, n in expected.items() if n})
    assert [c.seq for c in changes] == list(range(1, len(changes) + 1))
    assert all(getattr(c, c.kind) is not None for c in changes)
    kinds = Counter(c.jobOffer.offerKind for c in changes if c.kind == "jobOffer")
    assert set(kinds) == {"job_offer", "almp", "training"}
    assert kinds["job_offer"] > kinds["almp"] > kinds["training"]
    last = reader.service.GetChanges(since=str(changes[-1].seq))
    assert (last.change, last.nextCursor, last.hasMore) == ([], str(changes[-1].seq), False)


def test_small_pages_resume_from_the_cursor_without_gaps(reader: zeep.Client) -> None:
    first = reader.service.GetChanges(limit=7)
    second = reader.service.GetChanges(since=first.nextCursor, limit=7)
    assert first.hasMore
    assert [c.seq for c in first.change + second.change] == list(range(1, 15))
    again = reader.service.GetChanges(limit=7)
    assert [c.seq for c in again.change] == [c.seq for c in first.change]


def test_answers_validate_against_the_published_xsd(
    reader: zeep.Client, reader_url: str, population: Population
) -> None:
    schema = CONTRACT.schema()
    personal_no = _only_registration(population, refused=True)["personal_no"]
    calls: list[tuple[str, dict[str, Any]]] = [
        ("GetJobseeker", {"personalNo": personal_no}),
        ("GetChanges", {"limit": 1000}),
        ("GetJobseeker", {"personalNo": _unknown_personal_no(population)}),
    ]
    for operation, arguments in calls:
        status, payload = raw_call(reader, reader_url, CONTRACT, operation, auth=AUTH, **arguments)
        if status == 500:  # a fault: its typed detail is what the XSD describes
            detail = payload.find("detail")
            assert detail is not None
            payload = detail[0]
        schema.assertValid(payload)


def test_unknown_person_is_a_person_not_found_client_fault(
    reader: zeep.Client, population: Population
) -> None:
    with pytest.raises(zeep.exceptions.Fault) as caught:
        reader.service.GetJobseeker(personalNo=_unknown_personal_no(population))
    assert caught.value.code == "soap:Client"
    detail = fault_detail(caught.value)
    assert detail["element"] == "PersonNotFoundFault"
    assert (detail["errorCode"], detail["transient"]) == ("PersonNotFound", "false")


@pytest.mark.parametrize("personal_no", ["0123456789", "12345", "12345678901", "12345678a0"])
def test_malformed_personal_number_is_an_invalid_request_naming_the_field(
    reader: zeep.Client, personal_no: str
) -> None:
    with pytest.raises(zeep.exceptions.Fault) as caught:
        reader.service.GetJobseeker(personalNo=personal_no)
    detail = fault_detail(caught.value)
    assert (detail["errorCode"], detail["field"]) == ("InvalidRequest", "personalNo")
    assert personal_no not in detail["message"]
    assert personal_no not in caught.value.message


# ------------------------------------------------------------------ writes


def test_terminate_jobseeker_terminates_and_shows_in_the_feed(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    jobseeker = _only_registration(population)
    feed_before = _stats(writer_url)["feed_length"]

    ack = writer.service.TerminateJobseeker(
        idempotencyKey=_key(),
        personalNo=jobseeker["personal_no"],
        reason="employed",
        effectiveDate=date(2026, 11, 2),
        employerTin="612953039",
    )

    assert ack.outcome == "APPLIED"
    current = writer.service.GetJobseeker(personalNo=jobseeker["personal_no"]).jobseeker
    assert (current.status, current.terminationReason) == ("terminated", "employed")
    assert (current.terminatedOn, current.employerTin) == (date(2026, 11, 2), "612953039")
    [change] = _read_feed(writer, since=str(feed_before))
    assert change.kind == "jobseeker"
    assert change.jobseeker.jobseekerId == jobseeker["jobseeker_id"]
    assert change.jobseeker.status == "terminated"


def test_repeated_key_is_acknowledged_as_duplicate_and_applied_once(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    personal_no = _only_registration(population, refused=True)["personal_no"]
    key = _key()
    request = {"personalNo": personal_no, "category": "II", "since": date(2026, 5, 1)}
    before = _stats(writer_url)

    first = writer.service.SetSocialAssistanceStatus(idempotencyKey=key, **request)
    second = writer.service.SetSocialAssistanceStatus(idempotencyKey=key, **request)

    assert (first.outcome, second.outcome) == ("APPLIED", "DUPLICATE")
    assert first.receivedAt == second.receivedAt
    after = _stats(writer_url)
    assert after["feed_length"] == before["feed_length"] + 1
    operation = "SetSocialAssistanceStatus"
    for counter in ("applied", "replayed"):
        was = before["idempotency"][counter].get(operation, 0)
        assert after["idempotency"][counter][operation] == was + 1
    received = httpx.get(f"{writer_url}/admin/received", params={"operation": operation}).json()
    assert [r["key"] for r in received].count(key) == 1
    status = writer.service.GetJobseeker(personalNo=personal_no).jobseeker.socialAssistance
    assert (status.category, status.since) == ("II", date(2026, 5, 1))


def test_same_key_with_other_content_is_an_idempotency_conflict(
    writer: zeep.Client, population: Population
) -> None:
    personal_no = _only_registration(population, refused=True)["personal_no"]
    key = _key()
    writer.service.SetSocialAssistanceStatus(
        idempotencyKey=key, personalNo=personal_no, category="I", since=date(2026, 1, 1)
    )
    with pytest.raises(zeep.exceptions.Fault) as caught:
        writer.service.SetSocialAssistanceStatus(
            idempotencyKey=key, personalNo=personal_no, category="NONE", since=date(2026, 1, 1)
        )
    assert caught.value.code == "soap:Client"
    detail = fault_detail(caught.value)
    assert (detail["errorCode"], detail["field"]) == ("IdempotencyConflict", "idempotencyKey")


def test_offer_list_suspension_flag_and_address_change_update_the_jobseeker(
    writer: zeep.Client, population: Population
) -> None:
    personal_no = _only_registration(population, refused=True)["personal_no"]
    offer = next(
        o
        for o in _records(population, "job_offers")
        if o["personal_no"] == personal_no and o["response"] == "refused"
    )
    writer.service.MoveToEndOfOfferList(
        idempotencyKey=_key(), personalNo=personal_no, offerId=offer["offer_id"]
    )
    writer.service.SetBenefitSuspensionFlag(
        idempotencyKey=_key(),
        personalNo=personal_no,
        suspendedFrom=date(2026, 11, 1),
        suspendedUntil=date(2027, 1, 31),
        rule="XK-REFUSALS-2",
        decisionRef="URA-SUSP-0001",
        certificateAction="refuse",
    )
    writer.service.RecordAddressChange(
        idempotencyKey=_key(),
        personalNo=personal_no,
        municipalityCode="05",
        address="Rruga e Dëshmorëve 12",
        effectiveDate=date(2026, 10, 20),
    )

    current = writer.service.GetJobseeker(personalNo=personal_no).jobseeker
    assert (current.offerList.position, current.offerList.offerId) == ("end", offer["offer_id"])
    assert (current.benefitSuspension.rule, current.benefitSuspension.decisionRef) == (
        "XK-REFUSALS-2",
        "URA-SUSP-0001",
    )
    assert current.benefitSuspension.suspendedUntil == date(2027, 1, 31)
    assert (current.municipalityCode, current.officeCode) == ("05", "EO-05")
    assert current.address == "Rruga e Dëshmorëve 12"


def test_offer_of_another_person_is_an_invalid_request(
    writer: zeep.Client, population: Population
) -> None:
    jobseeker = _only_registration(population)
    foreign = next(
        o
        for o in _records(population, "job_offers")
        if o["personal_no"] != jobseeker["personal_no"]
    )
    with pytest.raises(zeep.exceptions.Fault) as caught:
        writer.service.MoveToEndOfOfferList(
            idempotencyKey=_key(), personalNo=jobseeker["personal_no"], offerId=foreign["offer_id"]
        )
    assert fault_detail(caught.value)["field"] == "offerId"


def test_returnee_referral_creates_one_active_jobseeker(
    writer: zeep.Client, writer_url: str
) -> None:
    referral = {
        "returneeId": "RT-9000001",
        "firstName": "Dritë",
        "lastName": "Krasniqi",
        "birthDate": date(1994, 3, 8),
        "sex": "F",
        "municipalityCode": "12",
    }
    feed_before = str(_stats(writer_url)["feed_length"])

    ack = writer.service.RegisterReturneeReferral(idempotencyKey=_key(), **referral)
    again = writer.service.RegisterReturneeReferral(idempotencyKey=_key(), **referral)

    assert ack.outcome == "APPLIED"
    assert ack.jobseekerId.startswith("JS-")
    assert again.jobseekerId == ack.jobseekerId
    [change] = _read_feed(writer, since=feed_before)
    record = change.jobseeker
    assert record.jobseekerId == ack.jobseekerId
    assert (record.status, record.returneeId, record.officeCode) == (
        "active",
        "RT-9000001",
        "EO-12",
    )
    assert record.personalNo is None


def test_write_for_unknown_person_is_person_not_found_and_not_recorded(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    key = _key()
    with pytest.raises(zeep.exceptions.Fault) as caught:
        writer.service.TerminateJobseeker(
            idempotencyKey=key,
            personalNo=_unknown_personal_no(population),
            reason="deceased",
            effectiveDate=date(2026, 10, 1),
        )
    assert fault_detail(caught.value)["errorCode"] == "PersonNotFound"
    received = httpx.get(f"{writer_url}/admin/received").json()
    assert key not in {r["key"] for r in received}


@pytest.mark.parametrize(
    ("field", "arguments"),
    [
        ("category", {"category": "III"}),
        ("since", {"since": "2026-02-30"}),
        ("caseNo", {"caseNo": "CASE-1"}),
        ("idempotencyKey", {"idempotencyKey": "short"}),
    ],
)
def test_invalid_write_fields_are_named(
    writer: zeep.Client, population: Population, field: str, arguments: dict[str, Any]
) -> None:
    request = {
        "idempotencyKey": _key(),
        "personalNo": _only_registration(population)["personal_no"],
        "category": "I",
        "since": "2026-01-01",
        **arguments,
    }
    with pytest.raises(zeep.exceptions.Fault) as caught:
        writer.service.SetSocialAssistanceStatus(**request)
    detail = fault_detail(caught.value)
    assert (detail["errorCode"], detail["field"]) == ("InvalidRequest", field)


def test_a_revoking_flag_revokes_the_certificate_and_an_overturned_appeal_reinstates_it(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    jobseeker = _with_valid_certificate(population, 0)
    personal_no = jobseeker["personal_no"]
    [certificate_no] = [
        c.certificateNo
        for c in writer.service.GetJobseeker(personalNo=personal_no).certificate
        if c.status == "valid"
    ]
    feed_before = str(_stats(writer_url)["feed_length"])

    writer.service.SetBenefitSuspensionFlag(
        idempotencyKey=_key(), **_flag(personal_no, "CSW-07/2026/301", "revoke")
    )

    answer = writer.service.GetJobseeker(personalNo=personal_no)
    flag = answer.jobseeker.benefitSuspension
    assert (flag.suspendedFrom, flag.suspendedUntil, flag.certificateAction) == (
        date(2026, 11, 1),
        date(2027, 1, 31),
        "revoke",
    )
    assert answer.jobseeker.certificateIssuanceBlock is None
    [revoked] = [c for c in answer.certificate if c.certificateNo == certificate_no]
    assert (revoked.status, revoked.revokedOn, revoked.revocationReason, revoked.decisionRef) == (
        "revoked",
        date(2026, 11, 1),
        "refused_offers",
        "CSW-07/2026/301",
    )
    changes = _read_feed(writer, since=feed_before)
    assert [c.kind for c in changes] == ["jobseeker", "certificate"]
    assert changes[1].certificate.status == "revoked"
    _valid_answer(writer, writer_url, personal_no)

    key = _key()
    feed_before = str(_stats(writer_url)["feed_length"])
    clear = _clear(personal_no, "CSW-07/2026/301", "appeal_overturned")
    first = writer.service.ClearBenefitSuspensionFlag(idempotencyKey=key, **clear)
    again = writer.service.ClearBenefitSuspensionFlag(idempotencyKey=key, **clear)

    assert (first.outcome, again.outcome) == ("APPLIED", "DUPLICATE")
    answer = writer.service.GetJobseeker(personalNo=personal_no)
    assert answer.jobseeker.benefitSuspension is None
    [reinstated] = [c for c in answer.certificate if c.certificateNo == certificate_no]
    assert (reinstated.status, reinstated.revokedOn, reinstated.revocationReason) == (
        "valid",
        None,
        None,
    )
    assert (reinstated.reinstatedOn, reinstated.decisionRef) == (
        date(2026, 12, 10),
        "CSW-07/2026/301",
    )
    changes = _read_feed(writer, since=feed_before)
    assert [c.kind for c in changes] == ["jobseeker", "certificate"]
    assert (changes[1].certificate.certificateNo, changes[1].certificate.status) == (
        certificate_no,
        "valid",
    )
    _valid_answer(writer, writer_url, personal_no)


def test_a_flag_cleared_as_ended_keeps_its_revocation(
    writer: zeep.Client, population: Population
) -> None:
    personal_no = _with_valid_certificate(population, 1)["personal_no"]
    writer.service.SetBenefitSuspensionFlag(
        idempotencyKey=_key(), **_flag(personal_no, "CSW-07/2026/302", "revoke")
    )
    writer.service.ClearBenefitSuspensionFlag(
        idempotencyKey=_key(), **_clear(personal_no, "CSW-07/2026/302", "ended")
    )
    answer = writer.service.GetJobseeker(personalNo=personal_no)
    assert answer.jobseeker.benefitSuspension is None
    assert {c.status for c in answer.certificate} == {"revoked"}


def test_a_refusing_flag_blocks_issuance_until_it_is_cleared(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    personal_no = _with_valid_certificate(population, 2)["personal_no"]
    certificates = writer.service.GetJobseeker(personalNo=personal_no).certificate

    writer.service.SetBenefitSuspensionFlag(
        idempotencyKey=_key(), **_flag(personal_no, "CSW-07/2026/303", "refuse")
    )

    answer = writer.service.GetJobseeker(personalNo=personal_no)
    block = answer.jobseeker.certificateIssuanceBlock
    assert (block.blockedFrom, block.decisionRef) == (date(2026, 11, 1), "CSW-07/2026/303")
    assert answer.jobseeker.benefitSuspension.certificateAction == "refuse"
    assert answer.certificate == certificates  # the valid one stays valid
    _valid_answer(writer, writer_url, personal_no)

    feed_before = _stats(writer_url)["feed_length"]
    writer.service.ClearBenefitSuspensionFlag(
        idempotencyKey=_key(), **_clear(personal_no, "CSW-07/2026/999", "ended")
    )
    assert _stats(writer_url)["feed_length"] == feed_before  # another decision: nothing to clear
    assert writer.service.GetJobseeker(personalNo=personal_no).jobseeker.certificateIssuanceBlock

    writer.service.ClearBenefitSuspensionFlag(
        idempotencyKey=_key(), **_clear(personal_no, "CSW-07/2026/303", "decision_withdrawn")
    )

    cleared = writer.service.GetJobseeker(personalNo=personal_no).jobseeker
    assert (cleared.certificateIssuanceBlock, cleared.benefitSuspension) == (None, None)


@pytest.mark.parametrize(
    ("operation", "field", "arguments"),
    [
        ("SetBenefitSuspensionFlag", "suspendedUntil", {"suspendedUntil": date(2026, 10, 31)}),
        ("SetBenefitSuspensionFlag", "certificateAction", {"certificateAction": "burn"}),
        ("SetBenefitSuspensionFlag", "suspendedFrom", {"suspendedFrom": "2026-11-31"}),
        ("ClearBenefitSuspensionFlag", "reason", {"reason": "forgiven"}),
        ("ClearBenefitSuspensionFlag", "clearedOn", {"clearedOn": "10.12.2026"}),
        ("ClearBenefitSuspensionFlag", "decisionRef", {"decisionRef": "x" * 65}),
    ],
)
def test_invalid_flag_fields_are_named(
    writer: zeep.Client,
    population: Population,
    operation: str,
    field: str,
    arguments: dict[str, Any],
) -> None:
    personal_no = _only_registration(population)["personal_no"]
    build = _flag if operation == "SetBenefitSuspensionFlag" else _clear
    request = build(personal_no, "CSW-07/2026/304", "revoke" if build is _flag else "ended")
    with pytest.raises(zeep.exceptions.Fault) as caught:
        getattr(writer.service, operation)(idempotencyKey=_key(), **{**request, **arguments})
    detail = fault_detail(caught.value)
    assert (detail["errorCode"], detail["field"]) == ("InvalidRequest", field)


def test_a_flag_without_its_certificate_action_is_refused_naming_it(
    writer_url: str, population: Population
) -> None:
    """A client of the contract before certificateAction existed is told what is missing."""
    fields = {
        "idempotencyKey": _key(),
        "personalNo": _only_registration(population)["personal_no"],
        "suspendedFrom": "2026-11-01",
        "suspendedUntil": "2027-01-31",
        "rule": "XK-REFUSALS-2",
        "decisionRef": "CSW-07/2026/305",
    }
    status, detail = hand_built_call(
        writer_url, CONTRACT, "SetBenefitSuspensionFlag", fields, auth=AUTH
    )
    assert status == 500
    assert (detail["errorCode"], detail["field"]) == ("InvalidRequest", "certificateAction")


def test_clearing_the_flag_of_an_unknown_person_is_person_not_found(
    writer: zeep.Client, population: Population
) -> None:
    with pytest.raises(zeep.exceptions.Fault) as caught:
        writer.service.ClearBenefitSuspensionFlag(
            idempotencyKey=_key(),
            **_clear(_unknown_personal_no(population), "CSW-07/2026/301", "ended"),
        )
    assert fault_detail(caught.value)["errorCode"] == "PersonNotFound"


def test_category_none_ends_the_social_assistance_status_without_a_case(
    writer: zeep.Client, population: Population
) -> None:
    personal_no = _with_valid_certificate(population, 3)["personal_no"]
    writer.service.SetSocialAssistanceStatus(
        idempotencyKey=_key(),
        personalNo=personal_no,
        category="II",
        since=date(2025, 6, 1),
        caseNo="SA-0000001",
    )
    writer.service.SetSocialAssistanceStatus(
        idempotencyKey=_key(), personalNo=personal_no, category="NONE", since=date(2026, 11, 1)
    )
    status = writer.service.GetJobseeker(personalNo=personal_no).jobseeker.socialAssistance
    assert (status.category, status.since, status.caseNo) == ("NONE", date(2026, 11, 1), None)


def test_answers_after_the_writes_still_validate_against_the_xsd(
    writer: zeep.Client, writer_url: str, population: Population
) -> None:
    personal_no = _only_registration(population, refused=True)["personal_no"]
    status, payload = raw_call(
        writer, writer_url, CONTRACT, "GetJobseeker", auth=AUTH, personalNo=personal_no
    )
    assert status == 200
    CONTRACT.schema().assertValid(payload)
    assert (
        validate_feed(writer, writer_url, CONTRACT, auth=AUTH) == _stats(writer_url)["feed_length"]
    )
