"""Runs, dry runs, progress, failures, and applying findings through the outbox."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from hub.connectors.delivery import validate_write
from hub.errors import Conflict, InvalidInput, NotFound
from hub.reconcile import service
from hub.reconcile.detectors import DETECTORS, KINDS
from hub.reconcile.detectors.base import FindingDraft
from hub.reconcile.models import Finding
from hub.store.engine import unit_of_work
from hub.sync.models import OutboxMessage
from tests.reconcile.conftest import reconcile


def _findings(engine: Engine, run_id: int) -> list[Finding]:
    with Session(engine) as session:
        return list(session.execute(select(Finding).where(col(Finding.run_id) == run_id)).scalars())


def _outbox(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.execute(select(OutboxMessage)).scalars())


def test_a_dry_run_counts_findings_but_stores_none(store: Engine, reference_day: date) -> None:
    dry = reconcile(store, as_of=reference_day, dry_run=True)
    real = reconcile(store, as_of=reference_day)
    assert dry.status == real.status == "done"
    assert dry.dry_run
    assert dry.progress == 100
    assert dry.counts == real.counts
    assert sum(dry.counts.values()) > 0
    assert _findings(store, dry.id or 0) == []
    assert len(_findings(store, real.id or 0)) == sum(real.counts.values())


def test_progress_is_reported_per_kind_and_recorded_on_the_run(
    store: Engine, reference_day: date
) -> None:
    with unit_of_work(store) as session:
        run_id = service.start_run(session, dry_run=False).id or 0
        assert service.get_run(session, run_id=run_id).progress == 0
    seen: list[tuple[int, int, int]] = []

    def on_progress(done: int, total: int) -> None:
        with Session(store) as session:  # what the API's progress endpoint would read
            seen.append((done, total, service.get_run(session, run_id=run_id).progress))

    run = service.run_detectors(store, run_id, as_of=reference_day, on_progress=on_progress)
    assert [done for done, _, _ in seen] == list(range(1, len(KINDS) + 1))
    percentages = [percent for _, _, percent in seen]
    assert percentages == sorted(percentages)
    assert percentages[0] > 0
    assert percentages[-1] < 100
    assert (run.status, run.progress, run.finished_at is not None) == ("done", 100, True)
    assert list(run.counts) == list(KINDS)


def test_a_run_runs_once(store: Engine, reference_day: date) -> None:
    run = reconcile(store, as_of=reference_day, dry_run=True)
    with pytest.raises(Conflict, match="already run"):
        service.run_detectors(store, run.id or 0, as_of=reference_day)
    with pytest.raises(NotFound):
        service.run_detectors(store, 999, as_of=reference_day)


def test_a_failing_detector_fails_the_run_without_personal_data(
    store: Engine, reference_day: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: Session, *, as_of: date) -> list[FindingDraft]:
        raise RuntimeError("no value for 1234567897\n[parameters: ('Arben', 'Krasniqi')]")

    monkeypatch.setitem(DETECTORS, "certificate_status_mismatch", broken)
    run = reconcile(store, as_of=reference_day)
    assert run.status == "failed"
    assert run.finished_at is not None
    assert run.error is not None
    assert run.error.startswith("RuntimeError: no value for pn#")
    assert "1234567897" not in run.error
    assert "Krasniqi" not in run.error
    assert _findings(store, run.id or 0) == []
    assert set(run.counts) == {"jobseeker_with_active_payroll", "dead_person_still_paid"}


def test_findings_carry_evidence_with_sources_and_an_action_the_contracts_accept(
    store: Engine, reference_day: date
) -> None:
    run = reconcile(store, as_of=reference_day)
    findings = _findings(store, run.id or 0)
    assert {f.kind for f in findings} == set(KINDS)
    for finding in findings:
        facts: list[dict[str, Any]] = finding.evidence["facts"]
        assert len(facts) >= 2
        assert all({"source", "as_of"} <= set(fact) for fact in facts)
        assert not {"first_name", "last_name", "birth_date", "gross_wage"} & {
            key for fact in facts for key in fact
        }
        action = finding.proposed_action
        if finding.kind == "person_with_two_personal_numbers":
            assert action is None
            assert len(finding.evidence["personal_nos"]) == 2
            continue
        assert action is not None
        validate_write(
            action["target"],
            action["operation"],
            action["payload"],
            idempotency_key=service.outbox_key(finding),
        )


def test_listing_filters_by_kind_and_pages(store: Engine, reference_day: date) -> None:
    run = reconcile(store, as_of=reference_day)
    run_id = run.id or 0
    with Session(store) as session:
        everything = service.list_findings(session, run_id=run_id, limit=1000)
        assert service.count_findings(session, run_id=run_id) == len(everything)
        kind = "certificate_status_mismatch"
        some = service.list_findings(session, run_id=run_id, kind=kind, limit=2, offset=1)
        assert [f.id for f in some] == [f.id for f in everything if f.kind == kind][1:3]
        assert service.count_findings(session, run_id=run_id, kind=kind) == run.counts[kind]
        with pytest.raises(InvalidInput):
            service.list_findings(session, run_id=run_id, kind="nonsense")
        with pytest.raises(NotFound):
            service.list_findings(session, run_id=run_id + 1)


def _first(engine: Engine, run_id: int, kind: str) -> Finding:
    with Session(engine) as session:
        return service.list_findings(session, run_id=run_id, kind=kind, limit=1)[0]


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "person_with_two_personal_numbers"])
def test_applying_a_finding_queues_exactly_one_message(
    store: Engine, reference_day: date, kind: str
) -> None:
    run = reconcile(store, as_of=reference_day)
    finding = _first(store, run.id or 0, kind)
    before = {m.id for m in _outbox(store)}
    with unit_of_work(store) as session:
        applied = service.apply_finding(session, run_id=run.id or 0, finding_id=finding.id or 0)
    assert applied.status == "applied"
    assert applied.applied_at is not None
    new = [m for m in _outbox(store) if m.id not in before]
    assert len(new) == 1
    message, action = new[0], finding.proposed_action or {}
    assert (message.flow, message.state) == ("reconcile", "pending")
    assert message.idempotency_key == f"reconcile:{kind}:{finding.subject_key}"
    assert message.idempotency_key == applied.outbox_key
    assert (message.target_registry, message.operation) == (action["target"], action["operation"])
    assert message.payload == action["payload"]
    with unit_of_work(store) as session, pytest.raises(Conflict, match="applied"):
        service.apply_finding(session, run_id=run.id or 0, finding_id=finding.id or 0)
    assert len(_outbox(store)) == len(before) + 1


def test_the_same_inconsistency_found_again_is_not_sent_twice(
    store: Engine, reference_day: date
) -> None:
    first, second = (reconcile(store, as_of=reference_day) for _ in range(2))
    for run in (first, second):
        finding = _first(store, run.id or 0, "dead_person_still_paid")
        with unit_of_work(store) as session:
            service.apply_finding(session, run_id=run.id or 0, finding_id=finding.id or 0)
    with Session(store) as session:
        queued = session.execute(
            select(func.count()).where(col(OutboxMessage.flow) == "reconcile")
        ).scalar_one()
    assert queued == 1


def test_what_cannot_be_applied_says_why(store: Engine, reference_day: date) -> None:
    run = reconcile(store, as_of=reference_day)
    run_id = run.id or 0
    twin = _first(store, run_id, "person_with_two_personal_numbers")
    with unit_of_work(store) as session:
        with pytest.raises(InvalidInput, match="proposes no action"):
            service.apply_finding(session, run_id=run_id, finding_id=twin.id or 0)
        with pytest.raises(NotFound):
            service.apply_finding(session, run_id=run_id, finding_id=10**6)
        with pytest.raises(NotFound):
            service.apply_finding(session, run_id=run_id + 1, finding_id=twin.id or 0)
    assert not [m for m in _outbox(store) if m.flow == "reconcile"]


def test_scores_count_false_and_missed_findings() -> None:
    manifest = {
        "planted": {
            "certificate_status_mismatch": [{"certificate_no": "UC-1"}, {"certificate_no": "UC-2"}],
        },
        "expected": {"suspensions": {"XK": ["1234567897"], "MK": []}},
    }

    def draft(kind: str, subject: str, **evidence: Any) -> FindingDraft:
        return FindingDraft(kind, subject, None, evidence, None)

    scores = service.score_against_manifest(
        {
            "certificate_status_mismatch": [draft("c", "UC-1"), draft("c", "UC-9")],
            "suspension_not_applied": [draft("s", "SA-1/1", personal_no="1234567897")],
        },
        manifest,
    )
    assert scores["certificate_status_mismatch"] == (0.5, 0.5, 2, 2)
    assert scores["suspension_not_applied"] == (1.0, 1.0, 1, 1)
    assert scores["returnee_not_registered"] == (1.0, 1.0, 0, 0)
    mk = service.score_against_manifest({}, manifest, profile="MK")
    assert mk["suspension_not_applied"] == (1.0, 1.0, 0, 0)
