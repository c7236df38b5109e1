"""Shared fixtures: a generated population, the five mock registries, databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from fixtures.generate import generate_population
from hub.connectors.resilience import reset_breakers
from hub.settings import REGISTRY_NAMES, Settings
from hub.store.engine import make_engine
from hub.store.migrate import upgrade
from mocks.core.server import DEMO_AUTH, RunningRegistries
from tests.support.postgres import temporary_database

POPULATION_PERSONS = 1_500
POPULATION_SEED = 7


@dataclass(frozen=True)
class Population:
    """A generated data folder and its manifest."""

    dir: Path
    manifest: dict[str, Any]


@pytest.fixture(scope="session")
def population(tmp_path_factory: pytest.TempPathFactory) -> Population:
    """1,500 persons, generated once per test session."""
    out = tmp_path_factory.mktemp("population")
    generate_population(persons=POPULATION_PERSONS, seed=POPULATION_SEED, out=out)
    return Population(dir=out, manifest=json.loads((out / "manifest.json").read_text()))


@pytest.fixture(scope="session")
def reference_day(population: Population) -> date:
    """The generated world's "today": the day the hub decides and reconciles on."""
    return date.fromisoformat(population.manifest["reference_date"])


@pytest.fixture(scope="session")
def registries(population: Population) -> Iterator[RunningRegistries]:
    """The five mock registries over real HTTP on loopback, with their demo credentials."""
    with RunningRegistries(population.dir, auth=DEMO_AUTH) as running:
        yield running


@pytest.fixture(scope="module")
def own_registries(population: Population) -> Iterator[RunningRegistries]:
    """Mocks for one test module alone: its tests may break, heal and alter them."""
    with RunningRegistries(population.dir, auth=DEMO_AUTH) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    """Circuit breakers are per process: no test inherits another's open breaker."""
    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file."""
    return f"sqlite:///{tmp_path / 'hub.sqlite3'}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the session, dropped afterwards."""
    with temporary_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using it runs once on SQLite and once on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.sqlite3'}"
        return
    with temporary_database() as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated store, once on SQLite and once on PostgreSQL (see ``database_url``)."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def hub_settings(registries: RunningRegistries, sqlite_url: str) -> Settings:
    """Settings pointing the hub at the running mocks and a fresh SQLite database."""
    base = Settings(environment="test", database_url=sqlite_url)
    return base.with_registry_urls({name: registries.url(name) for name in REGISTRY_NAMES})
