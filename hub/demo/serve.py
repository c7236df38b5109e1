"""``hub demo --serve``: after the demo, its hub (API and console) keeps running on the demo's
store, delivering to the demo's mock registries, with one client key for each role.

The scheduler runs the dispatcher only (a dead letter sent again from the console is
delivered within seconds), and a job worker runs what the console queues (reconciliations);
ingestion and the flows are not scheduled, so the store stays as the demo left it, decided
as on the generated world's reference day.
"""

from __future__ import annotations

import errno
import socket
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn
from sqlalchemy import Engine, select
from sqlmodel import col

from hub.access.scopes import Scope
from hub.access.service import add_client, list_clients
from hub.api import create_app
from hub.canonical import BenefitCase, Suspension
from hub.decisions.lifecycle import OPEN_STATES
from hub.demo.run import DemoSummary
from hub.errors import ConfigurationError
from hub.jobs.worker import JobWorker
from hub.settings import ScheduleSettings, Settings
from hub.store.engine import make_engine, unit_of_work
from hub.sync.flows import FLOWS
from hub.sync.scheduler import HubScheduler

CONSOLE_PATH = "/console"
DISPATCH_SECONDS = 5.0


@dataclass(frozen=True)
class Role:
    """A kind of console user the demo hands a key to."""

    name: str
    label: str
    scopes: tuple[Scope, ...]


ROLES: tuple[Role, ...] = (
    Role("csw", "social work centre (CSW)", ("suspension:decide",)),
    Role("appeal-body", "appeal body", ("appeal:decide",)),
    Role("operator", "operator", ("sync:operate", "reconcile:run")),
    Role("auditor", "auditor", ("person:read",)),
)


@dataclass(frozen=True)
class RoleKey:
    """A client registered for one role, and its key (shown once)."""

    role: Role
    client: str
    key: str
    offices: tuple[str, ...]


def demo_keys(engine: Engine) -> list[RoleKey]:
    """Register one client per role; the CSW acts for the office with the most proposals."""
    offices = (busiest_office(engine),)
    keys = []
    with unit_of_work(engine) as session:
        taken = {client.name for client in list_clients(session)}
        for role in ROLES:
            name, n = f"demo-{role.name}", 1
            while name in taken:
                n += 1
                name = f"demo-{role.name}-{n}"
            bound = offices if "suspension:decide" in role.scopes else ()
            _client, key = add_client(
                session, name=name, scopes=list(role.scopes), offices=list(bound)
            )
            keys.append(RoleKey(role, name, key, bound))
    return keys


def busiest_office(engine: Engine) -> str:
    """The CSW office with the most open proposals, else the most suspensions or cases."""
    with unit_of_work(engine) as session:
        for statement in (
            select(col(Suspension.office_code)).where(col(Suspension.status).in_(OPEN_STATES)),
            select(col(Suspension.office_code)),
            select(col(BenefitCase.office_code)),
        ):
            counted = Counter(code for code in session.execute(statement).scalars() if code)
            if counted:
                return str(sorted(counted.items(), key=lambda pair: (-pair[1], pair[0]))[0][0])
    return "CSW-01"


def serving_settings(summary: DemoSummary, settings: Settings) -> Settings:
    """The demo's settings for the hub that stays: its store, its mocks, the dispatcher only."""
    schedule = ScheduleSettings(
        ingest_seconds=0,
        flow_seconds={flow: 0.0 for flow in FLOWS},
        dispatch_seconds=DISPATCH_SECONDS,
    )
    return settings.with_registry_urls(summary.mock_urls).model_copy(
        update={"database_url": summary.database_url, "schedule": schedule}
    )


def serve_demo(
    summary: DemoSummary,
    settings: Settings,
    *,
    host: str,
    port: int,
    say: Callable[[str], None],
) -> None:
    """Serve the API and the console on the demo's store until interrupted."""
    if not summary.database_url or not summary.mock_urls:
        raise ConfigurationError("the demo did not keep its store and mock registries running")
    _check_free(host, port)
    serving = serving_settings(summary, settings)
    engine = make_engine(serving.database_url)
    try:
        keys = demo_keys(engine)
    finally:
        engine.dispose()
    engine = make_engine(serving.database_url)
    scheduler = HubScheduler(engine, serving)
    worker = JobWorker(engine, serving)  # runs the reconciliations started from the console
    app = create_app(serving, scheduler=scheduler, jobs=worker)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    say(f"The console: {base}{CONSOLE_PATH}  (the API: {base}/docs)")
    say("Sign in with one of these keys (shown once; they open the demo's store only):")
    for role_key in keys:
        offices = f", offices {', '.join(role_key.offices)}" if role_key.offices else ""
        say(
            f"  {role_key.role.label:<26} {role_key.key}   "
            f"(client {role_key.client}: {', '.join(role_key.role.scopes)}{offices})"
        )
    say("Mock registries: " + ", ".join(f"{k} {v}" for k, v in summary.mock_urls.items()))
    say("Press Ctrl-C to stop the hub and the mock registries.")
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    uvicorn.Server(config).run()


def _check_free(host: str, port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise ConfigurationError(
                    f"port {port} on {host} is taken",
                    hint="choose another with --port",
                ) from None
            raise
