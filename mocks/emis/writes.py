"""EMIS write operations: what other institutions tell the Employment Agency.

Each handler reads and validates its fields, then hands the change to the write
gate, which applies it once per idempotency key and acknowledges it.
"""

from __future__ import annotations

from lxml import etree

from mocks.emis.records import office_of
from mocks.emis.registry import Emis
from mocks.soap.faults import InvalidRequest
from mocks.soap.reader import (
    ADDRESS,
    DECISION_REF,
    EMPLOYER_TIN,
    MUNICIPALITY_CODE,
    OFFER_ID,
    PERSON_NAME,
    PERSONAL_NO,
    SEX,
    SUSPENSION_END_REASON,
    SUSPENSION_RULE,
    RequestReader,
    iso_date,
    one_of,
    pattern,
)

_CATEGORY = one_of(("I", "II", "NONE"))
_TERMINATION_REASON = one_of(("employed", "deceased"))
_CASE_NO = pattern(r"SA-[0-9]{7}", "a case number SA-nnnnnnn")
_RETURNEE_ID = pattern(r"RT-[0-9]{7}", "a returnee id RT-nnnnnnn")
_CERTIFICATE_ACTION = one_of(("refuse", "revoke"))


def set_social_assistance_status(emis: Emis, req: RequestReader) -> etree._Element:
    """Record the social assistance category SAS reports for the person (NONE: no longer)."""
    personal_no = req.required("personalNo", PERSONAL_NO)
    status = {
        "category": req.required("category", _CATEGORY),
        "since": req.required("since", iso_date),
        "case_no": req.optional("caseNo", _CASE_NO),
    }

    def apply(received_at: str) -> dict[str, str]:
        jobseeker = emis.current_jobseeker(personal_no)
        jobseeker["social_assistance"] = status
        emis.store.upsert("jobseekers", jobseeker, changed_at=received_at)
        return {}

    return emis.gate.apply(req, apply)


def terminate_jobseeker(emis: Emis, req: RequestReader) -> etree._Element:
    """End the person's active registration (employed or deceased)."""
    personal_no = req.required("personalNo", PERSONAL_NO)
    reason = req.required("reason", _TERMINATION_REASON)
    effective_date = req.required("effectiveDate", iso_date)
    employer_tin = req.optional("employerTin", EMPLOYER_TIN)
    if employer_tin is not None and reason != "employed":
        raise InvalidRequest(
            "employerTin is only allowed when reason is employed", field="employerTin"
        )

    def apply(received_at: str) -> dict[str, str]:
        jobseeker = emis.current_jobseeker(personal_no)
        if jobseeker["status"] == "active":
            jobseeker.update(
                status="terminated",
                termination_reason=reason,
                terminated_on=effective_date,
                employer_tin=employer_tin,
            )
            emis.store.upsert("jobseekers", jobseeker, changed_at=received_at)
        return {}

    return emis.gate.apply(req, apply)


def move_to_end_of_offer_list(emis: Emis, req: RequestReader) -> etree._Element:
    """Put the jobseeker at the end of the offer list after refusing ``offerId``."""
    personal_no = req.required("personalNo", PERSONAL_NO)
    offer_id = req.required("offerId", OFFER_ID)

    def apply(received_at: str) -> dict[str, str]:
        jobseeker = emis.current_jobseeker(personal_no)
        offer = emis.store.get("job_offers", offer_id)
        if offer is None or offer["personal_no"] != personal_no:
            raise InvalidRequest("offerId is not an offer made to this person", field="offerId")
        jobseeker["offer_list"] = {"position": "end", "offer_id": offer_id, "moved_at": received_at}
        emis.store.upsert("jobseekers", jobseeker, changed_at=received_at)
        return {}

    return emis.gate.apply(req, apply)


def set_benefit_suspension_flag(emis: Emis, req: RequestReader) -> etree._Element:
    """Flag the jobseeker whose benefit was suspended and carry out the certificate consequence.

    ``revoke`` revokes the person's valid certificates on the first suspended day;
    ``refuse`` blocks issuance until the flag is cleared.
    """
    personal_no = req.required("personalNo", PERSONAL_NO)
    suspension = {
        "suspended_from": req.required("suspendedFrom", iso_date),
        "suspended_until": req.required("suspendedUntil", iso_date),
        "rule": req.required("rule", SUSPENSION_RULE),
        "decision_ref": req.required("decisionRef", DECISION_REF),
        "certificate_action": req.required("certificateAction", _CERTIFICATE_ACTION),
    }
    if suspension["suspended_until"] < suspension["suspended_from"]:
        raise InvalidRequest(
            "suspendedUntil must not be before suspendedFrom", field="suspendedUntil"
        )
    starts, decision_ref = suspension["suspended_from"], suspension["decision_ref"]

    def apply(received_at: str) -> dict[str, str]:
        jobseeker = emis.current_jobseeker(personal_no)
        jobseeker["benefit_suspension"] = suspension
        if suspension["certificate_action"] == "refuse":
            block = {"blocked_from": starts, "decision_ref": decision_ref}
            jobseeker["certificate_issuance_block"] = block
        emis.store.upsert("jobseekers", jobseeker, changed_at=received_at)
        if suspension["certificate_action"] == "revoke":
            revoked = {
                "status": "revoked",
                "revoked_on": starts,
                "revocation_reason": "refused_offers",
                "decision_ref": decision_ref,
                "reinstated_on": None,
            }
            _update_certificates(emis, personal_no, {"status": "valid"}, revoked, received_at)
        return {}

    return emis.gate.apply(req, apply)


def clear_benefit_suspension_flag(emis: Emis, req: RequestReader) -> etree._Element:
    """Clear what ``decisionRef`` set: the flag, the issuance block, and (appeal) the revocation."""
    personal_no = req.required("personalNo", PERSONAL_NO)
    decision_ref = req.required("decisionRef", DECISION_REF)
    cleared_on = req.required("clearedOn", iso_date)
    reason = req.required("reason", SUSPENSION_END_REASON)

    def apply(received_at: str) -> dict[str, str]:
        emis.current_jobseeker(personal_no)  # PersonNotFound without a registration
        for jobseeker in emis.store.find("jobseekers", "personal_no", personal_no):
            cleared = {
                name: None
                for name in ("benefit_suspension", "certificate_issuance_block")
                if (jobseeker.get(name) or {}).get("decision_ref") == decision_ref
            }
            if cleared:
                emis.store.upsert("jobseekers", jobseeker | cleared, changed_at=received_at)
        if reason == "appeal_overturned":
            revoked_by_it = {"status": "revoked", "decision_ref": decision_ref}
            reinstated = {
                "status": "valid",
                "revoked_on": None,
                "revocation_reason": None,
                "reinstated_on": cleared_on,
            }
            _update_certificates(emis, personal_no, revoked_by_it, reinstated, received_at)
        return {}

    return emis.gate.apply(req, apply)


def _update_certificates(
    emis: Emis,
    personal_no: str,
    matching: dict[str, str],
    changes: dict[str, str | None],
    received_at: str,
) -> None:
    """Apply ``changes`` to the person's certificates whose fields equal ``matching``."""
    for certificate in emis.of_person("certificates", personal_no, "issued_on"):
        if all(certificate.get(name) == value for name, value in matching.items()):
            emis.store.upsert("certificates", certificate | changes, changed_at=received_at)


def register_returnee_referral(emis: Emis, req: RequestReader) -> etree._Element:
    """Register a referred returnee as an active jobseeker (or return the existing one)."""
    returnee_id = req.required("returneeId", _RETURNEE_ID)
    personal_no = req.optional("personalNo", PERSONAL_NO)
    person = {
        "first_name": req.required("firstName", PERSON_NAME),
        "last_name": req.required("lastName", PERSON_NAME),
        "birth_date": req.required("birthDate", iso_date),
        "sex": req.required("sex", SEX),
        "municipality_code": req.required("municipalityCode", MUNICIPALITY_CODE),
    }

    def apply(received_at: str) -> dict[str, str]:
        existing = emis.store.find("jobseekers", "returnee_id", returnee_id)
        if personal_no is not None:
            existing += emis.store.find("jobseekers", "personal_no", personal_no)
        active = [r for r in existing if r["status"] == "active"]
        if active:
            return {"jobseekerId": str(active[0]["jobseeker_id"])}
        jobseeker_id = emis.jobseeker_ids.next()
        record = {
            "jobseeker_id": jobseeker_id,
            "personal_no": personal_no,
            **person,
            "office_code": office_of(person["municipality_code"]),
            "registered_on": received_at[:10],
            "status": "active",
            "termination_reason": None,
            "terminated_on": None,
            "profiling_segment": None,
            "education_level": None,
            "returnee_id": returnee_id,
        }
        emis.store.upsert("jobseekers", record, changed_at=received_at)
        return {"jobseekerId": jobseeker_id}

    return emis.gate.apply(req, apply)


def record_address_change(emis: Emis, req: RequestReader) -> etree._Element:
    """Move the registration to the new address and its municipality's office."""
    personal_no = req.required("personalNo", PERSONAL_NO)
    municipality_code = req.required("municipalityCode", MUNICIPALITY_CODE)
    address = req.required("address", ADDRESS)
    req.required("effectiveDate", iso_date)

    def apply(received_at: str) -> dict[str, str]:
        jobseeker = emis.current_jobseeker(personal_no)
        jobseeker.update(
            municipality_code=municipality_code,
            office_code=office_of(municipality_code),
            address=address,
        )
        emis.store.upsert("jobseekers", jobseeker, changed_at=received_at)
        return {}

    return emis.gate.apply(req, apply)
