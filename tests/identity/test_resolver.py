"""Resolving generated returnees against the canonical store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from hub.canonical import Person, PersonIdentifier, ReturneeCase
from hub.identity.models import ReviewPair
from hub.identity.resolver import ResolutionReport, resolve_returnees
from hub.settings import Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from tests.identity.support import AS_OF, Loaded, load_population


@pytest.fixture
def store(
    database_url: str, generated: tuple[Path, dict[str, Any]]
) -> Iterator[tuple[Engine, Loaded]]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine, load_population(engine, generated[0])
    engine.dispose()


def _resolve(engine: Engine) -> ResolutionReport:
    with unit_of_work(engine) as session:
        return resolve_returnees(session, settings=Settings(environment="test"))


def _links(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.exec(
            select(ReturneeCase.returnee_key, ReturneeCase.person_id).where(
                col(ReturneeCase.person_id).is_not(None)
            )
        )
        return {key: person_id for key, person_id in rows if person_id is not None}


def test_returnees_without_personal_number_are_linked_precisely(
    store: tuple[Engine, Loaded], generated: tuple[Path, dict[str, Any]]
) -> None:
    engine, loaded = store
    report = _resolve(engine)
    truth = {r["returnee_id"]: r["personal_no"] for r in generated[1]["returnee_identity"]}
    number_of = {person_id: number for number, person_id in loaded.person_ids.items()}
    links = _links(engine)
    correct = sum(number_of[person_id] == truth[key] for key, person_id in links.items())
    precision = correct / len(links) if links else 0.0
    recall = correct / len(loaded.returnees)
    print(
        f"identity: precision {precision:.3f} recall {recall:.3f} "
        f"({len(links)} links, {report.review} review, {report.none} none "
        f"of {len(loaded.returnees)} returnees without personal number)"
    )
    assert report.candidates == len(loaded.returnees) > 10
    assert report.linked == len(links)
    assert precision >= 0.99
    assert recall >= 0.95


def _enter_twice(engine: Engine, returnee: dict[str, Any], person_ids: dict[str, int]) -> None:
    """The returnee's true person entered a second time under another personal number."""
    with Session(engine) as session:
        original = session.get(Person, person_ids[returnee["true_personal_no"]])
        assert original is not None
        twin = Person.model_validate(original.model_dump(exclude={"id"}))
        session.add(twin)
        session.flush()
        assert twin.id is not None
        session.add(
            PersonIdentifier(
                person_id=twin.id,
                scheme="XK-PN",
                value="9999999999",
                source_registry="cra",
                as_of=AS_OF,
            )
        )
        session.commit()


def test_resolving_twice_adds_nothing(
    store: tuple[Engine, Loaded], generated: tuple[Path, dict[str, Any]]
) -> None:
    engine, loaded = store
    truth = {r["returnee_id"]: r["personal_no"] for r in generated[1]["returnee_identity"]}
    returnee = {
        **loaded.returnees[0],
        "true_personal_no": truth[loaded.returnees[0]["returnee_id"]],
    }
    _enter_twice(engine, returnee, loaded.person_ids)

    first = _resolve(engine)
    links_after_first = _links(engine)
    second = _resolve(engine)

    assert first.review >= 1
    assert first.review_pairs_added >= 2
    assert second.linked == 0
    assert second.review_pairs_added == 0
    assert second.candidates == first.review + first.none
    assert _links(engine) == links_after_first
    with Session(engine) as session:
        pending = session.exec(
            select(func.count()).select_from(ReviewPair).where(ReviewPair.status == "pending")
        ).one()
        pending_keys = set(
            session.exec(select(ReviewPair.record_key).where(ReviewPair.status == "pending"))
        )
    assert pending == first.review_pairs_added
    assert returnee["returnee_id"] in pending_keys
    assert returnee["returnee_id"] not in links_after_first


def test_every_link_keeps_its_reasons(store: tuple[Engine, Loaded]) -> None:
    engine, _ = store
    report = _resolve(engine)
    links = _links(engine)
    with Session(engine) as session:
        linked = list(session.exec(select(ReviewPair).where(ReviewPair.status == "linked")))
    assert len(linked) == report.linked == len(links)
    for pair in linked:
        assert (pair.decided_by, links[pair.record_key]) == ("hub", pair.person_id)
        reasons = pair.components
        assert {"first", "last", "birth", "municipality", "sex"} <= set(reasons)
        assert reasons["birth"]["level"] in {"exact", "one_day", "swapped"}
        assert reasons["probability"] >= reasons["thresholds"]["link"]
        assert reasons["thresholds"]["link_precision"] >= 0.99
