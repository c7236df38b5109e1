"""The hub's API served by uvicorn on loopback over a store filled from the mock registries."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from hub.access.service import add_client
from hub.api import create_app
from hub.jobs.worker import JobWorker
from hub.settings import Settings
from hub.store.engine import make_engine, unit_of_work
from mocks.core.server import RunningRegistries, serve_app
from tests.support.registries import fast_settings
from tests.support.store import filled_template

KeyMaker = Callable[..., str]
_numbers = itertools.count(1)

PERSON_ROUTES = {
    "sa-status:read": "/v1/persons/{personal_no}/social-assistance",
    "certificate:read": "/v1/persons/{personal_no}/unemployment-certificate",
    "person:read": "/v1/persons/{personal_no}",
}
"""The route template of each consumer purpose, as the audit log records it."""


@dataclass(frozen=True)
class Hub:
    """A running hub API: its base URL, its store, and a way to register clients."""

    url: str
    engine: Engine
    settings: Settings
    new_key: KeyMaker

    def client(self, key: str | None = None) -> httpx.Client:
        """An HTTP client of the API, sending ``key`` as its bearer token."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@pytest.fixture(scope="package")
def api_store(
    registries: RunningRegistries, reference_day: date, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A SQLite file holding the whole population, suspensions decided."""
    return filled_template(registries, reference_day, tmp_path_factory.mktemp("api"))


def key_maker(engine: Engine) -> KeyMaker:
    def new_key(*scopes: str, name: str | None = None, per_minute: int = 6_000) -> str:
        with unit_of_work(engine) as session:
            _client, key = add_client(
                session,
                name=name or f"client-{next(_numbers)}",
                scopes=list(scopes),
                rate_limit_per_minute=per_minute,
            )
        return key

    return new_key


@contextmanager
def running_hub(
    api_store: Path, registries: RunningRegistries, folder: Path, **settings_update: Any
) -> Iterator[Hub]:
    """The API on a private copy of the filled store, delivering to ``registries``;
    ``settings_update`` overrides settings of this test's hub."""
    path = folder / "hub.sqlite3"
    shutil.copyfile(api_store, path)
    update = {"database_url": f"sqlite:///{path}", **settings_update}
    settings = fast_settings(registries).model_copy(update=update)
    engine = make_engine(settings.database_url)
    # the API only queues flows and reconciliations: a worker in the same process runs them
    worker = JobWorker(make_engine(settings.database_url), settings, poll_seconds=0.1)
    with serve_app(create_app(settings, jobs=worker)) as url:
        yield Hub(url=url, engine=engine, settings=settings, new_key=key_maker(engine))
    engine.dispose()


@pytest.fixture(scope="module")
def hub(
    api_store: Path, registries: RunningRegistries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hub]:
    """The API on a private copy of the filled store, for one test module."""
    with running_hub(api_store, registries, tmp_path_factory.mktemp("hub")) as running:
        yield running
