"""certificates, EMIS -> SAS: every issued or revoked unemployment certificate, once, in order.

A message's key names the change it carries (status and the time EMIS made it), so a
certificate revoked by a suspension and reinstated after an overturned appeal reaches SAS
again as valid.

Incremental: a run reads the certificates EMIS changed since the flow's mark, and those
whose issue day fell due since its last ``as_of``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from hub.canonical import UnemploymentCertificate
from hub.settings import Settings
from hub.sync.flows.base import FlowResult, OutboxDraft, compact, iso, person_key, personal_numbers
from hub.sync.flows.changes import Changes, Stream, union_of

FLOW = "certificates"
CERTIFICATES = Stream.of("certificates", UnemploymentCertificate, source_registry="emis")


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """One delivery per change of a certificate's status (issue, revocation, reinstatement)."""
    changes = Changes(session, FLOW, [CERTIFICATES], as_of=as_of)
    pn = personal_numbers()
    cert = UnemploymentCertificate
    statement = (
        select(cert, pn.c.personal_no)
        .join(pn, pn.c.person_id == col(cert.person_id))
        .where(col(cert.source_registry) == "emis", col(cert.issued_on) <= as_of)
        .order_by(col(cert.issued_on), col(cert.certificate_no))
    )
    if not changes.full:
        changed = changes.keys(CERTIFICATES.name, "id", day="issued_on")
        statement = statement.where(col(cert.id).in_(union_of(changed)))
    rows = session.execute(statement).all()
    result = FlowResult(pulled=len(rows), marks=changes.marks())
    for certificate, personal_no in rows:
        result.drafts.append(
            OutboxDraft(
                target_registry="sas",
                operation="RecordUnemploymentCertificate",
                order_key=person_key(certificate.person_id),
                idempotency_key=(
                    f"certificates:{certificate.certificate_no}:{certificate.status}"
                    f":{certificate.as_of:%Y%m%dT%H%M%S}"
                ),
                payload=compact(
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
            )
        )
    return result
