"""refusals, EMIS -> SAS (and EMIS): every job-offer refusal with its reason code.

After a person's first refusal EMIS is told to move them to the end of the offer list.

Incremental: a run re-derives the persons with a refusal changed since the flow's mark, or
refused on a day that fell due since its last ``as_of``, all their refusals.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from hub.canonical import Refusal
from hub.settings import Settings
from hub.sync.flows.base import FlowResult, OutboxDraft, iso, person_key, personal_numbers
from hub.sync.flows.changes import Changes, Stream, union_of

FLOW = "refusals"
REFUSALS = Stream.of("refusals", Refusal)


def decide(session: Session, *, settings: Settings, as_of: date) -> FlowResult:
    """A refusal notice to SAS per refusal; one offer-list move to EMIS per person."""
    changes = Changes(session, FLOW, [REFUSALS], as_of=as_of)
    pn = personal_numbers()
    statement = (
        select(Refusal, pn.c.personal_no)
        .join(pn, pn.c.person_id == col(Refusal.person_id))
        .where(col(Refusal.refused_on) <= as_of)
        .order_by(col(Refusal.person_id), col(Refusal.refused_on), col(Refusal.offer_key))
    )
    if not changes.full:
        touched = changes.keys(REFUSALS.name, "person_id", day="refused_on")
        statement = statement.where(col(Refusal.person_id).in_(union_of(touched)))
    rows = session.execute(statement).all()
    result = FlowResult(pulled=len(rows), marks=changes.marks())
    first_seen: set[int] = set()
    for refusal, personal_no in rows:
        order = person_key(refusal.person_id)
        result.drafts.append(
            OutboxDraft(
                target_registry="sas",
                operation="RecordJobOfferRefusal",
                order_key=order,
                idempotency_key=f"refusals:{refusal.offer_key}",
                payload={
                    "offerId": refusal.offer_key,
                    "personalNo": personal_no,
                    "refusedOn": iso(refusal.refused_on),
                    "reasonCode": refusal.reason_code,
                },
            )
        )
        if refusal.person_id not in first_seen:
            first_seen.add(refusal.person_id)
            result.drafts.append(
                OutboxDraft(
                    target_registry="emis",
                    operation="MoveToEndOfOfferList",
                    order_key=order,
                    idempotency_key=f"offer-list:{refusal.offer_key}",
                    payload={"personalNo": personal_no, "offerId": refusal.offer_key},
                )
            )
    return result
