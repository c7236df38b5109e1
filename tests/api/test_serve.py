"""``hub serve``: the API and the scheduler in one process, stopped by a signal."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from hub.settings import REGISTRY_NAMES
from hub.sync.scheduler import FLOW_NAMES


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_hub_serve_answers_readyz_and_stops_on_sigterm(tmp_path: Path) -> None:
    port, stderr = _free_port(), tmp_path / "stderr.log"
    env = {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.sqlite3'}",
        "HUB_LOG_FORMAT": "json",
        "HUB_SCHEDULE__INGEST_SECONDS": "0",
        "HUB_SCHEDULE__FLOW_SECONDS": json.dumps({name: 0 for name in FLOW_NAMES}),
        "HUB_SCHEDULE__DISPATCH_SECONDS": "0.1",
        **{f"HUB_{name.upper()}__URL": "http://127.0.0.1:9" for name in REGISTRY_NAMES},
    }
    hub = Path(sys.executable).with_name("hub")
    with stderr.open("w") as err:
        process = subprocess.Popen(
            [str(hub), "serve", "--port", str(port)], stdin=subprocess.DEVNULL, stderr=err, env=env
        )
    try:
        body = _ready(f"http://127.0.0.1:{port}/readyz", process)
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises SIGTERM so a supervisor sees it
        assert process.wait(timeout=10) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
    assert body["status"] == "ready"
    assert [job["id"] for job in body["scheduler"]["jobs"]] == ["dispatch"]
    assert '"scheduler_stopped"' in stderr.read_text()


def _ready(url: str, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "hub serve exited early; see its stderr"
        try:
            response = httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.05)
            continue
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.05)
    raise AssertionError("hub serve did not become ready in time")
