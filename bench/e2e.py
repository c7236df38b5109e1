"""The whole hub at national size: every stage timed, every stage's peak memory measured.

    python bench/e2e.py --persons 1000000 [--database postgresql|sqlite|both]
                        [--database-url postgresql://postgres@127.0.0.1:5432/ura_bench_e2e]

Generates the population once, then for each database: starts the five mock registries
(a separate process; each registry's state in SQLite on disk, served page by page),
and runs, each stage in a fresh process of its own so that its peak resident memory is
its own: ingest (every registry's change feed into the canonical store), link (returnees
without personal number), every flow's decisions (one process per flow), dispatch (the
outbox drained to the mocks), every flow once more for what the answers call for and its
dispatch, every flow again with nothing new (what a scheduled run costs on a quiet day),
and a reconciliation. Prints a table per database: seconds and
peak memory per stage, the stage's own counts, and the whole.

Peak memory is the stage process's peak resident set plus the peak of the child
process it started, if any (ingestion maps pages in a child): an upper bound of what
the hub held at once. Targets at 1,000,000 persons on PostgreSQL: every stage's peak
<= 2 GiB, and each flow run with nothing new < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api import fresh_postgres_database

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/ura_bench_e2e"
MEMORY_TARGET_MIB = 2048
QUIET_FLOW_TARGET_SECONDS = 1.0


# --- the stages, each run in a process of its own -----------------------------------------


def _settings(url: str, port_base: int) -> Any:
    from hub.settings import REGISTRY_NAMES, Settings

    urls = {name: f"http://127.0.0.1:{port_base + i}" for i, name in enumerate(REGISTRY_NAMES)}
    return Settings(environment="test", database_url=url).with_registry_urls(urls)


def stage_ingest(url: str, port_base: int, population: Path) -> dict[str, Any]:
    """Every registry's feed from the start into the canonical store."""
    from hub.ingest.run import INGEST_ORDER, ingest_registries
    from hub.store.engine import make_engine, refresh_statistics

    engine = make_engine(url)
    reports = ingest_registries(engine, _settings(url, port_base), INGEST_ORDER)
    refresh_statistics(engine)
    failed = [f"{name}: {r.error}" for name, r in reports.items() if not r.ok]
    if failed:
        raise SystemExit("ingestion failed: " + "; ".join(failed))
    return {
        "read": sum(r.read for r in reports.values()),
        "mapped": sum(r.mapped for r in reports.values()),
        "quarantined": sum(r.quarantined for r in reports.values()),
    }


def stage_link(url: str, port_base: int, population: Path) -> dict[str, Any]:
    """Returnees who came without a personal number, linked to known persons."""
    from hub.identity.resolver import resolve_returnees
    from hub.store.engine import make_engine, unit_of_work

    with unit_of_work(make_engine(url)) as session:
        report = resolve_returnees(session, settings=_settings(url, port_base))
    return {"linked": report.linked, "review": report.review}


def stage_flow(url: str, port_base: int, population: Path, flow: str) -> dict[str, Any]:
    """One flow's decisions on the store as ingested, queued in the outbox."""
    from hub.store.engine import make_engine
    from hub.sync.runner import decide_flow

    started = time.perf_counter()
    settings = _settings(url, port_base)
    run = decide_flow(make_engine(url), settings, flow, as_of=_as_of(population))  # type: ignore[arg-type]
    return {
        "pulled": run.pulled,
        "decided": run.decided,
        "enqueued": run.enqueued,
        "run_seconds": round(time.perf_counter() - started, 3),
    }


def stage_follow_ups(url: str, port_base: int, population: Path) -> dict[str, Any]:
    """Every flow once more after the first dispatch: what the registries' answers call for
    (EMIS answers a returnee referral with the registration CMS must be told of)."""
    from hub.store.engine import make_engine
    from hub.sync.flows import FLOWS
    from hub.sync.runner import decide_flow

    engine, settings, as_of = make_engine(url), _settings(url, port_base), _as_of(population)
    runs = [decide_flow(engine, settings, flow, as_of=as_of) for flow in FLOWS]
    return {"enqueued": sum(run.enqueued for run in runs)}


def stage_dispatch(url: str, port_base: int, population: Path) -> dict[str, Any]:
    """The outbox drained to the mock registries (8 threads, as in production)."""
    from hub.store.engine import make_engine
    from hub.sync.dispatcher import Dispatcher

    dispatcher = Dispatcher(make_engine(url), _settings(url, port_base))
    try:
        report = dispatcher.drain(timeout=6 * 3600)
    finally:
        dispatcher.close()
    return {"delivered": report.delivered, "dead": report.dead, "retried": report.retried}


def stage_reconcile(url: str, port_base: int, population: Path) -> dict[str, Any]:
    """One reconciliation run as on the reference date, findings stored."""
    from hub.reconcile import service as reconcile
    from hub.store.engine import make_engine, unit_of_work

    engine = make_engine(url)
    with unit_of_work(engine) as session:
        run_id = reconcile.start_run(session, dry_run=False).id
    assert run_id is not None
    run = reconcile.run_detectors(engine, run_id, as_of=_as_of(population))
    if run.status != "done":
        raise SystemExit(f"the reconciliation failed: {run.error}")
    return {"findings": sum((run.counts or {}).values())}


def _as_of(population: Path) -> date:
    manifest = json.loads((population / "manifest.json").read_text(encoding="utf-8"))
    return date.fromisoformat(manifest["reference_date"])


def run_stage(argv: list[str]) -> int:
    """``--stage NAME URL PORT_BASE POPULATION [FLOW]``: one stage, its figures as JSON."""
    from hub.log import configure_logging

    configure_logging(level="WARNING", fmt="json")
    name, url, port_base, population, *rest = argv
    stages: dict[str, Callable[..., dict[str, Any]]] = {
        "ingest": stage_ingest,
        "link": stage_link,
        "flow": stage_flow,
        "follow-ups": stage_follow_ups,
        "dispatch": stage_dispatch,
        "reconcile": stage_reconcile,
    }
    started = time.perf_counter()
    figures = stages[name](url, int(port_base), Path(population), *rest)
    figures["seconds"] = round(time.perf_counter() - started, 3)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures["child_peak_mib"] = round(child / 1024, 1)
    print("STAGE " + json.dumps(figures), flush=True)
    return 0 if own else 1


# --- the parent: generate, serve, run each stage in its own process, print ---------------


def measured(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``command``; its wall seconds, its own peak RSS in MiB, and its stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    out = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:4])} exited with {process.returncode}")
    return seconds, usage.ru_maxrss / 1024, out


def stage(
    name: str, url: str, port_base: int, population: Path, env: dict[str, str], *extra: str
) -> dict[str, Any]:
    """One stage in a fresh process: its figures, wall time and peak memory."""
    command = [sys.executable, __file__, "--stage", name, url, str(port_base), str(population)]
    seconds, peak, out = measured([*command, *extra], env)
    line = next(x for x in out.splitlines() if x.startswith("STAGE "))
    figures: dict[str, Any] = json.loads(line[len("STAGE ") :])
    figures["wall_seconds"] = round(seconds, 2)
    figures["peak_mib"] = round(peak + figures.pop("child_peak_mib"), 1)
    return figures


def mock_peak_mib(pid: int) -> float:
    """The mock process's peak resident set so far (VmHWM), in MiB."""
    for text in Path(f"/proc/{pid}/status").read_text().splitlines():
        if text.startswith("VmHWM:"):
            return int(text.split()[1]) / 1024
    return 0.0


def run_database(
    kind: str, url: str, population: Path, env: dict[str, str], report: Callable[[str], None]
) -> list[tuple[str, dict[str, Any]]]:
    """Every stage against one database; the rows of its table."""
    from hub.demo.mock_process import MockRegistriesProcess
    from hub.store.engine import make_engine
    from hub.store.migrate import upgrade
    from hub.sync.flows import FLOWS

    if kind == "postgresql":
        fresh_postgres_database(url)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    rows: list[tuple[str, dict[str, Any]]] = []

    def record(name: str, figures: dict[str, Any]) -> None:
        rows.append((name, figures))
        report(row_text(name, figures))

    started = time.perf_counter()
    mocks = MockRegistriesProcess(population)
    with mocks:
        assert mocks._process is not None
        record("mocks start", {"wall_seconds": round(time.perf_counter() - started, 2)})
        base = mocks.port_base
        record("ingest", stage("ingest", url, base, population, env))
        record("link", stage("link", url, base, population, env))
        for flow in FLOWS:
            record(f"flow {flow}", stage("flow", url, base, population, env, flow))
        record("dispatch", stage("dispatch", url, base, population, env))
        record("follow-up flows", stage("follow-ups", url, base, population, env))
        record("dispatch follow-ups", stage("dispatch", url, base, population, env))
        for flow in FLOWS:
            record(f"quiet {flow}", stage("flow", url, base, population, env, flow))
        record("reconcile", stage("reconcile", url, base, population, env))
        rows[0][1]["peak_mib"] = round(mock_peak_mib(mocks._process.pid), 1)
    return rows


def row_text(name: str, figures: dict[str, Any]) -> str:
    """One printed row: stage, wall seconds, peak MiB, then the stage's own figures."""
    shown = {k: v for k, v in figures.items() if k not in ("wall_seconds", "peak_mib", "seconds")}
    peak = figures.get("peak_mib")
    peak_text = f"{peak:>8,.0f}" if peak is not None else f"{'':>8}"
    details = " ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in shown.items())
    return f"  {name:<24} {figures['wall_seconds']:>9,.1f} {peak_text}  {details}"


def main(argv: list[str] | None = None) -> int:
    """Generate, then run every stage on each database and print the tables."""
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["--stage"]:
        return run_stage(args_list[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES, help="the PostgreSQL one")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args(args_list)
    with tempfile.TemporaryDirectory(prefix="ura-bench-e2e-", dir=args.workdir) as tmp:
        work = Path(tmp)
        population = work / "population"
        env = {**os.environ, "HUB_ENVIRONMENT": "test", "HUB_LOG_LEVEL": "WARNING"}
        command = [str(Path(sys.executable).with_name("hub")), "fixtures", "generate"]
        command += ["--persons", str(args.persons), "--seed", str(args.seed)]
        command += ["--out", str(population)]
        seconds, peak, _out = measured(command, {**env, "HUB_LOG_FORMAT": "json"})
        print(f"e2e: {args.persons:,} persons, seed {args.seed}", flush=True)
        print(f"  {'generate':<24} {seconds:>9,.1f} {peak:>8,.0f}", flush=True)
        kinds = ["postgresql", "sqlite"] if args.database == "both" else [args.database]
        ok = True
        for kind in kinds:
            url = args.database_url if kind == "postgresql" else f"sqlite:///{work}/hub.sqlite3"
            print(f"{kind}: {'stage':<24} {'seconds':>9} {'peak MiB':>8}", flush=True)
            started = time.perf_counter()
            rows = run_database(kind, url, population, env, lambda t: print(t, flush=True))
            total = time.perf_counter() - started
            hub_rows = [(n, f) for n, f in rows if n != "mocks start"]
            peak_hub = max(f["peak_mib"] for _n, f in hub_rows)
            quiet = max(f["run_seconds"] for n, f in hub_rows if n.startswith("quiet "))
            print(f"  {'whole':<24} {total:>9,.1f} {peak_hub:>8,.0f}", flush=True)
            memory_ok = peak_hub <= MEMORY_TARGET_MIB
            quiet_ok = quiet < QUIET_FLOW_TARGET_SECONDS
            print(
                f"{kind}: peak hub memory {peak_hub:,.0f} MiB (target <= {MEMORY_TARGET_MIB:,}) "
                f"{'met' if memory_ok else 'NOT met'}; slowest flow run with nothing new "
                f"{quiet:.3f} s (target < {QUIET_FLOW_TARGET_SECONDS:.0f} s) "
                f"{'met' if quiet_ok else 'NOT met'}",
                flush=True,
            )
            ok = ok and memory_ok and quiet_ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
