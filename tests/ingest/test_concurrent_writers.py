"""Two writers at once on PostgreSQL: no person without its number, no watermark going back.

Persons are created with their personal number; a writer that loses the race for a
number re-reads the winner's person and drops its own before anyone can see it. A
page moves its feed's watermark only from the cursor it was read from, so a second
ingestion of the same registry finds the watermark moved and stops.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session, col

from fixtures.messages import civil_registry_numbers
from hub.canonical import Person, PersonIdentifier
from hub.canonical.persons import PERSONAL_NO_SCHEME
from hub.ingest.extract import MappedPage
from hub.ingest.models import Watermark
from hub.ingest.persons import PersonDirectory, person_ids_by_personal_no
from hub.ingest.run import IngestReport, ingest_registry
from hub.ingest.writer import WatermarkMoved, write_page
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade
from mocks.core.server import RunningRegistries
from mocks.rest.feed import decode_cursor
from tests.conftest import Population
from tests.support.postgres import temporary_database
from tests.support.registries import fast_settings

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
ORPHANS = text(
    "SELECT count(*) FROM person p WHERE NOT EXISTS"
    " (SELECT 1 FROM person_identifier i WHERE i.person_id = p.id)"
)


@pytest.fixture
def store() -> Iterator[Engine]:
    with temporary_database() as url:
        engine = make_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()


def _page(cursor: str, read: int = 10) -> MappedPage:
    return MappedPage("cra", [], [], read, 0, cursor)


def _position(cursor: str) -> int:
    """The feed position an opaque cursor of the CRA mock stands after (a test may peek)."""
    return decode_cursor("cra", cursor, feed_length=10**9)


def _watermark(engine: Engine) -> tuple[str | None, int] | None:
    with Session(engine) as session:
        mark = session.get(Watermark, ("cra", "changes"))
        return None if mark is None else (mark.cursor, mark.changes_read)


@pytest.mark.postgres
def test_a_number_two_writers_create_at_once_names_one_person(store: Engine) -> None:
    numbers = [f"10000000{i:02d}" for i in range(20)]
    first = Session(store)
    mine = person_ids_by_personal_no(first, numbers, source="cra", as_of=AS_OF)  # not committed
    theirs: dict[str, int] = {}

    def second_writer() -> None:
        with unit_of_work(store) as session:
            theirs.update(
                person_ids_by_personal_no(
                    session, [*numbers[10:], "1000000099"], source="emis", as_of=AS_OF
                )
            )

    writer = threading.Thread(target=second_writer)
    writer.start()
    time.sleep(0.5)
    assert writer.is_alive()  # waiting on the numbers the first writer holds
    first.commit()
    first.close()
    writer.join(timeout=30)
    assert not writer.is_alive()

    assert {pn: theirs[pn] for pn in numbers[10:]} == {pn: mine[pn] for pn in numbers[10:]}
    with Session(store) as session:
        assert session.execute(ORPHANS).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(Person)).scalar_one() == 21
        named = session.execute(
            select(col(PersonIdentifier.value), col(PersonIdentifier.person_id)).where(
                col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME
            )
        )
        assert {pn: pid for pn, pid in named} == {**mine, **theirs}


@pytest.mark.postgres
def test_a_page_moves_the_watermark_only_from_where_it_was_read(store: Engine) -> None:
    persons = PersonDirectory()
    first = Session(store)
    write_page(first, page=_page("10"), persons=persons, since=None)  # not committed
    failure: list[BaseException] = []

    def second_run() -> None:  # read the same first page, from the start
        try:
            with unit_of_work(store) as session:
                write_page(session, page=_page("10"), persons=PersonDirectory(), since=None)
        except WatermarkMoved as moved:
            failure.append(moved)

    writer = threading.Thread(target=second_run)
    writer.start()
    time.sleep(0.5)
    assert writer.is_alive()  # waits for the first page's transaction
    first.commit()
    first.close()
    writer.join(timeout=30)
    assert len(failure) == 1
    assert _watermark(store) == ("10", 10)

    with unit_of_work(store) as session:
        write_page(session, page=_page("20"), persons=persons, since="10")
    with pytest.raises(WatermarkMoved), unit_of_work(store) as session:
        write_page(session, page=_page("15"), persons=persons, since="10")  # a late, older page
    assert _watermark(store) == ("20", 20)


@pytest.mark.postgres
def test_two_ingestions_of_one_registry_at_once(
    store: Engine, registries: RunningRegistries, population: Population
) -> None:
    settings = fast_settings(registries, page_size=25)
    reports: list[IngestReport] = []
    seen: list[int] = []
    done = threading.Event()
    start = threading.Barrier(3)

    def ingest() -> None:
        start.wait()
        reports.append(ingest_registry(store, settings, "cra"))

    def watch() -> None:
        start.wait()
        while not done.is_set():
            mark = _watermark(store)
            if mark is not None and mark[0] is not None:
                seen.append(_position(mark[0]))
            time.sleep(0.005)

    runs = [threading.Thread(target=ingest) for _ in range(2)]
    watcher = threading.Thread(target=watch)
    for thread in [*runs, watcher]:
        thread.start()
    for thread in runs:
        thread.join(timeout=240)
    done.set()
    watcher.join(timeout=10)

    assert len(reports) == 2
    assert any(report.ok for report in reports)
    for report in reports:  # the other read it all too, or stopped when it found itself behind
        assert report.ok or "moved its watermark" in (report.error or ""), report.error
    assert seen, "the watermark was never seen"
    assert seen == sorted(seen), "the watermark went back"
    final = _watermark(store)
    assert final is not None
    assert final[0] is not None
    assert _position(final[0]) == max(seen)
    numbers = set(civil_registry_numbers(population.dir))
    with Session(store) as session:
        assert session.execute(ORPHANS).scalar_one() == 0
        persons = session.execute(select(func.count()).select_from(Person)).scalar_one()
        named = set(
            session.execute(
                select(col(PersonIdentifier.value)).where(
                    col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME
                )
            ).scalars()
        )
    assert numbers <= named
    assert persons == len(named)
    print(
        f"reports: {[(r.pages, r.error is None) for r in reports]}; "
        f"watermark seen {len(seen)} times, up to {max(seen)}"
    )
