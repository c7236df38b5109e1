"""A store filled from the mock registries once, and the generated files it came from."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from mocks.core.server import RunningRegistries
from tests.conftest import Population
from tests.report.truth import GeneratedFiles
from tests.support.store import filled_template


@pytest.fixture(scope="session")
def files(population: Population) -> GeneratedFiles:
    """The generated registry files, for counts made without the hub."""
    return GeneratedFiles(population.dir)


@pytest.fixture(scope="package")
def filled_store(
    registries: RunningRegistries, reference_day: date, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A SQLite file holding the whole population with suspensions decided; read it only."""
    return filled_template(registries, reference_day, tmp_path_factory.mktemp("report"))


@pytest.fixture
def filled_url(filled_store: Path) -> str:
    """The shared filled store, for tests that only read."""
    return f"sqlite:///{filled_store}"


@pytest.fixture
def private_url(filled_store: Path, tmp_path: Path) -> str:
    """A private copy of the filled store: the test may change it."""
    path = tmp_path / "hub.sqlite3"
    shutil.copyfile(filled_store, path)
    return f"sqlite:///{path}"
