"""Path parameters several routers share."""

from __future__ import annotations

from typing import Any

from fastapi import Path

MAX_ID = 2**63 - 1
"""Larger ids cannot exist, and the database driver would refuse to bind them (a 500)."""


def id_path(description: str) -> Any:
    """A positive row id in the path, refused with a 422 when out of range."""
    return Path(description=description, ge=1, le=MAX_ID)
