"""Console sessions live in the store: behind several API processes (``--workers N``) a user
signed in on one is signed in on every other, a message left for the next page shows on
whichever process answers it, and a sign-out ends the session everywhere. On SQLite and on
PostgreSQL, with two processes' stores writing the same sessions at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text as sql

from hub.console.sessions import TOUCH_SECONDS, SessionStore
from hub.store.engine import make_engine
from tests.console.support import Hub, sign_in_with_key, token_of

DEAD_LETTERS = "/console/dead-letters"
MISSING_MESSAGE = 987_654


@pytest.fixture
def two_processes(database_url: str) -> Iterator[tuple[Hub, Hub]]:
    """Two API apps over one store (on each dialect: ``database_url``), each with the state
    a process of its own would hold."""
    first, second = Hub(database_url), Hub(database_url)
    yield first, second
    for hub in (first, second):
        hub.engine.dispose()


def _signed_in(browser: TestClient, cookie: str) -> TestClient:
    browser.cookies.set("ura_console", cookie, path="/console")
    return browser


def test_a_session_begun_on_one_process_is_known_to_the_other(
    two_processes: tuple[Hub, Hub],
) -> None:
    first, second = two_processes
    key = first.key("shared-operator", "sync:operate")
    with first.browser() as on_first, second.browser() as on_second:
        assert sign_in_with_key(on_first, key, DEAD_LETTERS).status_code == 303
        cookie = on_first.cookies.get("ura_console")
        assert cookie
        _signed_in(on_second, cookie)
        page = on_second.get(DEAD_LETTERS)
        assert page.status_code == 200  # not sent to sign in
        # a form of the first process's page is accepted by the second (one CSRF token)
        retried = on_second.post(
            f"{DEAD_LETTERS}/{MISSING_MESSAGE}/retry",
            data={"csrf_token": token_of(on_first.get(DEAD_LETTERS).text)},
        )
        assert retried.status_code == 303
        # the message it left for the next page shows on the first process, once
        shown = on_first.get(DEAD_LETTERS).text
        assert 'class="flash error"' in shown
        assert str(MISSING_MESSAGE) in shown
        assert 'class="flash error"' not in on_second.get(DEAD_LETTERS).text
        # signing out on the second ends the session on the first
        signed_out = on_second.post(
            "/console/sign-out", data={"csrf_token": token_of(on_second.get(DEAD_LETTERS).text)}
        )
        assert signed_out.status_code == 303
        again = on_first.get(DEAD_LETTERS)
        assert again.status_code == 303
        assert again.headers["location"].startswith("/console/sign-in")


def test_two_processes_writing_the_same_sessions_at_once_lose_nothing(database_url: str) -> None:
    """Two stores (two processes' engines), four threads each: sessions begun, read,
    touched, given messages and ended at once. Every live session is found by both, every
    ended one by neither, and no write fails."""
    seed = Hub(database_url)
    seed.key("busy-operator", "sync:operate")
    with seed.engine.connect() as connection:
        client_id = int(
            connection.execute(
                sql("SELECT id FROM api_client WHERE name = 'busy-operator'")
            ).scalar_one()
        )
    engines = [make_engine(database_url) for _ in range(2)]
    now = [1_000_000.0]
    clock_lock = threading.Lock()

    def clock() -> float:
        with clock_lock:  # every call a little later: a session's touches are written
            now[0] += TOUCH_SECONDS / 50  # about once in fifty reads, well within idle time
            return now[0]

    stores = [SessionStore(engine, clock=clock) for engine in engines]
    shared_token, _ = stores[0].create(client_id=client_id, client_name="busy-operator")

    def work(worker: int) -> tuple[list[str], list[str]]:
        store = stores[worker % 2]
        kept: list[str] = []
        ended: list[str] = []
        for step in range(15):
            token, session = store.create(client_id=client_id, client_name="busy-operator")
            session.flash("ok", f"worker {worker} step {step}")
            shared = store.get(shared_token)
            assert shared is not None
            shared.watch([worker * 100 + step])
            found = stores[(worker + 1) % 2].get(token)
            assert found is not None
            assert found.take_flashes() == [("ok", f"worker {worker} step {step}")]
            if step % 3 == 0:
                store.drop(token)
                ended.append(token)
            else:
                kept.append(token)
        return kept, ended

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(work, range(8)))
        for kept, ended in results:
            for store in stores:
                assert all(store.get(token) is not None for token in kept)
                assert all(store.get(token) is None for token in ended)
        shared = stores[1].get(shared_token)
        assert shared is not None
        assert 1 <= len(shared.watched) <= 20
        assert shared.last_seen > shared.created + TOUCH_SECONDS  # touched while shared
        assert len(stores[0]) == 1 + sum(len(kept) for kept, _ in results)
    finally:
        for engine in (*engines, seed.engine):
            engine.dispose()
