"""Serving the five simulated registries on consecutive loopback ports."""

from __future__ import annotations

import asyncio
import errno
import importlib
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Protocol

import uvicorn
from fastapi import FastAPI

from mocks.core.auth import AuthConfig
from mocks.core.faults import FaultConfig

REGISTRIES: tuple[str, ...] = ("emis", "sas", "tak", "cra", "cms")
"""Registry names in port order: EMIS on the base port, SAS on base+1, ... CMS on base+4."""

# Simulated registries' well-known demo credentials, public by design (never real secrets).
DEMO_AUTH: dict[str, AuthConfig] = {
    "emis": AuthConfig(kind="basic", username="ura-hub", password="emis-demo-secret"),  # noqa: S106
    "sas": AuthConfig(kind="basic", username="ura-hub", password="sas-demo-secret"),  # noqa: S106
    "tak": AuthConfig(kind="api_key", header="X-API-Key", api_key="tak-demo-key"),
    "cra": AuthConfig(kind="basic", username="ura-hub", password="cra-demo-secret"),  # noqa: S106
    "cms": AuthConfig(kind="api_key", header="X-API-Key", api_key="cms-demo-key"),
}
"""The credentials the mocks demand by default (the hub's development settings match)."""


class _AppFactory(Protocol):
    def __call__(
        self, data_dir: Path, *, faults: FaultConfig | None = None, auth: AuthConfig | None = None
    ) -> FastAPI: ...


def create_registry_app(
    name: str,
    data_dir: Path,
    *,
    faults: FaultConfig | None = None,
    auth: AuthConfig | None = None,
) -> FastAPI:
    """The app of registry ``name`` loaded from ``data_dir/<name>/``."""
    if name not in REGISTRIES:
        raise ValueError(f"unknown registry {name!r}; expected one of {', '.join(REGISTRIES)}")
    factory: _AppFactory = importlib.import_module(f"mocks.{name}.app").create_app
    return factory(data_dir, faults=faults, auth=auth)


def _build_apps(
    data_dir: Path, faults: Mapping[str, FaultConfig], auth: Mapping[str, AuthConfig]
) -> dict[str, FastAPI]:
    """Every registry's app, loaded side by side: loading a registry of national size is
    mostly SQLite's work, which runs outside the GIL."""

    def build(name: str) -> FastAPI:
        return create_registry_app(name, data_dir, faults=faults.get(name), auth=auth.get(name))

    with ThreadPoolExecutor(max_workers=len(REGISTRIES), thread_name_prefix="load") as pool:
        return dict(zip(REGISTRIES, pool.map(build, REGISTRIES), strict=True))


def _servers(apps: Mapping[str, FastAPI], port_base: int, host: str) -> list[uvicorn.Server]:
    return [
        uvicorn.Server(
            uvicorn.Config(
                apps[name],
                host=host,
                port=port_base + offset,
                log_level="warning",
                access_log=False,
            )
        )
        for offset, name in enumerate(REGISTRIES)
    ]


def serve_all(
    data_dir: Path,
    *,
    port_base: int,
    host: str = "127.0.0.1",
    faults: Mapping[str, FaultConfig] | None = None,
    auth: Mapping[str, AuthConfig] | None = None,
) -> None:
    """Serve the five registries until interrupted (one event loop, five servers).

    OSError (``EADDRINUSE``) before anything is loaded when one of the ports is taken.
    """
    for port in range(port_base, port_base + len(REGISTRIES)):
        if not _port_bindable(host, port):
            raise OSError(errno.EADDRINUSE, "address already in use", f"{host}:{port}")
    servers = _servers(_build_apps(data_dir, faults or {}, auth or {}), port_base, host)

    async def _run() -> None:
        await asyncio.gather(*(server.serve() for server in servers))

    asyncio.run(_run())


def free_port_base(count: int = len(REGISTRIES), host: str = "127.0.0.1") -> int:
    """A base port such that ``count`` consecutive ports are free right now."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind((host, 0))
            base = int(probe.getsockname()[1])
        if base + count >= 65535:
            continue
        if all(_port_free(host, base + i) for i in range(count)):
            return base
    raise RuntimeError("no run of free consecutive ports found on the loopback interface")


def _port_bindable(host: str, port: int) -> bool:
    """Whether a server could listen on ``port`` now (as uvicorn binds: SO_REUSEADDR, so a
    port left in TIME_WAIT by an earlier run counts as free)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


class RunningRegistries:
    """The five registries served from a background thread, for tests and embedding.

    ``with RunningRegistries(data_dir) as regs: regs.url("emis")``
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port_base: int | None = None,
        host: str = "127.0.0.1",
        faults: Mapping[str, FaultConfig] | None = None,
        auth: Mapping[str, AuthConfig] | None = None,
    ) -> None:
        self.host = host
        self.port_base = port_base if port_base is not None else free_port_base(host=host)
        self._apps = _build_apps(data_dir, faults or {}, auth or {})
        self._servers = _servers(self._apps, self.port_base, host)
        self._thread = threading.Thread(target=self._run, name="mock-registries", daemon=True)

    def url(self, name: str) -> str:
        """Base URL of registry ``name``."""
        return f"http://{self.host}:{self.port_base + REGISTRIES.index(name)}"

    def app(self, name: str) -> FastAPI:
        """The running app of registry ``name`` (to reach its state in tests)."""
        return self._apps[name]

    def __enter__(self) -> RunningRegistries:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not all(server.started for server in self._servers):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the mock registries did not start; see the log above")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for server in self._servers:
            server.should_exit = True
        self._thread.join(timeout=10)

    def _run(self) -> None:
        async def _serve() -> None:
            await asyncio.gather(*(server.serve() for server in self._servers))

        asyncio.run(_serve())


@contextmanager
def serve_app(app: FastAPI, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve one registry app from a thread while the block runs; yields its base URL."""
    # uvicorn binds the port itself: with a pre-bound socket handed to it, every
    # request took ~40 ms on loopback instead of ~1 ms.
    with socket.socket() as probe:
        probe.bind((host, 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="serve-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start; see the log above")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
