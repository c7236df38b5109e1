"""The console's test world: the decision tests' hub (a filled store, its own mock registries,
served over HTTP) and one headless Debian Chromium for the module, driven by Playwright.

No browser is ever downloaded: Playwright drives ``/usr/bin/chromium`` (``make test``
installs Debian's package when it is missing). Without it the browser tests skip, except
with ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.settings import REGISTRY_NAMES, Settings
from hub.sync.flows import FLOWS
from mocks.core.server import DEMO_AUTH, RunningRegistries, free_port_base
from tests.conftest import Population
from tests.decisions.conftest import World
from tests.support.registries import fast_settings
from tests.support.store import fill_store

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "console-screenshots"
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="module")
def console_world(
    population: Population, reference_day: date, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """``hub serve`` (a process of its own: API, console, scheduler, dispatcher and job
    worker) over a filled SQLite store with its own mocks, for one module."""
    folder = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{folder / 'hub.sqlite3'}"
    with RunningRegistries(population.dir, auth=DEMO_AUTH) as registries:
        engine = fill_store(url, registries, reference_day)
        settings = fast_settings(registries).model_copy(
            update={"database_url": url, "policy_profile": "XK"}
        )
        with _hub_serve(settings, registries, folder / "serve.log") as served:
            yield World(served, engine, settings, registries, reference_day)
        engine.dispose()


@contextmanager
def _hub_serve(settings: Settings, registries: RunningRegistries, log: Path) -> Iterator[str]:
    """``hub serve`` on a free loopback port until the block ends; its base URL."""
    port = free_port_base(1)
    env = {
        **os.environ,
        "HUB_ENVIRONMENT": "test",
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_POLICY_PROFILE": settings.policy_profile,
        "HUB_LOG_FORMAT": "json",
        # the tests start what they need: no periodic ingestion or flow job meanwhile
        "HUB_SCHEDULE__INGEST_SECONDS": "0",
        "HUB_SCHEDULE__FLOW_SECONDS": json.dumps(dict.fromkeys(FLOWS, 0)),
        **{f"HUB_{name.upper()}__URL": registries.url(name) for name in REGISTRY_NAMES},
    }
    hub = Path(sys.executable).with_name("hub")
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(hub), "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"hub serve exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"hub serve did not answer: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, one for the module."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing: `make test` installs it (apt-get)")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=args
        )
        try:
            yield launched
        finally:
            launched.close()


def sign_in(browser: Any, url: str, key: str) -> Any:
    """A new browser context signed in with ``key``; its page is on the landing page."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{url}/console/sign-in")
    page.get_by_label("Client key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/console/sign-in" not in page.url, page.content()[:2000]
    return page


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page under var/console-screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page: Any) -> None:
    """axe-core (as shipped by axe-playwright-python) finds no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not bad, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in bad
    )


def check_page(page: Any, name: str) -> None:
    """Screenshot the page and check its accessibility."""
    screenshot(page, name)
    assert_accessible(page)


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)
