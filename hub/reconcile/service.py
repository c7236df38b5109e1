"""Reconciliation runs: start one, run its detectors, read and apply its findings.

Keyword-only functions. Those taking a ``session`` never commit (the CLI command
or API request owns the unit of work); :func:`run_detectors` takes the engine
instead, because a run reports its progress while it works: each finished kind
commits the run's progress in a short transaction of its own, and the findings
are stored with the final status in one more.

A typical edge::

    with unit_of_work(engine) as session:
        run_id = start_run(session, dry_run=False).id
    run = run_detectors(engine, run_id, as_of=today)   # e.g. in a background task
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import Engine, Select, func, insert, select, update
from sqlmodel import Session, col

from hub.connectors.delivery import validate_write
from hub.errors import Conflict, HubError, InvalidInput, NotFound
from hub.log import get_logger, redact_personal_numbers
from hub.reconcile.detectors import DETECTORS, FindingDraft
from hub.reconcile.models import Finding, ReconciliationRun
from hub.reconcile.scoring import Score, score_against_manifest
from hub.store.engine import unit_of_work
from hub.store.types import utc_now
from hub.sync.flows.base import person_key
from hub.sync.outbox import enqueue_many

__all__ = [
    "FLOW",
    "Score",
    "apply_finding",
    "count_findings",
    "findings_by_kind",
    "get_finding",
    "get_run",
    "list_findings",
    "list_runs",
    "outbox_key",
    "run_detectors",
    "score_against_manifest",
    "start_run",
]

log = get_logger("reconcile")

FLOW = "reconcile"
"""The outbox ``flow`` of messages sent by applying findings."""

RunProgress = Callable[[int, int], None]
"""``on_progress(kinds_done, kinds_total)``."""

_INSERT_CHUNK = 5_000


def start_run(session: Session, *, dry_run: bool) -> ReconciliationRun:
    """A new run in state ``running`` (flushed: it has its id); nothing is detected yet."""
    run = ReconciliationRun(dry_run=dry_run)
    session.add(run)
    session.flush()
    return run


def run_detectors(
    engine: Engine, run_id: int, *, as_of: date, on_progress: RunProgress | None = None
) -> ReconciliationRun:
    """Run every detector for ``run_id`` as on ``as_of``; store its findings unless a dry run.

    ``run.progress`` goes from 0 to 100 as kinds complete and ``run.counts`` holds
    the findings per kind (a dry run counts too). A failing run is recorded as
    ``failed`` with an error free of personal data, and returned, not raised.
    """
    with unit_of_work(engine) as session:
        run = get_run(session, run_id=run_id)
        if run.status != "running" or run.finished_at is not None:
            raise Conflict(f"reconciliation run {run_id} has already run", hint="start a new run")
        dry_run = run.dry_run
    steps = len(DETECTORS) + (0 if dry_run else 1)
    found: dict[str, list[FindingDraft]] = {}
    try:
        with _snapshot(engine) as read:
            for done, (kind, detect) in enumerate(DETECTORS.items(), start=1):
                started = time.perf_counter()
                found[kind] = detect(read, as_of=as_of)
                seconds = round(time.perf_counter() - started, 3)
                log.info(
                    "reconcile_kind",
                    run_id=run_id,
                    kind=kind,
                    found=len(found[kind]),
                    seconds=seconds,
                )
                _report(engine, run_id, progress=100 * done // steps, found=found)
                if on_progress is not None:
                    on_progress(done, len(DETECTORS))
        return _finish(engine, run_id, found, store=not dry_run)
    except Exception as error:  # recorded for the operator, who sees the run failed
        return _fail(engine, run_id, error)


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Session]:
    """A read-only session over one consistent view of the store, for every detector.

    On PostgreSQL a REPEATABLE READ transaction: ingestion may go on meanwhile
    without one kind seeing data another did not. SQLite (WAL) gives a reader
    its snapshot from its first read anyway.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with Session(bind=connection) as session:
            try:
                yield session
            finally:
                session.rollback()


def _counts(found: dict[str, list[FindingDraft]]) -> dict[str, int]:
    return {kind: len(drafts) for kind, drafts in found.items()}


def _report(
    engine: Engine, run_id: int, *, progress: int, found: dict[str, list[FindingDraft]]
) -> None:
    with unit_of_work(engine) as session:
        session.execute(
            update(ReconciliationRun)
            .where(col(ReconciliationRun.id) == run_id)
            .values(progress=progress, counts=_counts(found))
        )


def _finish(
    engine: Engine, run_id: int, found: dict[str, list[FindingDraft]], *, store: bool
) -> ReconciliationRun:
    with unit_of_work(engine) as session:
        if store:
            rows = [draft.row(run_id) for drafts in found.values() for draft in drafts]
            for start in range(0, len(rows), _INSERT_CHUNK):
                session.execute(insert(Finding), rows[start : start + _INSERT_CHUNK])
        run = get_run(session, run_id=run_id)
        run.status, run.progress, run.counts = "done", 100, _counts(found)
        run.finished_at = utc_now()
        session.add(run)
    log.info("reconcile_done", run_id=run_id, dry_run=not store, findings=sum(run.counts.values()))
    return run


def _fail(engine: Engine, run_id: int, error: Exception) -> ReconciliationRun:
    message = _safe_message(error)
    log.error("reconcile_failed", run_id=run_id, error=message)
    with unit_of_work(engine) as session:
        run = get_run(session, run_id=run_id)
        run.status, run.error, run.finished_at = "failed", message, utc_now()
        session.add(run)
    return run


def _safe_message(error: Exception) -> str:
    """The error's type and first line, personal numbers masked.

    Only the first line: database drivers append the statement and its parameters.
    """
    lines = str(error).splitlines()
    text = f"{type(error).__name__}: {lines[0] if lines else ''}"
    if isinstance(error, HubError):
        text = f"{type(error).__name__}: {error}"
    masked = redact_personal_numbers(None, "", {"text": text})
    return str(masked["text"])[:500]


def get_run(session: Session, *, run_id: int) -> ReconciliationRun:
    """One run, or :class:`NotFound`."""
    run = session.get(ReconciliationRun, run_id)
    if run is None:
        raise NotFound(f"no reconciliation run {run_id}", hint="see the list of runs")
    return run


def list_runs(session: Session, *, limit: int = 20, offset: int = 0) -> list[ReconciliationRun]:
    """Runs, newest first."""
    statement = (
        select(ReconciliationRun)
        .order_by(col(ReconciliationRun.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.execute(statement).scalars())


def list_findings(
    session: Session, *, run_id: int, kind: str | None = None, limit: int = 50, offset: int = 0
) -> list[Finding]:
    """A run's findings in the order found, optionally of one kind (:class:`NotFound` run)."""
    get_run(session, run_id=run_id)
    statement = (
        _findings_of(run_id, _checked_kind(kind)).order_by(col(Finding.id)).limit(limit)
    ).offset(offset)
    return list(session.execute(statement).scalars())


def count_findings(session: Session, *, run_id: int, kind: str | None = None) -> int:
    """How many findings :func:`list_findings` pages through."""
    statement = select(func.count()).select_from(
        _findings_of(run_id, _checked_kind(kind)).subquery()
    )
    return int(session.execute(statement).scalar_one())


def findings_by_kind(session: Session, *, run_id: int) -> dict[str, list[Finding]]:
    """Every finding of a run, by kind (for scoring a run against a manifest)."""
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in session.execute(_findings_of(run_id, None).order_by(col(Finding.id))).scalars():
        grouped[finding.kind].append(finding)
    return dict(grouped)


def get_finding(session: Session, *, run_id: int, finding_id: int) -> Finding:
    """One finding of one run, or :class:`NotFound`."""
    finding = session.get(Finding, finding_id)
    if finding is None or finding.run_id != run_id:
        raise NotFound(
            f"no finding {finding_id} in reconciliation run {run_id}",
            hint="list the run's findings to see their ids",
        )
    return finding


def outbox_key(finding: Finding) -> str:
    """The idempotency key of a finding's action: the same inconsistency is fixed once."""
    return f"{FLOW}:{finding.kind}:{finding.subject_key}"


def apply_finding(session: Session, *, run_id: int, finding_id: int) -> Finding:
    """Queue the finding's proposed action in the outbox and mark the finding applied.

    :class:`Conflict` when the finding is no longer open; :class:`InvalidInput` when it
    proposes nothing;
    :class:`NotFound` when the run has no such finding.
    """
    finding = get_finding(session, run_id=run_id, finding_id=finding_id)
    proposal = _proposal(finding)
    key = outbox_key(finding)
    validate_write(
        proposal["target"], proposal["operation"], proposal["payload"], idempotency_key=key
    )
    marked = session.execute(
        update(Finding)
        .where(col(Finding.id) == finding_id, col(Finding.status) == "open")
        .values(status="applied", applied_at=utc_now(), outbox_key=key)
    )
    if not getattr(marked, "rowcount", 0):  # applied concurrently since it was read
        raise _not_open(finding_id, "applied")
    order = (
        person_key(finding.person_id)
        if finding.person_id is not None
        else f"{FLOW}:{finding.subject_key}"
    )
    enqueue_many(
        session,
        [
            {
                "flow": FLOW,
                "target_registry": proposal["target"],
                "operation": proposal["operation"],
                "order_key": order,
                "idempotency_key": key,
                "payload": proposal["payload"],
            }
        ],
    )
    session.refresh(finding)
    log.info("finding_applied", run_id=run_id, finding_id=finding_id, kind=finding.kind)
    return finding


def _proposal(finding: Finding) -> dict[str, Any]:
    if finding.status != "open":
        raise _not_open(finding.id, finding.status)
    proposal = finding.proposed_action
    if proposal is None:
        raise InvalidInput(
            f"finding {finding.id} ({finding.kind}) proposes no action",
            field="finding_id",
            hint="resolve it in the registry concerned (a civil-registry merge, for instance)",
        )
    return proposal


def _not_open(finding_id: int | None, status: str) -> Conflict:
    hint = "its action is in the outbox already: see `hub outbox list`"
    return Conflict(
        f"finding {finding_id} is {status}, not open",
        hint=hint if status == "applied" else "only open findings are applied",
    )


def _checked_kind(kind: str | None) -> str | None:
    if kind is not None and kind not in DETECTORS:
        raise InvalidInput(
            f"unknown finding kind {kind!r}",
            field="kind",
            hint=f"use one of: {', '.join(DETECTORS)}",
        )
    return kind


def _findings_of(run_id: int, kind: str | None) -> Select[Finding]:
    statement = select(Finding).where(col(Finding.run_id) == run_id)
    if kind is not None:
        statement = statement.where(col(Finding.kind) == kind)
    return statement
