"""EMIS read operations: ``GetJobseeker`` and ``GetChanges``."""

from __future__ import annotations

from lxml import etree

from mocks.emis.records import CERTIFICATE, CONTRACT, JOB_OFFER, JOBSEEKER, PLACEMENT
from mocks.emis.registry import Emis
from mocks.soap.reader import PERSONAL_NO, RequestReader


def get_jobseeker(emis: Emis, req: RequestReader) -> etree._Element:
    """The person's current registration with all their certificates, offers and placements."""
    personal_no = req.required("personalNo", PERSONAL_NO)
    req.done()
    jobseeker = emis.current_jobseeker(personal_no)
    response = CONTRACT.element("GetJobseekerResponse")
    JOBSEEKER.render(response, "jobseeker", jobseeker)
    for certificate in emis.of_person("certificates", personal_no, "issued_on"):
        CERTIFICATE.render(response, "certificate", certificate)
    for offer in emis.of_person("job_offers", personal_no, "offered_on"):
        JOB_OFFER.render(response, "jobOffer", offer)
    for placement in emis.of_person("placements", personal_no, "start_date"):
        PLACEMENT.render(response, "placement", placement)
    return response


def get_changes(emis: Emis, req: RequestReader) -> etree._Element:
    """A page of the change feed."""
    return emis.feed.get_changes(emis.store, req)
