"""Helpers of the console's tests that need no browser: a hub app over an empty migrated
store, driven in-process, and the sign-in a browser would do."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from hub.access.service import add_client
from hub.api import create_app
from hub.settings import Settings
from hub.store.engine import make_engine, unit_of_work
from hub.store.migrate import upgrade


class Hub:
    """An API app (one process's worth of state) over the store at ``url``, migrated."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        upgrade(self.engine)
        self.app = create_app(Settings(environment="test", database_url=url))

    def key(self, name: str, *scopes: str, offices: tuple[str, ...] = ()) -> str:
        """A new client's key."""
        with unit_of_work(self.engine) as session:
            _client, key = add_client(session, name=name, scopes=list(scopes), offices=offices)
        return key

    def browser(self, base_url: str = "http://testserver") -> TestClient:
        """A browser of this app that does not follow redirects."""
        return TestClient(self.app, base_url=base_url, follow_redirects=False)


def token_of(html: str) -> str:
    """The CSRF token of the page's first form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def sign_in_with_key(client: TestClient, key: str, next_path: str = "") -> httpx.Response:
    """Open the sign-in form and post ``key`` with its token."""
    form = client.get("/console/sign-in")
    answer: httpx.Response = client.post(
        "/console/sign-in",
        data={"csrf_token": token_of(form.text), "key": key, "next": next_path},
    )
    return answer
