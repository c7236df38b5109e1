"""A canonical store filled from the mock registries once, copied for each test that changes it."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from hub.reconcile import service
from hub.reconcile.models import ReconciliationRun
from hub.store.engine import make_engine, unit_of_work
from mocks.core.server import RunningRegistries
from tests.support.store import filled_template


def reconcile(engine: Engine, *, as_of: date, dry_run: bool = False) -> ReconciliationRun:
    """Start a run and run it to the end, as the CLI does."""
    with unit_of_work(engine) as session:
        run_id = service.start_run(session, dry_run=dry_run).id
    assert run_id is not None
    return service.run_detectors(engine, run_id, as_of=as_of)


@pytest.fixture(scope="package")
def filled_store(
    registries: RunningRegistries, reference_day: date, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A SQLite file holding the whole population, suspensions decided, nothing reconciled."""
    return filled_template(registries, reference_day, tmp_path_factory.mktemp("reconcile"))


@pytest.fixture
def store_url(filled_store: Path, tmp_path: Path) -> str:
    """A private copy of the filled store: the test may change it at will."""
    path = tmp_path / "hub.sqlite3"
    shutil.copyfile(filled_store, path)
    return f"sqlite:///{path}"


@pytest.fixture
def store(store_url: str) -> Engine:
    """An engine on the private copy."""
    return make_engine(store_url)
