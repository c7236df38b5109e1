"""Small reads and the audit entries every console page needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from hub.api.security import Caller
from hub.audit import service as audit
from hub.audit.service import AuditAction, AuditEvent
from hub.canonical import PersonIdentifier
from hub.canonical.persons import PERSONAL_NO_SCHEME


def engine_of(request: Request) -> Engine:
    """The app's engine, for a unit of work per form or page."""
    engine: Engine = request.app.state.engine
    return engine


def personal_numbers(session: Session, person_ids: Iterable[int | None]) -> dict[int, str]:
    """The personal number of each of these persons that has one."""
    wanted = sorted({person for person in person_ids if person is not None})
    if not wanted:
        return {}
    rows = session.execute(
        select(col(PersonIdentifier.person_id), col(PersonIdentifier.value)).where(
            col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
            col(PersonIdentifier.person_id).in_(wanted),
        )
    ).all()
    return {int(person): str(value) for person, value in rows}


NUMBER_KEYS = frozenset({"personal_no", "personal_nos", "personalNo"})
"""Keys under which evidence and proposed actions name a person by personal number."""


def persons_shown(session: Session, items: Iterable[tuple[int | None, Any]]) -> list[int]:
    """Every person a page shows, in the order first shown: each item's own person, then the
    persons its document names by personal number (a duplicate finding's second person).

    The API audits findings the same way (``hub.audit.service.persons_shown``, once it lands).
    """
    listed = [(person, _numbers_in(document)) for person, document in items]
    wanted = sorted({number for _person, numbers in listed for number in numbers})
    owners: dict[str, list[int]] = {}
    if wanted:
        for value, person in session.execute(
            select(col(PersonIdentifier.value), col(PersonIdentifier.person_id))
            .where(
                col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
                col(PersonIdentifier.value).in_(wanted),
            )
            .order_by(col(PersonIdentifier.person_id))
        ).all():
            owners.setdefault(str(value), []).append(int(person))
    shown: dict[int, None] = {}
    for person, numbers in listed:
        if person is not None:
            shown[person] = None
        for number in numbers:
            shown.update(dict.fromkeys(owners.get(number, ())))
    return list(shown)


def _numbers_in(document: Any) -> list[str]:
    found: list[str] = []
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if key in NUMBER_KEYS:
                    found += [
                        n
                        for n in (item if isinstance(item, list) else [item])
                        if isinstance(n, str)
                    ]
                else:
                    stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
    return list(dict.fromkeys(found))


def record(
    session: Session,
    caller: Caller,
    action: AuditAction,
    person_ids: Iterable[int | None],
    *,
    fields: Sequence[str],
    target: str,
) -> None:
    """Audit ``caller`` reading (or deciding about) these persons, once each, in this unit."""
    persons = list(dict.fromkeys(person for person in person_ids if person is not None))
    if not persons:
        return
    audit.append_many(
        session,
        events=[
            AuditEvent(
                action,
                caller.client,
                caller.purpose,
                person,
                fields,
                target,
                caller.request_id,
            )
            for person in persons
        ],
    )
