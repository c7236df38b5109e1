"""Reconciliation: start a run (dry or not), watch it, browse its findings by kind and
municipality with each registry's evidence side by side, and apply the proposed fixes.

The same services as ``/v1/reconciliations``; findings carry personal data, so a page of
them is audited per person before it is shown, and so is every finding applied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlmodel import Session, col
from starlette.responses import Response

from hub.canonical import Person
from hub.console.records import engine_of, persons_shown, record
from hub.console.web import (
    PREFIX,
    ConsoleUser,
    FormData,
    User,
    failed,
    form_date,
    form_ids,
    log,
    redirect,
    render,
)
from hub.errors import HubError, NotFound
from hub.jobs import queue as jobs
from hub.jobs.models import JobKind
from hub.mappings.codelists import load_codelists
from hub.reconcile import service
from hub.reconcile.detectors import KINDS
from hub.reconcile.models import Finding
from hub.store.engine import unit_of_work
from hub.store.types import utc_now

router = APIRouter()

RUNS = f"{PREFIX}/reconciliation"
PAGE = 25
UNKNOWN = "unknown"
FINDING_FIELDS = ("kind", "subject_key", "evidence", "proposed_action", "status")


@dataclass(frozen=True)
class EvidenceTable:
    """A finding's evidence: each registry's statement a column, each fact a row."""

    sources: list[str]
    rows: list[tuple[str, list[str]]]
    other: list[tuple[str, str]]


@dataclass(frozen=True)
class FindingView:
    """A finding as the run page shows it."""

    finding: Finding
    municipality: str
    evidence: EvidenceTable
    action: dict[str, Any] | None
    action_payload: list[tuple[str, str]]


@router.get(RUNS)
def runs(request: Request, user: User) -> Response:
    """Start a run; the latest runs."""
    user.require("reconcile:run")
    with unit_of_work(engine_of(request)) as session:
        latest = service.list_runs(session, limit=20)
    return render(request, "reconciliation.html", user=user, runs=latest, today=utc_now().date())


@router.post(RUNS)
def start(request: Request, user: User, form: FormData) -> Response:
    """Start a run: a job runs its detectors (a ``hub worker``), the run's page follows it."""
    user.require("reconcile:run")
    dry_run = form.get("dry_run") == "on"
    try:
        as_of = form_date(form, "as_of") or utc_now().date()
    except HubError as error:
        return failed(user, RUNS, error)
    with unit_of_work(engine_of(request)) as session:  # committed: the worker reads the run
        run = service.start_run(session, dry_run=dry_run)
        run_id = int(run.id or 0)
        job = jobs.submit(
            session,
            JobKind.RECONCILE,
            target=f"run:{run_id}",
            params={"run_id": run_id, "as_of": as_of.isoformat()},
            requested_by=user.name,
        )
    log.info("reconciliation_queued", run_id=run_id, job=job.id, dry_run=dry_run, client=user.name)
    user.session.flash("ok", user.t("recon.started", id=run_id))
    return redirect(f"{RUNS}/{run_id}")


@router.get(f"{RUNS}/{{run_id}}")
def run_page(
    request: Request,
    user: User,
    run_id: int,
    kind: str = "",
    municipality: str = "",
    page: int = 0,
) -> Response:
    """A run: its progress while it runs; then its findings by kind and municipality."""
    caller = user.caller("reconcile:run")
    kind = kind if kind in KINDS else ""
    page = max(0, min(page, 10_000))
    with unit_of_work(engine_of(request)) as session:
        try:
            run = service.get_run(session, run_id=run_id)
        except NotFound:
            return render(request, "not_found.html", user=user, status=404)
        matrix = _by_kind_and_municipality(session, run_id) if run.status == "done" else []
        found, total = _findings(session, run_id, kind, municipality, page)
        shown = [(v.finding.person_id, [v.finding.evidence, v.action]) for v in found]
        record(
            session,
            caller,
            "read",
            persons_shown(session, shown),
            fields=FINDING_FIELDS,
            target=f"{RUNS}/{{run_id}}",
        )
    names = _municipality_names()
    return render(
        request,
        "run.html",
        user=user,
        run=run,
        matrix=matrix,
        kinds=KINDS,
        municipalities=sorted({m for _k, m, _n in matrix}),
        municipality_names=names,
        found=found,
        total=total,
        kind=kind,
        municipality=municipality,
        page=page,
        pages=(total + PAGE - 1) // PAGE,
    )


@router.get(f"{RUNS}/{{run_id}}/progress")
def progress(request: Request, user: User, run_id: int) -> Response:
    """The run's progress, for the page's polling."""
    user.require("reconcile:run")
    with unit_of_work(engine_of(request)) as session:
        try:
            run = service.get_run(session, run_id=run_id)
        except NotFound:
            return render(request, "not_found.html", user=user, status=404)
    return render(request, "_progress.html", user=user, run=run)


@router.post(f"{RUNS}/{{run_id}}/apply")
def apply(request: Request, user: User, form: FormData, run_id: int) -> Response:
    """Queue the proposed fix of each ticked finding; the dispatcher delivers them."""
    caller = user.caller("reconcile:run")
    back = f"{RUNS}/{run_id}"
    chosen = form_ids(form, "finding")
    if not chosen:
        user.session.flash("error", user.t("recon.none_chosen"))
        return redirect(back)
    applied: list[int] = []
    for finding_id in chosen:
        try:
            with unit_of_work(engine_of(request)) as session:
                finding = service.apply_finding(session, run_id=run_id, finding_id=finding_id)
                record(
                    session,
                    caller,
                    "decision",
                    persons_shown(
                        session,
                        [(finding.person_id, [finding.evidence, finding.proposed_action])],
                    ),
                    fields=FINDING_FIELDS,
                    target=f"{RUNS}/{{run_id}}/apply",
                )
            applied.append(finding_id)
        except HubError as error:
            return failed(user, back, error) if not applied else _partly(user, back, applied, error)
    log.info("findings_applied", run_id=run_id, findings=len(applied), client=user.name)
    user.session.flash("ok", user.catalogue.count("recon.applied", len(applied)))
    return redirect(back)


def _partly(user: ConsoleUser, back: str, applied: list[int], error: HubError) -> Response:
    user.session.flash("ok", user.catalogue.count("recon.applied", len(applied)))
    return failed(user, back, error)


def _municipality_of() -> Any:
    return func.coalesce(col(Person.municipality_code), UNKNOWN)


def _by_kind_and_municipality(session: Session, run_id: int) -> list[tuple[str, str, int]]:
    where = col(Finding.run_id) == run_id
    rows = session.execute(
        select(col(Finding.kind), _municipality_of(), func.count())
        .select_from(Finding)
        .outerjoin(Person, col(Person.id) == col(Finding.person_id))
        .where(where)
        .group_by(col(Finding.kind), _municipality_of())
        .order_by(col(Finding.kind), _municipality_of())
    ).all()
    return [(str(k), str(m), int(n)) for k, m, n in rows]


def _findings(
    session: Session, run_id: int, kind: str, municipality: str, page: int
) -> tuple[list[FindingView], int]:
    conditions: list[Any] = [col(Finding.run_id) == run_id]
    if kind:
        conditions.append(col(Finding.kind) == kind)
    if municipality:
        conditions.append(_municipality_of() == municipality)
    base = (
        select(Finding, _municipality_of())
        .outerjoin(Person, col(Person.id) == col(Finding.person_id))
        .where(*conditions)
    )
    total = int(
        session.execute(select(func.count()).select_from(base.subquery())).scalar_one() or 0
    )
    rows = session.execute(base.order_by(col(Finding.id)).limit(PAGE).offset(page * PAGE)).all()
    return [_view(finding, str(place)) for finding, place in rows], total


def _view(finding: Finding, municipality: str) -> FindingView:
    action = dict(finding.proposed_action) if finding.proposed_action else None
    payload = action.get("payload", {}) if action else {}
    return FindingView(
        finding=finding,
        municipality=municipality,
        evidence=_evidence(dict(finding.evidence or {})),
        action=action,
        action_payload=[(str(k), _text(v)) for k, v in dict(payload).items()],
    )


def _evidence(evidence: dict[str, Any]) -> EvidenceTable:
    facts = [fact for fact in evidence.get("facts", []) if isinstance(fact, dict)]
    sources = [str(fact.get("source", "")) for fact in facts]
    names: list[str] = []
    for fact in facts:
        names += [name for name in fact if name != "source" and name not in names]
    rows = [(name, [_text(fact.get(name)) for fact in facts]) for name in names]
    other = [(str(k), _text(v)) for k, v in evidence.items() if k != "facts"]
    return EvidenceTable(sources=sources, rows=rows, other=other)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float | bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _municipality_names() -> dict[str, str]:
    codes = load_codelists()["municipalities"].codes
    return {code: entry.label for code, entry in codes.items()}
