"""A generated population shared by the identity tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fixtures.generate import generate_population

PERSONS = 3_000
SEED = 2


@pytest.fixture(scope="package")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """3,000 persons with seed 2: the folder and its manifest."""
    out = tmp_path_factory.mktemp("identity-population")
    generate_population(persons=PERSONS, seed=SEED, out=out)
    return out, json.loads((out / "manifest.json").read_text())
