"""certificate_status_mismatch: SAS's copy of a certificate says other than EMIS, its issuer.

EMIS issues and revokes certificates, so its status is right by definition and
the fix is to record EMIS's certificate in SAS again.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from hub.canonical import UnemploymentCertificate
from hub.reconcile.detectors.base import FindingDraft, action, fact
from hub.sync.flows.base import compact, iso, personal_numbers

KIND = "certificate_status_mismatch"


def detect(session: Session, *, as_of: date) -> list[FindingDraft]:
    """Every certificate whose SAS copy has another status than EMIS's."""
    emis = aliased(UnemploymentCertificate, name="emis_certificate")
    sas = aliased(UnemploymentCertificate, name="sas_certificate")
    pn = personal_numbers()
    rows = session.execute(
        select(emis, col(sas.status), col(sas.as_of), pn.c.personal_no)
        .join(
            sas,
            and_(
                col(sas.certificate_no) == col(emis.certificate_no),
                col(sas.source_registry) == "sas",
            ),
        )
        .join(pn, pn.c.person_id == col(emis.person_id))
        .where(col(emis.source_registry) == "emis", col(sas.status) != col(emis.status))
        .order_by(col(emis.certificate_no))
    ).all()
    return [
        FindingDraft(
            kind=KIND,
            subject_key=certificate.certificate_no,
            person_id=certificate.person_id,
            evidence={
                "personal_no": personal_no,
                "facts": [
                    fact(
                        "emis",
                        certificate.as_of,
                        certificate_no=certificate.certificate_no,
                        status=certificate.status,
                        revoked_on=certificate.revoked_on,
                    ),
                    fact(
                        "sas",
                        sas_as_of,
                        certificate_no=certificate.certificate_no,
                        status=sas_status,
                    ),
                ],
            },
            proposed_action=action(
                "sas",
                "RecordUnemploymentCertificate",
                compact(
                    {
                        "certificateNo": certificate.certificate_no,
                        "personalNo": personal_no,
                        "issuedOn": iso(certificate.issued_on),
                        "validUntil": iso(certificate.valid_until),
                        "status": certificate.status,
                        "revokedOn": iso(certificate.revoked_on),
                        "revocationReason": certificate.revocation_reason,
                    }
                ),
            ),
        )
        for certificate, sas_status, sas_as_of, personal_no in rows
    ]
