"""Survivorship rules: which source's value of an attribute becomes the golden record's.

The rules are applied set-based by :func:`hub.ingest.persons.refresh_golden_records`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from hub.errors import ConfigurationError

RULES_FILE = Path(__file__).parent / "survivorship.yaml"


@cache
def source_ranks(path: Path = RULES_FILE) -> dict[str, dict[str, int]]:
    """For each attribute, each trusted registry's rank (0 wins)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        return {
            attribute: {registry: rank for rank, registry in enumerate(order)}
            for attribute, order in document["attributes"].items()
        }
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigurationError(
            f"survivorship rules {path.name} are malformed: {exc}",
            hint="each attribute lists registries, most trusted first",
        ) from exc
