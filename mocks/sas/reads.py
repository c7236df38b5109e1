"""SAS read operations: ``GetBeneficiary`` and ``GetChanges``."""

from __future__ import annotations

from lxml import etree

from mocks.sas.records import (
    BENEFICIARY,
    CERTIFICATE,
    CONTRACT,
    DECISION,
    INCOME,
    JOBSEEKER_PROFILE,
    PAYMENT,
    REFUSAL,
)
from mocks.sas.registry import Sas
from mocks.soap.faults import PersonNotFound
from mocks.soap.reader import PERSONAL_NO, RequestReader

LAST_PAYMENTS = 12


def get_beneficiary(sas: Sas, req: RequestReader) -> etree._Element:
    """The person's case, its decisions and last payments, and what SAS received about them.

    The case shows its suspension while one stands, and each member's date of death.
    """
    personal_no = req.required("personalNo", PERSONAL_NO)
    req.done()
    found = sas.case_of(personal_no)
    received = [
        (tag, shape, sas.of_person(kind, personal_no))
        for tag, shape, kind in (
            ("certificate", CERTIFICATE, "certificates"),
            ("refusal", REFUSAL, "refusals"),
            ("income", INCOME, "incomes"),
        )
    ]
    profile = sas.profile_of(personal_no)
    if found is None and profile is None and not any(records for _, _, records in received):
        raise PersonNotFound("SAS holds nothing about this personal number", field="personalNo")
    response = CONTRACT.element("GetBeneficiaryResponse")
    if found is not None:
        case, role = found
        BENEFICIARY.render(response, "beneficiary", case)
        etree.SubElement(response, CONTRACT.qname("role")).text = role
        for decision in sas.of_case("decisions", case["case_no"]):
            DECISION.render(response, "decision", decision)
        payments = sorted(
            sas.of_case("payments", case["case_no"]), key=lambda p: str(p["month"]), reverse=True
        )
        for payment in payments[:LAST_PAYMENTS]:
            PAYMENT.render(response, "payment", payment)
    for tag, shape, records in received:
        for record in records:
            shape.render(response, tag, record)
    if profile is not None:
        JOBSEEKER_PROFILE.render(response, "jobseekerProfile", profile)
    return response


def get_changes(sas: Sas, req: RequestReader) -> etree._Element:
    """A page of the change feed."""
    return sas.feed.get_changes(sas.store, req)
