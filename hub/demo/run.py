"""The demo pipeline: generate, serve, ingest every registry, check against the manifest."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from fixtures.generate import generate_population
from hub.canonical import PersonIdentifier, ReturneeCase, Suspension
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.demo import csw
from hub.demo.flows_check import FlowCheck, check_death_cases, check_flows, fetch_received
from hub.demo.mock_process import MockRegistriesProcess
from hub.errors import HubError
from hub.ingest.pipeline import IngestRun, ingest_all
from hub.policy import load_profile
from hub.reconcile import service as reconcile
from hub.settings import REGISTRY_NAMES, RegistryName, Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from hub.sync.flows import FLOWS, FlowName
from hub.sync.runner import run_sync

DEMO_SEED = 2026
DECISION_FLOWS: tuple[FlowName, ...] = ("suspensions", "sa-status")
"""What the demo runs again once the CSWs have decided."""


@dataclass
class RegistrySummary:
    """One registry's line of the demo summary."""

    registry: RegistryName
    expected: int
    read: int
    mapped: int
    quarantined: int
    linked: int
    review: int
    seconds: float
    error: str | None

    @property
    def complete(self) -> bool:
        """Whether every record the registry holds was read and accounted for."""
        return self.error is None and self.read == self.expected


@dataclass
class IdentityCheck:
    """Returnees without personal number, linked by the hub, against the generator's truth."""

    returnees: int
    links: int
    correct: int

    @property
    def precision(self) -> float:
        """Correct links among all links."""
        return self.correct / self.links if self.links else 1.0

    @property
    def recall(self) -> float:
        """Correct links among all returnees without personal number."""
        return self.correct / self.returnees if self.returnees else 1.0


RECONCILE_TARGETS = (1.0, 0.99)
"""Recall and precision every finding kind must reach on a generated population."""


@dataclass
class ReconcileCheck:
    """One finding kind of the demo's reconciliation run, against the planted truth."""

    kind: str
    expected: int
    found: int
    precision: float
    recall: float

    @property
    def ok(self) -> bool:
        """Every planted inconsistency found, and (almost) nothing else."""
        recall, precision = RECONCILE_TARGETS
        return self.recall >= recall and self.precision >= precision


@dataclass
class DemoSummary:
    """What the demo did, as printed at its end."""

    persons: int
    seed: int
    generate_seconds: float
    registries: list[RegistrySummary] = field(default_factory=list)
    identity: IdentityCheck | None = None
    flows: list[FlowCheck] = field(default_factory=list)
    dead_letters: int = 0
    reconcile: list[ReconcileCheck] = field(default_factory=list)
    reconcile_seconds: float = 0.0
    total_seconds: float = 0.0
    mock_urls: dict[RegistryName, str] = field(default_factory=dict)
    database_url: str = ""

    @property
    def ok(self) -> bool:
        """Every registry complete and returnees linked as well as promised."""
        identity_ok = self.identity is None or (
            self.identity.precision >= 0.99 and self.identity.recall >= 0.95
        )
        flows_ok = all(check.ok for check in self.flows) and self.dead_letters == 0
        reconcile_ok = all(check.ok for check in self.reconcile)
        registries_ok = all(r.complete for r in self.registries)
        return identity_ok and flows_ok and reconcile_ok and registries_ok

    def as_json(self) -> dict[str, Any]:
        """The summary as one JSON object."""
        summary: dict[str, Any] = {
            "ok": self.ok,
            "persons": self.persons,
            "seed": self.seed,
            "generate_seconds": round(self.generate_seconds, 2),
            "total_seconds": round(self.total_seconds, 2),
            "registries": {
                r.registry: {
                    "expected": r.expected,
                    "read": r.read,
                    "mapped": r.mapped,
                    "quarantined": r.quarantined,
                    "linked": r.linked,
                    "review": r.review,
                    "complete": r.complete,
                    "seconds": round(r.seconds, 2),
                    "error": r.error,
                }
                for r in self.registries
            },
        }
        summary["flows"] = {
            check.flow: {
                "expected": check.expected,
                "delivered": check.delivered,
                "missing": check.missing,
                "unexpected": check.unexpected,
            }
            for check in self.flows
        }
        summary["dead_letters"] = self.dead_letters
        summary["reconcile"] = {
            check.kind: {
                "expected": check.expected,
                "found": check.found,
                "precision": round(check.precision, 4),
                "recall": round(check.recall, 4),
            }
            for check in self.reconcile
        }
        summary["reconcile_seconds"] = round(self.reconcile_seconds, 2)
        if self.identity is not None:
            summary["identity"] = {
                "returnees_without_personal_no": self.identity.returnees,
                "links": self.identity.links,
                "correct": self.identity.correct,
                "precision": round(self.identity.precision, 4),
                "recall": round(self.identity.recall, 4),
            }
        return summary


def run_demo(
    *,
    persons: int,
    workdir: Path,
    settings: Settings,
    seed: int = DEMO_SEED,
    on_generate: Callable[[int, int], None] | None = None,
    on_ingest: Callable[[RegistryName, int], None] | None = None,
    keep_running: ExitStack | None = None,
) -> DemoSummary:
    """Generate ``persons``, serve the mocks, ingest every registry, run every flow.

    The demo keeps its own fresh SQLite store in ``workdir`` so that it can be
    run again and again with the same result. Flows decide as on the data's
    reference date (the generated world's "today"), so that what the mocks
    receive can be compared with the manifest's ground truth.
    """
    started = time.perf_counter()
    population = workdir / "population"
    generate_population(persons=persons, seed=seed, out=population, on_progress=on_generate)
    summary = DemoSummary(
        persons=persons, seed=seed, generate_seconds=time.perf_counter() - started
    )
    manifest = json.loads((population / "manifest.json").read_text(encoding="utf-8"))
    database = workdir / "hub.sqlite3"
    for stale in workdir.glob("hub.sqlite3*"):
        stale.unlink()
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    # ``keep_running``: the mocks outlive the demo, stopped when that stack closes (--serve)
    mocks_process = MockRegistriesProcess(population)
    if keep_running is not None:
        keep_running.enter_context(mocks_process)
        summary.mock_urls = mocks_process.urls()
        summary.database_url = f"sqlite:///{database}"
    with nullcontext(mocks_process) if keep_running is not None else mocks_process as mocks:
        against_mocks = settings.with_registry_urls(mocks.urls())
        run = ingest_all(engine, against_mocks, on_progress=on_ingest)
        as_of = date.fromisoformat(manifest["reference_date"])
        synced = run_sync(engine, against_mocks, list(FLOWS), as_of=as_of, ingest=False)
        # the store as ingested, before anyone decided: no suspension is confirmed yet
        summary.reconcile, summary.reconcile_seconds = _reconcile_check(
            engine, manifest, as_of=as_of, profile=settings.policy_profile
        )
        plan = csw.plan_for(manifest, settings.policy_profile)
        deciding = against_mocks.model_copy(update={"database_url": f"sqlite:///{database}"})
        played = csw.play(engine, deciding, plan, as_of=as_of)
        dead = synced.dispatch.dead
        # deliver the decisions; then, past the short suspensions' end, lift them, and read
        # SAS and EMIS again so that sa-status sees suspended and lifted cases
        for day, ingest in ((as_of, False), *[(csw.late_day(plan, as_of=as_of), True)] * 2):
            decided = run_sync(
                engine, against_mocks, list(DECISION_FLOWS), as_of=day, ingest=ingest
            )
            dead += decided.dispatch.dead
        received = fetch_received(mocks.urls())
        death_cases = check_death_cases(against_mocks, manifest, population)
    summary.flows = check_flows(
        received,
        manifest,
        population,
        profile=settings.policy_profile,
        referred_told_ii=plan["expected"]["sa_status_referred"],
    )
    summary.flows += death_cases
    summary.flows += csw.check_decisions(
        received,
        plan,
        played,
        never_proposed_found=_proposed_among(engine, plan["expected"]["never_proposed"]),
        certificate_action=load_profile(settings.policy_profile).certificate_action,
    )
    summary.dead_letters = dead
    summary.registries = _registry_lines(run, manifest)
    summary.identity = _identity_check(engine, manifest)
    summary.total_seconds = time.perf_counter() - started
    return summary


def _reconcile_check(
    engine: Engine, manifest: dict[str, Any], *, as_of: date, profile: str
) -> tuple[list[ReconcileCheck], float]:
    """Run a reconciliation on the store and score its findings against the planted truth.

    The store holds the registries as ingested (the flows' deliveries are not read
    back), so every planted inconsistency is still there to be found.
    """
    started = time.perf_counter()
    with unit_of_work(engine) as session:
        run_id = reconcile.start_run(session, dry_run=False).id
    assert run_id is not None
    run = reconcile.run_detectors(engine, run_id, as_of=as_of)
    seconds = time.perf_counter() - started
    if run.status != "done":
        raise HubError(f"the demo's reconciliation run failed: {run.error}")
    with Session(engine) as session:
        found = reconcile.findings_by_kind(session, run_id=run_id)
    scores = reconcile.score_against_manifest(found, manifest, profile=profile, confirmed=())
    checks = [
        ReconcileCheck(kind, score.expected, score.found, score.precision, score.recall)
        for kind, score in scores.items()
    ]
    return checks, seconds


def _proposed_among(engine: Engine, numbers: list[str]) -> set[str]:
    """Which of these persons the hub proposed for suspension (it must not have)."""
    with Session(engine) as session:
        return set(
            session.exec(
                select(col(PersonIdentifier.value))
                .join(Suspension, col(Suspension.person_id) == col(PersonIdentifier.person_id))
                .where(
                    col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
                    col(PersonIdentifier.value).in_(numbers),
                )
            ).all()
        )


def _registry_lines(run: IngestRun, manifest: dict[str, Any]) -> list[RegistrySummary]:
    identity = run.identity
    lines = []
    for name in REGISTRY_NAMES:
        report = run.reports[name]
        lines.append(
            RegistrySummary(
                registry=name,
                expected=sum(manifest["counts"][name].values()),
                read=report.read,
                mapped=report.mapped + report.ignored,
                quarantined=report.quarantined,
                linked=identity.linked if identity is not None and name == "cms" else 0,
                review=identity.review if identity is not None and name == "cms" else 0,
                seconds=report.seconds,
                error=report.error,
            )
        )
    return lines


def _identity_check(engine: Engine, manifest: dict[str, Any]) -> IdentityCheck:
    truth = {
        entry["returnee_id"]: entry["personal_no"]
        for entry in manifest["returnee_identity"]
        if not entry["has_personal_no"]
    }
    with Session(engine) as session:
        linked = session.exec(
            select(col(ReturneeCase.returnee_key), col(PersonIdentifier.value))
            .join(PersonIdentifier, col(PersonIdentifier.person_id) == col(ReturneeCase.person_id))
            .where(
                col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME,
                col(ReturneeCase.returnee_key).in_(list(truth)),
            )
        ).all()
    correct = sum(1 for key, number in linked if truth[key] == number)
    return IdentityCheck(returnees=len(truth), links=len(linked), correct=correct)
