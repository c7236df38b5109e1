"""Settings and data helpers for tests that talk to the mock registries."""

from __future__ import annotations

import json
from pathlib import Path

from hub.settings import REGISTRY_NAMES, Settings
from mocks.core.server import RunningRegistries

FAST = {"backoff_initial": 0.01, "backoff_max": 0.05, "breaker_reset": 60.0, "read_timeout": 2.0}


def fast_settings(registries: RunningRegistries, **overrides: object) -> Settings:
    """Settings pointing at ``registries`` with quick retries (and any overrides)."""
    settings = Settings(environment="test").with_registry_urls(
        {name: registries.url(name) for name in REGISTRY_NAMES}
    )
    update = {
        name: settings.registry(name).model_copy(update={**FAST, **overrides})
        for name in REGISTRY_NAMES
    }
    return settings.model_copy(update=update)


def first_record(
    population_dir: Path, registry: str, kind: str, *, having: str
) -> dict[str, object]:
    """The first record of a generated data file whose field ``having`` is set."""
    path = population_dir / registry / f"{kind}.jsonl"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record: dict[str, object] = json.loads(line)
            if record.get(having) is not None:
                return record
    raise AssertionError(f"no {kind} record with {having} in {path}")


BENEFICIARY = ("sas", "beneficiaries", "case_no")
"""A person SAS pays: ``(registry, kind, field set)`` for :func:`personal_numbers`."""
REVOKED_HOLDER = ("emis", "certificates", "revoked_on")
"""The holder of a certificate EMIS revoked."""
CERTIFICATE_HOLDER = ("emis", "certificates", "certificate_no")
"""The holder of any certificate."""
REGISTERED_PERSON = ("cra", "persons", "personal_no")
"""Anyone in the civil registry."""


def personal_numbers(population_dir: Path, *wanted: tuple[str, str, str]) -> list[str]:
    """The personal number of the first record of each ``(registry, kind, field set)``."""
    return [
        str(first_record(population_dir, registry, kind, having=having)["personal_no"])
        for registry, kind, having in wanted
    ]
