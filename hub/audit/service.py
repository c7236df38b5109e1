"""Appending to the audit log, verifying its chain, and answering a data-subject request.

Append-only by construction: this module offers no update and no delete. On
PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE of ``audit_entry``
(migration 0007); the chain (:mod:`hub.audit.chain`) makes any change made
around that guard evident, and a checkpoint (:mod:`hub.audit.anchor`) a log cut
short. Functions never commit: the caller appends in
the same transaction as the read or delivery it records.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Table, insert, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from hub.audit.anchor import Checkpoint
from hub.audit.chain import GENESIS_HASH, HASHED_COLUMNS, entry_hash
from hub.audit.models import AuditEntry
from hub.canonical.persons import PERSONAL_NO_SCHEME, PersonIdentifier
from hub.errors import HubError, InvalidInput
from hub.log import get_logger
from hub.mappings.transforms import TransformFailure, personal_no
from hub.store.types import utc_now

log = get_logger("audit")

AuditAction = Literal["read", "delivery", "decision"]

CHAIN_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"ura-hub:audit-chain").digest()[:8], "big", signed=True
)
"""The PostgreSQL advisory-lock key that serialises appends (held to the end of the transaction)."""

_ENTRY: Table = AuditEntry.__table__  # type: ignore[attr-defined]
_HEAD = select(col(AuditEntry.entry_hash)).order_by(col(AuditEntry.id).desc()).limit(1)
_SQLITE_BUSY = 5
_LIMITS = {"actor": 64, "purpose": 48, "target": 120, "request_id": 64}
_NUMBER_KEYS = frozenset({"personal_no", "personal_nos", "personalNo"})
_PERSONAL_NO_SHAPE = re.compile(r"(?<!\d)[1-9]\d{9}(?!\d)")


class AuditChainBroken(HubError):
    """The chain does not verify: nothing may be anchored on it."""


@dataclass(frozen=True)
class AuditEvent:
    """What one audit entry records, before it is chained."""

    action: AuditAction
    actor: str
    purpose: str
    person_id: int | None
    fields: Sequence[str]
    target: str
    request_id: str | None


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of walking the chain; ``checked`` counts the intact entries."""

    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str | None = None
    head_hash: str = GENESIS_HASH
    head_id: int | None = None
    anchored: Checkpoint | None = None
    """The checkpoint the chain was checked against and found to still hold."""


@dataclass(frozen=True)
class PersonAudit:
    """Who saw or received one person's data: the persons of the number and their entries."""

    person_ids: list[int]
    entries: list[AuditEntry]

    @property
    def known(self) -> bool:
        """Whether the personal number names a person in the hub."""
        return bool(self.person_ids)


def append(
    session: Session,
    *,
    action: AuditAction,
    actor: str,
    purpose: str,
    person_id: int | None,
    fields: Sequence[str],
    target: str,
    request_id: str | None,
) -> AuditEntry:
    """Append one entry to the chain (flushed, not committed)."""
    event = AuditEvent(action, actor, purpose, person_id, fields, target, request_id)
    return append_many(session, events=[event])[0]


def append_many(session: Session, *, events: Sequence[AuditEvent]) -> list[AuditEntry]:
    """Append entries in order under one lock (e.g. every person of one response)."""
    for event in events:
        validate_event(event)
    connection = session.connection()
    _lock_chain(connection)
    rows = _chained(connection, events)
    # one multi-row INSERT (a Core statement: entries are not ORM-tracked objects, which
    # costs several times more per row); ids come back in the order of the chain
    ids = connection.execute(
        insert(_ENTRY).returning(_ENTRY.c.id, sort_by_parameter_order=True), rows
    ).scalars()
    return [AuditEntry(id=entry_id, **row) for entry_id, row in zip(ids, rows, strict=True)]


def try_append(connection: Connection, *, events: Sequence[AuditEvent]) -> bool:
    """Append entries if the chain is free now; False, with nothing written, if another
    transaction holds it. For a caller that must not block (the API's event loop):
    it tries again later instead of waiting here. Flushed, not committed.
    """
    for event in events:
        validate_event(event)
    if not _try_lock_chain(connection):
        return False
    connection.execute(insert(_ENTRY), _chained(connection, events))
    return True


def verify(
    session: Session, *, batch_size: int = 1000, expect: Checkpoint | None = None
) -> VerifyResult:
    """Walk the chain in id order and report the first entry that breaks it.

    With ``expect`` (a checkpoint, :mod:`hub.audit.anchor`), the entry it anchors must still
    be there with its hash and as many entries before it: else the log was cut short.
    """
    expected_prev, prev_id, checked, anchored = GENESIS_HASH, None, 0, False
    for row in _rows(session, batch_size):
        reason = _broken(row, expected_prev, prev_id)
        if reason is None and expect is not None and not anchored:
            reason = _off_checkpoint(row, checked, expect)
            anchored = row["id"] == expect.last_id
        if reason is not None:
            log.warning("audit chain broken", entry_id=row["id"], intact=checked)
            return VerifyResult(False, checked, row["id"], reason, expected_prev, prev_id)
        expected_prev, prev_id, checked = row["entry_hash"], row["id"], checked + 1
    if expect is not None and not anchored:
        log.warning("audit log truncated", entries=checked, anchored_count=expect.count)
        return VerifyResult(
            False, checked, None, _truncated(prev_id, checked, expect), expected_prev, prev_id
        )
    log.info("audit chain intact", entries=checked, anchored=expect is not None)
    return VerifyResult(True, checked, head_hash=expected_prev, head_id=prev_id, anchored=expect)


def _off_checkpoint(row: Mapping[str, Any], checked: int, expect: Checkpoint) -> str | None:
    """Why ``row`` (intact in the chain, ``checked`` entries before it) contradicts ``expect``."""
    taken = f"the checkpoint of {expect.taken_at:%Y-%m-%d %H:%M:%S}"
    if row["id"] < expect.last_id:
        return None
    if row["id"] > expect.last_id:
        return (
            f"entry {expect.last_id}, the head of {taken}, is gone and the chain runs on "
            f"without it: the log was cut short and written again"
        )
    if row["entry_hash"] != expect.head_hash:
        return (
            f"it does not carry the hash {taken} anchors: the log was cut short and written "
            "again, or rewritten and re-hashed from an earlier entry"
        )
    if checked + 1 != expect.count:
        return (
            f"{checked + 1:,} entries lead to it, {taken} counted {expect.count:,}: "
            "entries before it were deleted or inserted"
        )
    return None


def _truncated(last_id: int | None, checked: int, expect: Checkpoint) -> str:
    ends = f"the log ends at entry {last_id}" if last_id is not None else "the log is empty"
    return (
        f"truncated: {ends} with {checked:,} entries, but the checkpoint of "
        f"{expect.taken_at:%Y-%m-%d %H:%M:%S} anchors entry {expect.last_id} as entry "
        f"{expect.count:,}: at least {expect.count - checked:,} entries were deleted from its end"
    )


def checkpoint(session: Session) -> Checkpoint:
    """The head of the chain now, once the chain up to it is verified intact."""
    result = verify(session)
    if not result.ok:
        raise AuditChainBroken(
            f"no checkpoint taken: the chain is broken at entry {result.first_broken_id}: "
            f"{result.reason}"
        )
    if result.head_id is None:
        raise AuditChainBroken("no checkpoint taken: the audit log is empty")
    return Checkpoint(
        last_id=result.head_id, head_hash=result.head_hash, count=result.checked,
        taken_at=utc_now(),
    )  # fmt: skip


def audit_cli_read(
    session: Session,
    person_ids: Iterable[int | None],
    *,
    purpose: str,
    target: str,
    fields: Sequence[str] = ("shown",),
    actor: str = "cli",
) -> list[AuditEntry]:
    """Audit a command showing or writing out personal data: one read per person, in the
    order first shown (flushed, not committed: call it in the unit of work that read them).
    """
    persons = [p for p in dict.fromkeys(person_ids) if p is not None]
    events = [
        AuditEvent("read", actor, purpose, person_id, fields, target, None) for person_id in persons
    ]
    return append_many(session, events=events) if events else []


def persons_shown(session: Session, shown: Iterable[tuple[int | None, Any]]) -> list[int]:
    """Every person a response shows, in the order first shown: of each item its own person,
    then the persons of the personal numbers in its document (a finding's evidence names a
    second person by number, which must be audited as theirs too)."""
    items = [(person_id, personal_nos_in(document)) for person_id, document in shown]
    numbers = person_ids_of(session, (number for _, found in items for number in found))
    persons: dict[int, None] = {}
    for person_id, found in items:
        if person_id is not None:
            persons[person_id] = None
        for number in found:
            persons.update(dict.fromkeys(numbers.get(number, ())))
    return list(persons)


def personal_nos_in(document: Any) -> list[str]:
    """The personal numbers a JSON document holds under a personal-number key, in order."""
    found: list[str] = []
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            for key, item in reversed(list(value.items())):
                if key in _NUMBER_KEYS:
                    items = item if isinstance(item, list) else [item]
                    found.extend(number for number in items if isinstance(number, str))
                else:
                    stack.append(item)
        elif isinstance(value, list):
            stack.extend(reversed(value))
    return list(dict.fromkeys(found))


def person_ids_of(session: Session, personal_nos: Iterable[str]) -> dict[str, list[int]]:
    """The persons each personal number names (numbers of nobody left out)."""
    numbers = sorted(set(personal_nos))
    found: dict[str, list[int]] = {}
    for start in range(0, len(numbers), 1000):
        rows = session.exec(
            select(col(PersonIdentifier.value), col(PersonIdentifier.person_id))
            .where(
                col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
                col(PersonIdentifier.value).in_(numbers[start : start + 1000]),
            )
            .order_by(col(PersonIdentifier.person_id))
        )
        for value, person_id in rows:
            found.setdefault(value, []).append(person_id)
    return found


def export_person(session: Session, *, personal_no: str) -> PersonAudit:
    """Every entry about the person of ``personal_no``: who saw or received their data."""
    number = _checked_personal_no(personal_no)
    person_ids = sorted(
        session.exec(
            select(col(PersonIdentifier.person_id)).where(
                col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
                col(PersonIdentifier.value) == number,
            )
        ).all()
    )
    entries: list[AuditEntry] = []
    if person_ids:
        entries = list(
            session.exec(
                select(AuditEntry)
                .where(col(AuditEntry.person_id).in_(person_ids))
                .order_by(col(AuditEntry.id))
            )
        )
    log.info("audit export", persons=len(person_ids), entries=len(entries))
    return PersonAudit(person_ids=person_ids, entries=entries)


def validate_event(event: AuditEvent) -> None:
    """Refuse (:class:`InvalidInput`) an event no writer of the log may append: an unknown
    action, an empty or over-long actor, purpose, target or request id, or a target that
    carries a personal number (the person belongs in ``person_id``)."""
    if event.action not in ("read", "delivery", "decision"):
        raise InvalidInput(f"unknown audit action {event.action!r}", field="action")
    for name, limit in _LIMITS.items():
        value = getattr(event, name)
        if value is None and name == "request_id":
            continue
        if not value or len(value) > limit:
            raise InvalidInput(f"audit {name} must be 1-{limit} characters", field=name)
    if _PERSONAL_NO_SHAPE.search(event.target):
        raise InvalidInput(
            "an audit target must not carry a personal number",
            field="target",
            hint="record the route template (/persons/{pn}/...), the person goes in person_id",
        )


def _checked_personal_no(value: str) -> str:
    try:
        return personal_no(value)
    except TransformFailure as error:
        raise InvalidInput(
            str(error), field="personal_no", hint="give the 10-digit personal number"
        ) from None


def _lock_chain(connection: Connection) -> None:
    """Make sure no other transaction appends between reading the head and inserting."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        # pysqlite opens a transaction only at the first INSERT/UPDATE/DELETE, so the
        # head would be read outside it; take the write lock first unless a write holds it
        raw: Any = connection.connection.dbapi_connection
        if not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _try_lock_chain(connection: Connection) -> bool:
    """:func:`_lock_chain` without waiting: False when another transaction holds the lock."""
    if connection.dialect.name == "postgresql":
        taken = connection.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY}
        ).scalar_one()
        return bool(taken)
    raw: Any = connection.connection.dbapi_connection
    if raw.in_transaction:  # this transaction writes already: it holds the lock
        return True
    waits = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    raw.execute("PRAGMA busy_timeout=0")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as error:
        if getattr(error.orig, "sqlite_errorcode", None) == _SQLITE_BUSY:
            return False
        raise
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(waits)}")
    return True


def _chained(connection: Connection, events: Sequence[AuditEvent]) -> list[dict[str, Any]]:
    """The rows of ``events``, hashed into the chain after its current head (lock held)."""
    head = connection.execute(_HEAD).scalar()
    return chained_rows(head or GENESIS_HASH, events)


def chained_rows(prev_hash: str, events: Sequence[AuditEvent]) -> list[dict[str, Any]]:
    """The rows of ``events`` hashed into the chain after ``prev_hash``: what every writer of
    the log inserts (``hub audit verify`` checks them)."""
    occurred_at = utc_now()
    rows: list[dict[str, Any]] = []
    for event in events:
        row = entry_row(event, occurred_at, prev_hash)
        row["entry_hash"] = prev_hash = entry_hash(row)
        rows.append(row)
    return rows


def entry_row(event: AuditEvent, occurred_at: datetime, prev_hash: str) -> dict[str, Any]:
    """The hashed columns of ``event``'s entry (:data:`~hub.audit.chain.HASHED_COLUMNS`)."""
    return {
        "occurred_at": occurred_at,
        "action": event.action,
        "actor": event.actor,
        "purpose": event.purpose,
        "person_id": event.person_id,
        "fields": sorted(set(event.fields)),
        "target": event.target,
        "request_id": event.request_id,
        "prev_hash": prev_hash,
    }


def _rows(session: Session, batch_size: int) -> Iterator[Mapping[str, Any]]:
    """Entries as stored (not the session's copies), in id order, a batch at a time."""
    columns = [col(AuditEntry.id), col(AuditEntry.entry_hash)]
    columns += [col(getattr(AuditEntry, name)) for name in HASHED_COLUMNS]
    last_id = 0
    while True:
        batch = (
            session.execute(
                select(*columns)
                .where(col(AuditEntry.id) > last_id)
                .order_by(col(AuditEntry.id))
                .limit(batch_size)
            )
            .mappings()
            .all()
        )
        yield from (dict(row) for row in batch)
        if len(batch) < batch_size:
            return
        last_id = batch[-1]["id"]


def _broken(row: Mapping[str, Any], expected_prev: str, prev_id: int | None) -> str | None:
    if entry_hash(row) != row["entry_hash"]:
        return "its content does not match its entry_hash: the entry was altered"
    if row["prev_hash"] == expected_prev:
        return None
    if prev_id is None:
        return "it does not start the chain: the entries before it were deleted"
    return (
        f"its prev_hash does not match the hash of entry {prev_id} before it: entries "
        f"between them were deleted, or entry {prev_id} was altered and re-hashed"
    )
