"""Social-assistance reads under 64 concurrent clients, next to a bare FastAPI endpoint.

    python bench/api.py [--persons 10000] [--workers 2] [--rounds 3] [--seconds 10]
                        [--database-url URL]

Generates a population, serves it from the mocks (a separate process), ingests it into a
fresh store and registers an ``sa-status:read`` client. Then, with the same uvicorn
configuration for all,
1. serves a bare FastAPI app whose one endpoint returns a constant JSON (the ceiling),
   twice: as an ``async def`` endpoint and as a plain ``def`` one (see bench/bare_app.py),
2. serves the hub's API (``hub.api.main:app_from_environment``),
and drives each with ``bench/loadgen.py`` (64 keep-alive connections, closed loop, in its
own process) — the hub over ``GET /v1/persons/{pn}/social-assistance`` for every known
personal number in turn. The three are served at once and driven in turn, ``--rounds``
times over, each round in another order, so that a drift of the machine's speed (other
tenants of its host) weighs on all three alike. Prints first hub-rps / bare-rps against
the ``async def`` ceiling (then against ``def``), then the ratio of each round, then
requests per second and p50/p99 latency of each, pooled over the rounds.
Targets: on SQLite ratio >= 0.5 and hub p99 <= 25 ms; on PostgreSQL (``--database-url
postgresql://.../ura_bench_api``, a database the bench drops and creates again, so its
name must begin with ``ura_bench``) ratio >= 0.4 and hub p99 <= 40 ms. It also checks
that every answered read left its audit entry.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psycopg
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlmodel import col

from fixtures.generate import generate_population
from hub.access.service import add_client
from hub.audit.models import AuditEntry
from hub.canonical.persons import PERSONAL_NO_SCHEME, PersonIdentifier
from hub.demo.mock_process import MockRegistriesProcess
from hub.ingest.pipeline import ingest_all
from hub.log import configure_logging
from hub.settings import Settings
from hub.store.engine import make_engine, refresh_statistics, unit_of_work
from hub.store.migrate import upgrade
from hub.sync.runner import decide_flow
from mocks.core.server import free_port_base

TARGETS = {"sqlite": (0.5, 25.0), "postgresql": (0.4, 40.0)}
"""Per database: the least hub-rps / async-def-rps, the most hub p99 in milliseconds."""
BENCH_DATABASE_PREFIX = "ura_bench"
ROUTE = "/v1/persons/{pn}/social-assistance"
ROOT = Path(__file__).resolve().parents[1]


def fresh_postgres_database(url: str) -> None:
    """Drop and create the bench's PostgreSQL database (only one named ``ura_bench...``)."""
    parsed = make_url(url)
    name = parsed.database or ""
    if not name.startswith(BENCH_DATABASE_PREFIX):
        raise SystemExit(
            f"the bench drops and creates its database: name it {BENCH_DATABASE_PREFIX}_..., "
            f"not {name!r}"
        )
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def prepare_store(url: str, work: Path, persons: int, seed: int) -> tuple[str, list[str]]:
    """Fill the store from the mocks; return an API key and every known personal number."""
    if make_url(url).get_backend_name() == "postgresql":
        fresh_postgres_database(url)
    generate_population(persons=persons, seed=seed, out=work / "population")
    manifest = json.loads((work / "population" / "manifest.json").read_text())
    engine = make_engine(url)
    upgrade(engine)
    with MockRegistriesProcess(work / "population") as mocks:
        settings = Settings(environment="test", database_url=url).with_registry_urls(mocks.urls())
        if not ingest_all(engine, settings).ok:
            raise SystemExit("ingestion failed; see the log above")
        reference = date.fromisoformat(manifest["reference_date"])
        decide_flow(engine, settings, "suspensions", as_of=reference)
    refresh_statistics(engine)
    settle(engine)
    with unit_of_work(engine) as session:
        _client, key = add_client(
            session,
            name="bench-employment-agency",
            scopes=["sa-status:read"],
            rate_limit_per_minute=100_000_000,
        )
        numbers = list(
            session.execute(
                select(col(PersonIdentifier.value)).where(
                    col(PersonIdentifier.scheme) == PERSONAL_NO_SCHEME
                )
            ).scalars()
        )
    engine.dispose()
    random.Random(seed).shuffle(numbers)
    return key, numbers


def settle(engine: Engine) -> None:
    """Leave the store at rest, as a serving hub's store is, not in the wake of the bulk
    load that filled it a moment ago: on PostgreSQL its tables vacuumed (the rows' hint bits
    and visibility set, not left to the first reads) and a checkpoint taken (no flush of
    the load's pages during the measurement); on SQLite the load's write-ahead log copied
    into the database (not by the first reads' commits)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.exec_driver_sql("VACUUM (ANALYZE)")
            connection.exec_driver_sql("CHECKPOINT")
        else:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def audit_entries(url: str) -> int:
    """How many audit entries the store holds."""
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as session:
            return int(session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())
    finally:
        engine.dispose()


def serve(
    factory: str, port: int, args: argparse.Namespace, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """uvicorn in its own process, with the configuration both apps share."""
    command = [
        sys.executable, "-m", "uvicorn", "--factory", factory,
        "--app-dir", str(ROOT / "bench"), "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(args.workers), "--no-access-log", "--log-level", "warning",
        "--http", args.http, "--loop", args.loop,
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)


def wait_until_up(
    port: int, path: str, headers: dict[str, str], process: subprocess.Popen[bytes]
) -> None:
    """Poll ``path`` until it answers 200 (every worker has started by then, nearly)."""
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"the server exited with code {process.returncode}")
            try:
                if client.get(path).status_code == 200:
                    time.sleep(1.0)  # let the other workers finish starting too
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise SystemExit(f"the server on port {port} did not answer {path} within 60 s")


@dataclass
class App:
    """One app under measurement: how it is served and driven, and what it answered."""

    name: str
    factory: str
    paths: list[str]
    headers: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)
    """Requests per second of each round."""

    def result(self) -> dict[str, Any]:
        """The pooled figures of every round."""
        ordered = sorted(self.latencies)
        n = len(ordered)
        return {
            "requests": self.requests,
            "errors": self.errors,
            "statuses": self.statuses,
            "rps": self.requests / self.seconds,
            "p50_ms": statistics.median(ordered) if n else float("nan"),
            "p99_ms": ordered[min(n - 1, int(0.99 * n))] if n else float("nan"),
        }


@contextmanager
def served(apps: list[App], args: argparse.Namespace, env: dict[str, str]) -> Iterator[None]:
    """Every app served at once, each on its own port, until the block ends."""
    try:
        for app in apps:
            app.port = free_port_base()
            app.process = serve(app.factory, app.port, args, env)
            wait_until_up(app.port, app.paths[0], app.headers, app.process)
        yield
    finally:
        for app in apps:
            if app.process is not None:
                app.process.terminate()
        for app in apps:
            if app.process is not None:
                try:
                    app.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    app.process.kill()
                    app.process.wait()


def drive(app: App, args: argparse.Namespace, work: Path) -> None:
    """One round of load on ``app`` by the load generator (its own process); its figures
    added to the app's."""
    paths_file = work / f"paths-{app.port}.txt"
    if not paths_file.exists():
        paths_file.write_text("\n".join(app.paths) + "\n")
    latencies_file = work / f"latencies-{app.port}.txt"
    command = [
        sys.executable, str(ROOT / "bench" / "loadgen.py"), "--port", str(app.port),
        "--paths", str(paths_file), "--concurrency", str(args.concurrency),
        "--warmup", str(args.warmup), "--seconds", str(args.seconds),
        "--latencies", str(latencies_file),
    ]  # fmt: skip
    for name, value in app.headers.items():
        command += ["--header", f"{name}: {value}"]
    out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    app.requests += result["requests"]
    app.errors += result["errors"]
    app.seconds += args.seconds
    for status, count in result["statuses"].items():
        app.statuses[status] = app.statuses.get(status, 0) + count
    app.latencies += [float(value) for value in latencies_file.read_text().split()]
    app.rounds.append(result["rps"])


def measure_in_rounds(
    apps: list[App], args: argparse.Namespace, env: dict[str, str], work: Path
) -> None:
    """Serve every app, then drive them in turn, ``args.rounds`` times over, each round in
    another order: a machine whose speed drifts (other tenants of its host) weighs on every
    app alike, not on whichever came last."""
    with served(apps, args, env):
        for turn in range(args.rounds):
            shift = turn % len(apps)
            for app in apps[shift:] + apps[:shift]:
                drive(app, args, work)


def line(name: str, result: dict[str, Any]) -> str:
    """One printed line of figures."""
    return (
        f"{name}: {result['rps']:,.0f} requests/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms ({result['requests']:,} answered, "
        f"{result['errors']:,} errors)"
    )


def main(argv: list[str] | None = None) -> int:
    """Prepare, measure both apps, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--http", default="h11", choices=["h11", "httptools"])
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=10.0, help="of each round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    configure_logging(level="WARNING", fmt="json")
    with tempfile.TemporaryDirectory(prefix="ura-bench-api-") as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'hub.sqlite3'}"
        key, numbers = prepare_store(url, work, args.persons, args.seed)
        env = {
            **os.environ,
            "HUB_DATABASE_URL": url,
            "HUB_ENVIRONMENT": "test",
            "HUB_LOG_FORMAT": "json",
            "HUB_LOG_LEVEL": "WARNING",
        }
        print(
            f"config: uvicorn --workers {args.workers} --http {args.http} --loop {args.loop}, "
            f"{args.concurrency} concurrent clients, {args.rounds} rounds of "
            f"{args.seconds:.0f} s each, "
            f"{len(numbers):,} persons, {url.split(':')[0]}"
        )
        paths = [ROUTE.format(pn=number) for number in numbers]
        apps = [
            App("bare (async def)", "bare_app:create", ["/bare"], {}),
            App("bare (def)", "bare_app:create_threaded", ["/bare"], {}),
            App(
                "hub", "hub.api.main:app_from_environment", paths,
                {"Authorization": f"Bearer {key}"},
            ),
        ]  # fmt: skip
        before = audit_entries(url)
        measure_in_rounds(apps, args, env, work)
        audited = audit_entries(url) - before
    bare, threaded, hub = (app.result() for app in apps)
    target_ratio, target_p99 = TARGETS[make_url(url).get_backend_name()]
    print(
        f"ratio hub-rps / bare-rps: {hub['rps'] / bare['rps']:.2f} against async def "
        f"(target >= {target_ratio}), {hub['rps'] / threaded['rps']:.2f} against def; "
        f"hub p99 {hub['p99_ms']:.1f} ms (target <= {target_p99:.0f} ms)"
    )
    print(
        "ratio against async def in each round: "
        + ", ".join(f"{h / b:.2f}" for h, b in zip(apps[2].rounds, apps[0].rounds, strict=True))
    )
    for app, result in zip(apps, (bare, threaded, hub), strict=True):
        print(line(app.name, result))
    answered = sum(n for status, n in hub["statuses"].items() if status.startswith("2"))
    print(f"audited: {audited:,} entries for at least {answered:,} answered reads")
    ok = hub["errors"] == 0 and bare["errors"] == 0 and threaded["errors"] == 0
    ok = ok and audited >= answered
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
