"""The decision tests' world: a hub over a filled store with its own mock registries, served
over HTTP, and refusers planted in the store."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlmodel import col

from hub.access.service import add_client
from hub.api import create_app
from hub.canonical import (
    BenefitCase,
    BenefitCaseMember,
    JobseekerRegistration,
    PersonIdentifier,
    Refusal,
    Suspension,
    UnemploymentCertificate,
)
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.settings import Settings
from hub.store.engine import unit_of_work
from hub.sync.dispatcher import Dispatcher
from hub.sync.runner import decide_flow
from mocks.core.server import RunningRegistries, serve_app
from tests.conftest import DEMO_AUTH, Population
from tests.support.postgres import temporary_database
from tests.support.registries import fast_settings
from tests.support.store import fill_store

_offers = itertools.count(9_000_001)


@dataclass
class World:
    """A hub over a filled store, with its own mock registries."""

    url: str
    engine: Engine
    settings: Settings
    registries: RunningRegistries
    as_of: date

    def key(self, *scopes: str, name: str, offices: tuple[str, ...] = ()) -> str:
        with unit_of_work(self.engine) as session:
            _client, key = add_client(session, name=name, scopes=list(scopes), offices=offices)
        return key

    def http(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )

    def sync(self, *flows: str, as_of: date | None = None) -> None:
        """Decide the flows (no ingestion) and deliver everything queued."""
        for flow in flows:
            decide_flow(self.engine, self.settings, flow, as_of=as_of or self.as_of)  # type: ignore[arg-type]
        self.deliver()

    def deliver(self) -> None:
        dispatcher = Dispatcher(self.engine, self.settings)
        try:
            dispatcher.drain(timeout=120)
        finally:
            dispatcher.close()

    def received(self, registry: str, operation: str, personal_no: str) -> list[dict[str, Any]]:
        writes = httpx.get(f"{self.registries.url(registry)}/admin/received", timeout=30).json()
        return [
            w["payload"]
            for w in writes
            if w.get("operation") == operation and w["payload"].get("personalNo") == personal_no
        ]


@dataclass(frozen=True)
class Refuser:
    personal_no: str
    person_id: int
    office: str
    offers: tuple[str, ...]


@contextmanager
def _world(population: Population, reference_day: date, url: str) -> Iterator[World]:
    with RunningRegistries(population.dir, auth=DEMO_AUTH) as registries:
        engine = fill_store(url, registries, reference_day)
        settings = fast_settings(registries).model_copy(
            update={"database_url": url, "policy_profile": "XK"}
        )
        with serve_app(create_app(settings)) as served:
            yield World(served, engine, settings, registries, reference_day)
        engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest,
    population: Population,
    reference_day: date,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("decisions") / "hub.sqlite3"
        with _world(population, reference_day, f"sqlite:///{path}") as world:
            yield world
    else:
        with temporary_database() as url, _world(population, reference_day, url) as world:
            yield world


def plant_refuser(world: World, category: str, *, certified: bool = False) -> Refuser:
    """Give an applicant of an active case of ``category`` two unjustified refusals; for
    category II, an active jobseeker (EMIS must know whom it flags); ``certified``: one
    holding a valid unemployment certificate."""
    with unit_of_work(world.engine) as session:
        proposed = set(session.execute(select(col(Suspension.person_id))).scalars())
        active = col(BenefitCase.status) == "active", col(BenefitCase.category) == category
        covered = [
            *session.execute(
                select(col(BenefitCase.applicant_person_id), col(BenefitCase.office_code)).where(
                    *active
                )
            ).all(),
            *session.execute(
                select(col(BenefitCaseMember.person_id), col(BenefitCase.office_code))
                .join(BenefitCase, col(BenefitCase.case_key) == col(BenefitCaseMember.case_key))
                .where(*active)
            ).all(),
        ]
        numbers = dict(
            session.execute(
                select(col(PersonIdentifier.person_id), col(PersonIdentifier.value)).where(
                    col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME
                )
            ).all()
        )
        jobseekers = set(
            session.execute(
                select(col(JobseekerRegistration.person_id)).where(
                    col(JobseekerRegistration.status) == "active"
                )
            ).scalars()
        )
        holders = set(
            session.execute(
                select(col(UnemploymentCertificate.person_id)).where(
                    col(UnemploymentCertificate.source_registry) == "emis",
                    col(UnemploymentCertificate.status) == "valid",
                    col(UnemploymentCertificate.valid_until) >= world.as_of,
                )
            ).scalars()
        )
        person_id, office = next(
            (person, office)
            for person, office in sorted(covered)
            if person not in proposed
            and person in numbers
            and (category != "II" or person in jobseekers)
            and (not certified or person in holders)
        )
        number = numbers[person_id]
        offers = (f"JO-{next(_offers)}", f"JO-{next(_offers)}")
        for offer, (days_ago, reason) in zip(offers, ((40, "R10"), (10, "R11")), strict=True):
            session.add(
                Refusal(
                    offer_key=offer,
                    person_id=person_id,
                    refused_on=world.as_of - timedelta(days=days_ago),
                    reason_code=reason,
                    justified=False,
                    source_registry="emis",
                    as_of=datetime.now(UTC),
                )
            )
    return Refuser(number, person_id, office, offers)


def proposal_of(world: World, refuser: Refuser) -> Suspension | None:
    with unit_of_work(world.engine) as session:
        return session.execute(
            select(Suspension).where(col(Suspension.person_id) == refuser.person_id)
        ).scalar()
