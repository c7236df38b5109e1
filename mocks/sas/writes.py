"""SAS write operations: what other institutions tell the social assistance system.

Each handler reads and validates its fields, then hands the change to the write
gate, which applies it once per idempotency key and acknowledges it.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from mocks.core.store import Record
from mocks.sas.records import csw_office_of
from mocks.sas.registry import Sas
from mocks.soap.faults import InvalidRequest
from mocks.soap.reader import (
    ADDRESS,
    CERTIFICATE_NO,
    DECIDED_BY,
    DECISION_REF,
    EDUCATION_LEVEL,
    EMPLOYER_NAME,
    EMPLOYER_TIN,
    MEASURE_CODE,
    MUNICIPALITY_CODE,
    OCCUPATION_CODE,
    OFFER_ID,
    OFFER_KIND,
    PERSONAL_NO,
    PROFILING_SEGMENT,
    SUSPENSION_END_REASON,
    SUSPENSION_RULE,
    RequestReader,
    iso_date,
    money,
    month,
    one_of,
)

_CERTIFICATE_STATUS = one_of(("valid", "revoked"))
_REVOCATION_REASON = one_of(("employed", "refused_offers", "deceased", "own_request"))
_REFUSAL_REASON = one_of(("R01", "R02", "R03", "R04", "R05", "R10", "R11", "R12", "R13"))
_STOP_REASON = one_of(("deceased", "employed", "other"))
_EMPLOYMENT_STATUS = one_of(("registered", "terminated"))
_PROFILE_TERMINATION_REASON = one_of(("employed", "deceased"))


def record_unemployment_certificate(sas: Sas, req: RequestReader) -> etree._Element:
    """Insert or replace SAS's copy of an unemployment certificate."""
    copy = {
        "certificate_no": req.required("certificateNo", CERTIFICATE_NO),
        "personal_no": req.required("personalNo", PERSONAL_NO),
        "issued_on": req.required("issuedOn", iso_date),
        "valid_until": req.required("validUntil", iso_date),
        "status": req.required("status", _CERTIFICATE_STATUS),
        "revoked_on": req.optional("revokedOn", iso_date),
        "revocation_reason": req.optional("revocationReason", _REVOCATION_REASON),
    }
    _check_certificate(copy)

    def apply(received_at: str) -> dict[str, str]:
        sas.store.upsert(
            "certificates", {**copy, "received_at": received_at}, changed_at=received_at
        )
        return {}

    return sas.gate.apply(req, apply)


def _check_certificate(copy: dict[str, str | None]) -> None:
    if str(copy["valid_until"]) < str(copy["issued_on"]):
        raise InvalidRequest("validUntil must not be before issuedOn", field="validUntil")
    if copy["status"] == "revoked" and copy["revoked_on"] is None:
        raise InvalidRequest("revokedOn is required when status is revoked", field="revokedOn")
    if copy["status"] == "valid":
        for name, key in (("revokedOn", "revoked_on"), ("revocationReason", "revocation_reason")):
            if copy[key] is not None:
                raise InvalidRequest(f"{name} is only allowed when status is revoked", field=name)


def record_job_offer_refusal(sas: Sas, req: RequestReader) -> etree._Element:
    """Record (or replace) the refusal of one offer, with what was offered when told."""
    refusal = {
        "offer_id": req.required("offerId", OFFER_ID),
        "personal_no": req.required("personalNo", PERSONAL_NO),
        "refused_on": req.required("refusedOn", iso_date),
        "reason_code": req.required("reasonCode", _REFUSAL_REASON),
        "offer_kind": req.optional("offerKind", OFFER_KIND),
        "employer_name": req.optional("employerName", EMPLOYER_NAME),
        "occupation_code": req.optional("occupationCode", OCCUPATION_CODE),
        "offered_on": req.optional("offeredOn", iso_date),
    }
    if refusal["offered_on"] is not None:
        _not_before(refusal, ("offered_on", "offeredOn"), ("refused_on", "refusedOn"), "offeredOn")

    def apply(received_at: str) -> dict[str, str]:
        sas.store.upsert(
            "refusals", {**refusal, "received_at": received_at}, changed_at=received_at
        )
        return {}

    return sas.gate.apply(req, apply)


def set_benefit_suspension(sas: Sas, req: RequestReader) -> etree._Element:
    """Suspend the person's active case for a period and record the suspension decision."""
    personal_no = req.required("personalNo", PERSONAL_NO)
    suspension = {
        "suspended_from": req.required("suspendedFrom", iso_date),
        "suspended_until": req.required("suspendedUntil", iso_date),
        "rule": req.required("rule", SUSPENSION_RULE),
        "decision_ref": req.required("decisionRef", DECISION_REF),
        "decided_by": req.optional("decidedBy", DECIDED_BY),
    }
    offer_ids = req.repeated("offerId", OFFER_ID)
    _not_before(
        suspension, ("suspended_from", "suspendedFrom"), ("suspended_until", "suspendedUntil")
    )
    decision = {
        "kind": "suspension",
        "effective_from": suspension["suspended_from"],
        "effective_until": suspension["suspended_until"],
        "rule": suspension["rule"],
        "decision_ref": suspension["decision_ref"],
        "decided_by": suspension["decided_by"],
        "offer_ids": offer_ids,
    }

    def apply(received_at: str) -> dict[str, str]:
        case, _role = sas.require_case(personal_no)
        under = list(case.get("suspensions") or [])
        if case["status"] != "closed" and all(
            s["decision_ref"] != suspension["decision_ref"] for s in under
        ):
            # a case with two suspended members stays suspended until both are lifted
            suspended = {**case, "status": "suspended", "suspensions": [*under, suspension]}
            sas.store.upsert("beneficiaries", suspended, changed_at=received_at)
            sas.decide(case, personal_no, received_at, **decision)
        return {}

    return sas.gate.apply(req, apply)


def lift_benefit_suspension(sas: Sas, req: RequestReader) -> etree._Element:
    """End the suspension ``decisionRef`` of the person's case and record the lift; the case is
    active again once no other suspension remains on it."""
    personal_no = req.required("personalNo", PERSONAL_NO)
    decision_ref = req.required("decisionRef", DECISION_REF)
    lift = {
        "kind": "lift",
        "effective_from": req.required("liftedOn", iso_date),
        "decision_ref": decision_ref,
        "lift_reason": req.required("reason", SUSPENSION_END_REASON),
        "arrears_from": req.optional("arrearsFrom", iso_date),
        "arrears_until": req.optional("arrearsUntil", iso_date),
    }
    _check_arrears(lift)

    def apply(received_at: str) -> dict[str, str]:
        for case in sas.require_cases(personal_no):
            under = list(case.get("suspensions") or [])
            remaining = [s for s in under if s["decision_ref"] != decision_ref]
            if case["status"] != "suspended" or len(remaining) == len(under):
                continue
            status = "suspended" if remaining else "active"
            lifted = {**case, "status": status, "suspensions": remaining}
            sas.store.upsert("beneficiaries", lifted, changed_at=received_at)
            sas.decide(case, personal_no, received_at, **lift)
        return {}

    return sas.gate.apply(req, apply)


def _check_arrears(lift: dict[str, Any]) -> None:
    """Arrears come as a pair, in order, and only after an overturned appeal."""
    given = [name for name, key in _ARREARS if lift[key] is not None]
    if not given:
        return
    if lift["lift_reason"] != "appeal_overturned":
        raise InvalidRequest(
            f"{given[0]} is only allowed when reason is appeal_overturned", field=given[0]
        )
    if len(given) == 1:
        other = next(name for name, _ in _ARREARS if name != given[0])
        raise InvalidRequest(f"{other} is required with {given[0]}", field=other)
    _not_before(lift, ("arrears_from", "arrearsFrom"), ("arrears_until", "arrearsUntil"))


_ARREARS = (("arrearsFrom", "arrears_from"), ("arrearsUntil", "arrears_until"))


def record_death(sas: Sas, req: RequestReader) -> etree._Element:
    """Mark the person deceased in their open cases; close a case left without a living member."""
    personal_no = req.required("personalNo", PERSONAL_NO)
    date_of_death = req.required("dateOfDeath", iso_date)

    def apply(received_at: str) -> dict[str, str]:
        for case in sas.require_cases(personal_no):
            if case["status"] == "closed":
                continue
            updated = _with_death(case, personal_no, date_of_death)
            if updated == case:
                continue  # the death was recorded before
            if not _living(updated):
                updated["status"] = "closed"
                termination = {
                    "kind": "termination",
                    "stop_reason": "deceased",
                    "effective_from": date_of_death,
                }
                sas.decide(case, personal_no, received_at, **termination)
            sas.store.upsert("beneficiaries", updated, changed_at=received_at)
        return {}

    return sas.gate.apply(req, apply)


def _with_death(case: Record, personal_no: str, date_of_death: str) -> Record:
    """The case with ``personal_no`` marked deceased (a first date of death stays)."""
    members = [
        {**m, "date_of_death": date_of_death}
        if m["personal_no"] == personal_no and not m.get("date_of_death")
        else m
        for m in case["family_members"] or ()
    ]
    updated = {**case, "family_members": members}
    listed = {m["personal_no"] for m in members}
    if case["personal_no"] == personal_no and personal_no not in listed:
        # The contract lists the applicant among the members; should a case not,
        # the applicant's death is still kept, unpublished, for the closing rule.
        updated.setdefault("applicant_date_of_death", date_of_death)
    return updated


def _living(case: Record) -> list[str]:
    """The members (the applicant included) who have not died."""
    members = case["family_members"] or ()
    living = [m["personal_no"] for m in members if not m.get("date_of_death")]
    listed = {m["personal_no"] for m in members}
    if case["personal_no"] not in listed and not case.get("applicant_date_of_death"):
        living.append(case["personal_no"])
    return living


def record_jobseeker_profile(sas: Sas, req: RequestReader) -> etree._Element:
    """Replace the person's jobseeker profile (education, employment status, ALMP history)."""
    profile = {
        "personal_no": req.required("personalNo", PERSONAL_NO),
        "education_level": req.required("educationLevel", EDUCATION_LEVEL),
        "employment_status": req.required("employmentStatus", _EMPLOYMENT_STATUS),
        "status_since": req.required("statusSince", iso_date),
        "termination_reason": req.optional("terminationReason", _PROFILE_TERMINATION_REASON),
        "profiling_segment": req.optional("profilingSegment", PROFILING_SEGMENT),
        "almp_measures": req.repeated_records("almpMeasure", _almp_measure),
    }
    if profile["termination_reason"] is not None and profile["employment_status"] != "terminated":
        raise InvalidRequest(
            "terminationReason is only allowed when employmentStatus is terminated",
            field="terminationReason",
        )

    def apply(received_at: str) -> dict[str, str]:
        sas.keep_profile({**profile, "received_at": received_at})
        return {}

    return sas.gate.apply(req, apply)


def _almp_measure(req: RequestReader) -> dict[str, str | None]:
    measure = {
        "measure_code": req.required("measureCode", MEASURE_CODE),
        "start_date": req.required("startDate", iso_date),
        "end_date": req.optional("endDate", iso_date),
    }
    if measure["end_date"] is not None:
        _not_before(
            measure,
            ("start_date", "startDate"),
            ("end_date", "endDate"),
            "almpMeasure/endDate",
        )
    return measure


def _not_before(
    record: dict[str, Any],
    first: tuple[str, str],
    later: tuple[str, str],
    field: str | None = None,
) -> None:
    """Refuse ``later`` before ``first`` (each a record key and its element name)."""
    if str(record[later[0]]) < str(record[first[0]]):
        name = field or later[1]
        raise InvalidRequest(f"{later[1]} must not be before {first[1]}", field=name)


def record_income(sas: Sas, req: RequestReader) -> etree._Element:
    """Record a month of declared income from employment."""
    income = {
        "personal_no": req.required("personalNo", PERSONAL_NO),
        "employer_tin": req.required("employerTin", EMPLOYER_TIN),
        "period": req.required("period", month),
        "gross_wage": req.required("grossWage", money),
    }

    def apply(received_at: str) -> dict[str, str]:
        record = {"income_id": sas.income_ids.next(), **income, "received_at": received_at}
        sas.store.upsert("incomes", record, changed_at=received_at)
        return {}

    return sas.gate.apply(req, apply)


def stop_benefits(sas: Sas, req: RequestReader) -> etree._Element:
    """Close the person's case and record the termination decision."""
    personal_no = req.required("personalNo", PERSONAL_NO)
    decision = {
        "kind": "termination",
        "stop_reason": req.required("reason", _STOP_REASON),
        "effective_from": req.required("effectiveDate", iso_date),
    }

    def apply(received_at: str) -> dict[str, str]:
        case, _role = sas.require_case(personal_no)
        if case["status"] != "closed":
            sas.store.upsert("beneficiaries", {**case, "status": "closed"}, changed_at=received_at)
            sas.decide(case, personal_no, received_at, **decision)
        return {}

    return sas.gate.apply(req, apply)


def record_address_change(sas: Sas, req: RequestReader) -> etree._Element:
    """Move the applicant's case to the new address and municipality."""
    personal_no = req.required("personalNo", PERSONAL_NO)
    municipality_code = req.required("municipalityCode", MUNICIPALITY_CODE)
    address = req.required("address", ADDRESS)
    req.required("effectiveDate", iso_date)

    def apply(received_at: str) -> dict[str, str]:
        case, role = sas.require_case(personal_no)
        if role == "applicant":
            moved = {
                **case,
                "municipality_code": municipality_code,
                "csw_office": csw_office_of(municipality_code),
                "address": address,
            }
            sas.store.upsert("beneficiaries", moved, changed_at=received_at)
        return {}

    return sas.gate.apply(req, apply)
