"""Running flows: ingest their sources, decide, queue, dispatch, and keep a record of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from hub.ingest.pipeline import IngestRun, ingest_all
from hub.ingest.run import INGEST_ORDER
from hub.log import get_logger
from hub.settings import RegistryName, Settings
from hub.store.engine import unit_of_work
from hub.store.types import utc_now
from hub.sync.dispatcher import Dispatcher, DispatchReport
from hub.sync.flows import FLOWS, FlowName, changes
from hub.sync.models import MessageState, OutboxMessage, SyncRun
from hub.sync.outbox import enqueue_many

log = get_logger("sync")

FLOW_SOURCES: dict[FlowName, tuple[RegistryName, ...]] = {
    "certificates": ("emis",),
    "refusals": ("emis",),
    "suspensions": ("emis", "sas"),
    "employment": ("tak", "emis", "sas"),
    "civil": ("cra", "emis", "sas", "cms"),
    "returnees": ("cms", "emis", "cra"),
    "sa-status": ("sas", "emis"),
    "profile": ("emis", "sas", "cra"),
}
"""The registries whose changes each flow reads (through ingestion)."""

_KEY_CHUNK = 5_000
MAX_PASSES = 3


@dataclass
class SyncOutcome:
    """One ``hub sync run``: ingestion, the flows' runs, and the dispatch."""

    ingest: IngestRun | None
    runs: list[SyncRun]
    dispatch: DispatchReport


def sources_of(flows: Sequence[FlowName]) -> tuple[RegistryName, ...]:
    """The registries to ingest before these flows, in ingestion order."""
    wanted = {source for flow in flows for source in FLOW_SOURCES[flow]}
    return tuple(name for name in INGEST_ORDER if name in wanted)


def decide_flow(engine: Engine, settings: Settings, flow: FlowName, *, as_of: date) -> SyncRun:
    """Run one flow's decisions and queue what is new, in one transaction with its record
    and the flow's new marks (:mod:`hub.sync.flows.changes`): they move only when what
    they cover is queued."""
    started = utc_now()
    with unit_of_work(engine) as session:
        run = SyncRun(flow=flow, as_of=datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC))
        run.started_at = started
        session.add(run)
        session.flush()
        result = FLOWS[flow](session, settings=settings, as_of=as_of)
        drafts = {draft.idempotency_key: draft for draft in result.drafts}
        queued = _queued(session, list(drafts))
        new = [
            draft.row(flow) | {"run_id": run.id}
            for key, draft in drafts.items()
            if key not in queued
        ]
        enqueue_many(session, new)
        changes.save(session, result.marks)
        run.pulled, run.decided, run.enqueued = result.pulled, len(drafts), len(new)
        run.finished_at = utc_now()
        session.add(run)
    log.info(
        "flow_decided", flow=flow, pulled=run.pulled, decided=run.decided, enqueued=run.enqueued
    )
    return run


def run_sync(
    engine: Engine,
    settings: Settings,
    flows: Sequence[FlowName],
    *,
    as_of: date,
    ingest: bool = True,
    dispatch_timeout: float = 600.0,
) -> SyncOutcome:
    """Ingest the flows' sources, decide each flow, then dispatch until drained.

    A delivery's answer can call for another (EMIS answers a returnee referral
    with the registration CMS must be told of), so decisions and dispatch repeat
    until a pass queues nothing new (at most ``MAX_PASSES``).
    """
    ingested = ingest_all(engine, settings, sources=sources_of(flows)) if ingest else None
    runs: list[SyncRun] = []
    report = DispatchReport()
    dispatcher = Dispatcher(engine, settings)
    try:
        for attempt in range(MAX_PASSES):
            passed = [decide_flow(engine, settings, flow, as_of=as_of) for flow in flows]
            runs += passed
            if attempt and not any(run.enqueued for run in passed):
                break
            report.add(dispatcher.drain(timeout=dispatch_timeout))
    finally:
        dispatcher.close()
    settle_runs(engine, runs)
    return SyncOutcome(ingested, runs, report)


def settle_runs(engine: Engine, runs: Sequence[SyncRun]) -> None:
    """Record how the runs' messages fared: delivered, and dead."""
    with unit_of_work(engine) as session:
        for run in runs:
            states = dict(
                session.execute(
                    select(col(OutboxMessage.state), func.count())
                    .where(col(OutboxMessage.run_id) == run.id)
                    .group_by(col(OutboxMessage.state))
                ).all()
            )
            run.delivered = states.get(MessageState.DELIVERED.value, 0)
            run.failed = states.get(MessageState.DEAD.value, 0)
            run.finished_at = utc_now()
            session.add(run)


def recent_runs(session: Session, *, limit: int = 20) -> list[SyncRun]:
    """The latest flow runs, newest first."""
    statement = select(SyncRun).order_by(col(SyncRun.id).desc()).limit(limit)
    return list(session.execute(statement).scalars())


def _queued(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[start : start + _KEY_CHUNK]
        found.update(
            session.execute(
                select(col(OutboxMessage.idempotency_key)).where(
                    col(OutboxMessage.idempotency_key).in_(chunk)
                )
            ).scalars()
        )
    return found
