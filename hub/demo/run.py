"""The demo pipeline: generate, serve, read every registry, compare with the manifest."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fixtures.generate import generate_population
from hub.demo.mock_process import MockRegistriesProcess
from hub.ingest.feeds import read_all_feeds
from hub.settings import REGISTRY_NAMES, RegistryName, Settings
from hub.store.engine import make_engine
from hub.store.migrate import upgrade

DEMO_SEED = 2026


@dataclass
class RegistrySummary:
    """One registry's line of the demo summary."""

    registry: RegistryName
    read: dict[str, int]
    expected: dict[str, int]
    seconds: float

    @property
    def matches(self) -> bool:
        """Whether every kind read equals the manifest's count."""
        return self.read == self.expected


@dataclass
class DemoSummary:
    """What the demo did, as printed at its end."""

    persons: int
    seed: int
    generate_seconds: float
    registries: list[RegistrySummary] = field(default_factory=list)
    total_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether every registry was read completely."""
        return all(r.matches for r in self.registries)

    def as_json(self) -> dict[str, Any]:
        """The summary as one JSON object."""
        return {
            "ok": self.ok,
            "persons": self.persons,
            "seed": self.seed,
            "generate_seconds": round(self.generate_seconds, 2),
            "total_seconds": round(self.total_seconds, 2),
            "registries": {
                r.registry: {
                    "read": r.read,
                    "expected": r.expected,
                    "records": sum(r.read.values()),
                    "complete": r.matches,
                    "seconds": round(r.seconds, 2),
                }
                for r in self.registries
            },
        }


def manifest_stem(kind: str) -> str:
    """The data file a feed kind comes from: ``jobOffer`` -> ``job_offers``."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()
    if snake.endswith("y") and not snake.endswith(("ay", "ey", "oy")):
        return snake[:-1] + "ies"
    return snake + "s"


def run_demo(
    *,
    persons: int,
    workdir: Path,
    settings: Settings,
    seed: int = DEMO_SEED,
    on_generate: Callable[[int, int], None] | None = None,
    on_read: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Generate ``persons``, serve the mocks from that data and read each registry."""
    started = time.perf_counter()
    population = workdir / "population"
    generate_population(persons=persons, seed=seed, out=population, on_progress=on_generate)
    summary = DemoSummary(
        persons=persons, seed=seed, generate_seconds=time.perf_counter() - started
    )
    manifest = json.loads((population / "manifest.json").read_text(encoding="utf-8"))
    upgrade(make_engine(settings.database_url))
    total = sum(sum(files.values()) for files in manifest["counts"].values())
    finished: dict[RegistryName, int] = {}

    def count(registry: RegistryName, done: int) -> None:
        finished[registry] = done
        if on_read is not None:
            on_read(sum(finished.values()), total)

    with MockRegistriesProcess(population) as mocks:
        results = read_all_feeds(settings.with_registry_urls(mocks.urls()), on_progress=count)
    for name in REGISTRY_NAMES:
        result = results[name]
        read = {manifest_stem(kind): n for kind, n in sorted(result.by_kind.items())}
        expected = {k: v for k, v in sorted(manifest["counts"][name].items()) if v}
        summary.registries.append(RegistrySummary(name, read, expected, result.seconds))
    summary.total_seconds = time.perf_counter() - started
    return summary
