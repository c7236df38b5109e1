"""The audit trail of deliveries: every message a registry acknowledged is one audit entry.

The entry is written by the settlement that settled the delivery, in its
transaction: a dispatcher whose claim was taken over settles nothing and so
audits nothing, and the one delivery is audited once.

An entry names the person whose data went out (found by the personal number or
the CMS returnee id the payload carries), the fields sent, the registry and
operation, and the flow that decided it (its purpose). It never holds the
payload's values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import String, any_, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, select

from hub.audit.service import AuditEvent, append_many
from hub.canonical import PersonIdentifier, ReturneeCase
from hub.canonical.persons import PERSONAL_NO_SCHEME

DISPATCHER_ACTOR = "hub-dispatcher"
"""The audit log's actor of every delivery."""


class DeliveredMessage(Protocol):
    """What the audit reads of a delivered outbox message."""

    @property
    def id(self) -> int: ...

    @property
    def flow(self) -> str: ...

    @property
    def target(self) -> str: ...

    @property
    def operation(self) -> str: ...

    @property
    def payload(self) -> dict[str, Any]: ...


def record_deliveries(session: Session, messages: Sequence[DeliveredMessage]) -> None:
    """Append one audit entry per delivered message, in the caller's transaction.

    ``messages`` are those the caller's settlement actually settled as delivered
    (:attr:`hub.sync.outbox.Settled.delivered`): a message is settled delivered
    once, under the claim that held it, so each delivery is audited once however
    many dispatchers sent it.
    """
    if not messages:
        return
    persons = _persons(session, messages)
    append_many(session, events=[delivery_event(m, persons.get(m.id)) for m in messages])


def delivery_event(message: DeliveredMessage, person_id: int | None) -> AuditEvent:
    """The audit entry of one delivered message."""
    return AuditEvent(
        action="delivery",
        actor=DISPATCHER_ACTOR,
        purpose=f"sync:{message.flow}",
        person_id=person_id,
        fields=sorted(message.payload),
        target=f"{message.target}:{message.operation}",
        request_id=f"outbox:{message.id}",
    )


def _persons(session: Session, messages: Sequence[DeliveredMessage]) -> dict[int, int]:
    """Message id -> the person its payload is about, where the hub knows that person."""
    numbers = {m.id: str(m.payload["personalNo"]) for m in messages if "personalNo" in m.payload}
    returnees = {
        m.id: str(m.payload["returnee_id"])
        for m in messages
        if "returnee_id" in m.payload and m.id not in numbers
    }
    by_number = _lookup(
        session,
        select(col(PersonIdentifier.value), col(PersonIdentifier.person_id)).where(
            col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
            _among(session, col(PersonIdentifier.value), set(numbers.values())),
        ),
        bool(numbers),
    )
    by_returnee = _lookup(
        session,
        select(col(ReturneeCase.returnee_key), col(ReturneeCase.person_id)).where(
            _among(session, col(ReturneeCase.returnee_key), set(returnees.values())),
            col(ReturneeCase.person_id).is_not(None),
        ),
        bool(returnees),
    )
    found = {mid: by_number[pn] for mid, pn in numbers.items() if pn in by_number}
    found.update({mid: by_returnee[r] for mid, r in returnees.items() if r in by_returnee})
    return found


def _lookup(session: Session, statement: Any, wanted: bool) -> Mapping[str, int]:
    if not wanted:
        return {}
    return {key: person_id for key, person_id in session.exec(statement)}


def _among(session: Session, column: Any, values: set[str]) -> Any:
    """``column IN values``; on PostgreSQL one array parameter, a statement of constant text."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(sorted(values), ARRAY(String)))
    return column.in_(values)
