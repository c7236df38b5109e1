"""SAS write operations: what other institutions tell the social assistance system.

Each handler reads and validates its fields, then hands the change to the write
gate, which applies it once per idempotency key and acknowledges it.
"""

from __future__ import annotations

from lxml import etree

from mocks.sas.records import csw_office_of
from mocks.sas.registry import Sas
from mocks.soap.faults import InvalidRequest
from mocks.soap.reader import (
    ADDRESS,
    CERTIFICATE_NO,
    DECISION_REF,
    EMPLOYER_TIN,
    MUNICIPALITY_CODE,
    OFFER_ID,
    PERSONAL_NO,
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
    """Record (or replace) the refusal of one job offer."""
    refusal = {
        "offer_id": req.required("offerId", OFFER_ID),
        "personal_no": req.required("personalNo", PERSONAL_NO),
        "refused_on": req.required("refusedOn", iso_date),
        "reason_code": req.required("reasonCode", _REFUSAL_REASON),
    }

    def apply(received_at: str) -> dict[str, str]:
        sas.store.upsert(
            "refusals", {**refusal, "received_at": received_at}, changed_at=received_at
        )
        return {}

    return sas.gate.apply(req, apply)


def set_benefit_suspension(sas: Sas, req: RequestReader) -> etree._Element:
    """Suspend the person's active case and record the suspension decision."""
    personal_no = req.required("personalNo", PERSONAL_NO)
    decision = {
        "kind": "suspension",
        "effective_from": req.required("suspendedFrom", iso_date),
        "rule": req.required("rule", SUSPENSION_RULE),
        "decision_ref": req.required("decisionRef", DECISION_REF),
        "offer_ids": req.repeated("offerId", OFFER_ID),
    }

    def apply(received_at: str) -> dict[str, str]:
        case, _role = sas.require_case(personal_no)
        if case["status"] == "active":
            sas.store.upsert(
                "beneficiaries", {**case, "status": "suspended"}, changed_at=received_at
            )
            sas.decide(case, personal_no, received_at, **decision)
        return {}

    return sas.gate.apply(req, apply)


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
