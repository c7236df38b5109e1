"""Reconciliation finds every planted inconsistency of the manifest, and little else."""

from __future__ import annotations

from datetime import date

from hub.reconcile import service
from hub.reconcile.detectors import KINDS
from hub.store.engine import unit_of_work
from mocks.core.server import RunningRegistries
from tests.conftest import Population
from tests.reconcile.conftest import reconcile
from tests.support.store import fill_store


def test_every_planted_inconsistency_is_found_on_both_databases(
    database_url: str, registries: RunningRegistries, population: Population, reference_day: date
) -> None:
    engine = fill_store(database_url, registries, reference_day)
    run = reconcile(engine, as_of=reference_day)
    assert run.status == "done", run.error
    assert run.progress == 100
    with unit_of_work(engine) as session:
        found = service.findings_by_kind(session, run_id=run.id or 0)
    scores = service.score_against_manifest(found, population.manifest)
    dialect = engine.dialect.name
    for kind in KINDS:
        score = scores[kind]
        print(
            f"{dialect} {kind}: precision {score.precision:.3f} recall {score.recall:.3f} "
            f"({score.found} found, {score.expected} planted)"
        )
    assert set(scores) == set(KINDS)
    for kind, score in scores.items():
        assert score.expected > 0, kind
        assert score.recall == 1.0, (kind, score)
        assert score.precision >= 0.99, (kind, score)
        assert run.counts[kind] == score.found
    engine.dispose()
