"""The five mock registries as a child process, so they do not share the hub's interpreter."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from hub.errors import ConfigurationError
from hub.settings import REGISTRY_NAMES, RegistryName
from mocks.core.server import free_port_base

STARTUP_SECONDS = 60.0
SECONDS_PER_GB = 120.0
"""The mocks load a population they have not seen before into SQLite (about 45 s per GB
of JSONL here, a million persons); later starts copy the kept snapshot in seconds."""


def startup_allowance(data_dir: Path) -> float:
    """How long the mocks of ``data_dir`` may take to answer: a minute, and two more per
    gigabyte of registry files."""
    size = sum(path.stat().st_size for path in data_dir.glob("*/*.jsonl"))
    return STARTUP_SECONDS + SECONDS_PER_GB * size / 1e9


class MockRegistriesProcess:
    """``python -m mocks serve`` on free loopback ports, stopped on exit."""

    def __init__(self, data_dir: Path, *, startup_timeout: float | None = None) -> None:
        self.data_dir = data_dir
        self.startup_timeout = (
            startup_timeout if startup_timeout is not None else startup_allowance(data_dir)
        )
        self.port_base = free_port_base()
        self._process: subprocess.Popen[bytes] | None = None

    def urls(self) -> dict[RegistryName, str]:
        """Base URL of each registry."""
        return {
            name: f"http://127.0.0.1:{self.port_base + offset}"
            for offset, name in enumerate(REGISTRY_NAMES)
        }

    def __enter__(self) -> MockRegistriesProcess:
        command = [sys.executable, "-m", "mocks", "serve", "--data", str(self.data_dir)]
        command += ["--port-base", str(self.port_base)]
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL)  # noqa: S603
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        pending = dict(self.urls())
        with httpx.Client(timeout=1.0) as client:
            while pending:
                self._poll(client, pending, deadline)

    def _poll(
        self, client: httpx.Client, pending: dict[RegistryName, str], deadline: float
    ) -> None:
        """One round of health checks; raise when the child died or took too long."""
        assert self._process is not None
        if self._process.poll() is not None:
            raise ConfigurationError(
                f"the mock registries exited with code {self._process.returncode}",
                hint="read their error above; is the population folder complete?",
            )
        if time.monotonic() > deadline:
            self.stop()
            raise ConfigurationError(
                f"the mock registries did not answer within {self.startup_timeout:.0f} s",
                hint="the machine may be overloaded; try a smaller --persons",
            )
        for name, url in list(pending.items()):
            try:
                if client.get(f"{url}/admin/health").status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        time.sleep(0.1)

    def stop(self) -> None:
        """Terminate the child process (kill it if it lingers)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
