"""The hub's API in its own uvicorn process on loopback, as an operator runs it, so that
a test can measure that process's memory and read its log."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx


@dataclass
class LiveServer:
    """A running ``uvicorn --factory hub.api.main:app_from_environment``."""

    url: str
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def rss_bytes(self) -> int:
        """The server process's resident set size now, from /proc."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024

    def log_lines(self) -> list[dict[str, Any]]:
        """The JSON lines the server has logged so far."""
        lines = []
        for text in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            if text.startswith("{"):
                lines.append(json.loads(text))
        return lines

    def lines_of(self, request_id: str, *, timeout: float = 10) -> list[dict[str, Any]]:
        """The lines logged for one request. The access line is written once the answer is
        sent, so a client may read the log before it: wait for it, then a moment for the
        lines written with it (a security event)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(line.get("request_id") == request_id for line in self.log_lines()):
                time.sleep(0.2)
                break
            time.sleep(0.02)
        return [line for line in self.log_lines() if line.get("request_id") == request_id]

    def log_text(self) -> str:
        """Everything the server has written to stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_api(database_url: str, folder: Path, **env: str) -> Iterator[LiveServer]:
    """Serve the API from ``database_url`` in a child process until the block ends."""
    host = "127.0.0.1"
    port = _free_port(host)
    log_path = folder / "server.log"
    environment = {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_LOG_FORMAT": "json",
        "HUB_LOG_LEVEL": "INFO",
        **env,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "hub.api.main:app_from_environment",
                "--host",
                host,
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    server = LiveServer(f"http://{host}:{port}", host, port, process, log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the API did not start:\n{server.log_text()}")
            try:
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not answer in time:\n{server.log_text()}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def read_response_head(sock: socket.socket, timeout: float = 30) -> tuple[int, dict[str, str]]:
    """The status and headers of the HTTP response arriving on ``sock``."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers
