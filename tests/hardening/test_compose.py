"""docker-compose.yml, run without Docker: the same commands, environment and health checks,
with the compose network's names and ports mapped to loopback and free ports.

PostgreSQL is the test server (a fresh database) instead of the ``postgres`` service; the
mocks generate 1,000 persons instead of 10,000. Everything else is read from the file:
if a command, a variable or a health check there is wrong, this test fails.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.postgres import temporary_database

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
HUB_SERVICES = ("mocks", "migrate", "api", "worker-1", "worker-2")
LONG_RUNNING = ("mocks", "api", "worker-1", "worker-2")


def test_the_compose_file_wires_health_and_order() -> None:
    assert set(SERVICES) == {"postgres", *HUB_SERVICES}
    assert "ports" not in SERVICES["postgres"], "the host's 5432 is not the compose's to take"
    for name in ("postgres", *LONG_RUNNING):
        assert SERVICES[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    assert SERVICES["migrate"]["command"] == ["hub", "db", "upgrade"]
    assert SERVICES["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("api", "worker-1", "worker-2"):
        assert SERVICES[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
            "mocks": {"condition": "service_healthy"},
        }, name
    assert SERVICES["api"]["command"][:2] == ["hub", "serve"]
    assert [SERVICES[w]["command"][:2] for w in ("worker-1", "worker-2")] == [["hub", "worker"]] * 2
    assert {SERVICES[name]["image"] for name in HUB_SERVICES} == {"ura-hub:local"}


def test_the_image_is_slim_non_root_and_ships_no_local_state() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, flags=re.MULTILINE)
    user = re.findall(r"^USER (\S+)", dockerfile, flags=re.MULTILINE)
    assert user
    assert user[-1] not in ("root", "0")
    assert re.search(r"^EXPOSE 8000$", dockerfile, flags=re.MULTILINE)
    assert re.search(r'^CMD \["hub", "serve"', dockerfile, flags=re.MULTILINE)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", "tests", "**/__pycache__"} <= set(ignored)


@pytest.mark.postgres
@pytest.mark.slow
def test_the_compose_services_come_up_healthy(tmp_path: Path) -> None:
    with temporary_database() as database_url, ExitStack() as running:
        local = _Loopback(database_url, tmp_path)
        mocks = running.enter_context(_started("mocks", local, tmp_path))
        _wait_healthy("mocks", local, mocks, tmp_path)

        migrate = _run_once("migrate", local)
        assert migrate.returncode == 0, migrate.stderr[-3000:]

        started = {
            name: running.enter_context(_started(name, local, tmp_path))
            for name in ("api", "worker-1", "worker-2")
        }
        for name, process in started.items():
            _wait_healthy(name, local, process, tmp_path)

        api = f"http://127.0.0.1:{local.ports['api']['8000']}"
        ready = httpx.get(f"{api}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        metrics = httpx.get(f"{api}/metrics", timeout=10).text
        assert "hub_store_up 1.0" in metrics
        for worker in ("worker-1", "worker-2"):
            port = local.ports[worker]["9100"]
            assert "hub_breaker_state" in httpx.get(f"http://127.0.0.1:{port}/metrics").text
        for name in ("worker-1", "worker-2", "api"):  # a stop, as compose sends it
            started[name].send_signal(signal.SIGTERM)
            code = started[name].wait(timeout=60)
            # uvicorn shuts down cleanly, then ends by the signal it got (so 143 for Docker)
            clean = (0, -signal.SIGTERM) if name == "api" else (0,)
            assert code in clean, _log(tmp_path, name)[-3000:]
        assert "Application shutdown complete" in _log(tmp_path, "api")
        assert all("worker_stopped" in _log(tmp_path, w) for w in ("worker-1", "worker-2"))


class _Loopback:
    """Maps the compose network onto this machine: names to 127.0.0.1, ports to free ones."""

    def __init__(self, database_url: str, home: Path) -> None:
        self.database_url = database_url
        self.home = home
        taken: set[int] = set()
        self.mocks_base = _free_run(5, taken)
        self.ports: dict[str, dict[str, int]] = {
            "api": {"8000": _free_run(1, taken)},
            "worker-1": {"9100": _free_run(1, taken)},
            "worker-2": {"9100": _free_run(1, taken)},
        }

    def text(self, service: str, value: str) -> str:
        value = value.replace(
            "postgresql://ura:ura-local-only@postgres:5432/ura", self.database_url
        )
        value = re.sub(
            r"http://mocks:(81\d\d)",
            lambda m: f"http://127.0.0.1:{self.mocks_base + int(m.group(1)) - 8100}",
            value,
        )
        value = value.replace("0.0.0.0", "127.0.0.1").replace("/var/lib/ura", str(self.home))
        if service == "mocks":
            value = value.replace("--port-base 8100", f"--port-base {self.mocks_base}")
            value = value.replace("range(8100, 8105)", f"range({self.mocks_base}, "
                                  f"{self.mocks_base + 5})")  # fmt: skip
            value = value.replace("--persons 10000", "--persons 1000")
        for port, mapped in self.ports.get(service, {}).items():
            value = re.sub(rf"(?<!\d){port}(?!\d)", str(mapped), value)
        return value

    def command(self, service: str, command: list[str]) -> list[str]:
        mapped = [self.text(service, part) for part in command]
        if mapped and mapped[0] == "python":
            mapped[0] = sys.executable
        return mapped

    def environment(self, service: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
        declared = SERVICES[service].get("environment") or {}
        return {**base, **{k: self.text(service, str(v)) for k, v in declared.items()}}


@contextmanager
def _started(service: str, local: _Loopback, logs: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = local.command(service, SERVICES[service]["command"])
    with (logs / f"{service}.log").open("wb") as log:
        process = subprocess.Popen(
            command, env=local.environment(service), cwd=local.home, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def _run_once(service: str, local: _Loopback) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        local.command(service, SERVICES[service]["command"]),
        env=local.environment(service),
        cwd=local.home,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _wait_healthy(
    service: str, local: _Loopback, process: subprocess.Popen[bytes], logs: Path
) -> None:
    """Run the service's own health check until it passes, as compose would."""
    check = SERVICES[service]["healthcheck"]
    test = check["test"]
    assert test[0] == "CMD", f"{service}: health checks run a command"
    command = local.command(service, test[1:])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{service} exited:\n{_log(logs, service)[-3000:]}"
        result = subprocess.run(
            command, capture_output=True, timeout=30, env=local.environment(service), check=False
        )
        if result.returncode == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"{service} never became healthy:\n{_log(logs, service)[-3000:]}")


def _log(logs: Path, service: str) -> str:
    return (logs / f"{service}.log").read_text(errors="replace")


def _free_run(length: int, taken: set[int]) -> int:
    """The first of ``length`` consecutive ports free on loopback now, none in ``taken``
    (which gets them)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        run = set(range(base, base + length))
        if base + length > 65535 or run & taken:
            continue
        if all(_free(port) for port in run):
            taken |= run
            return base
    raise AssertionError(f"no {length} consecutive free ports")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
