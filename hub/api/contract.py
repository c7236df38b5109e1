"""The API's OpenAPI document as committed in ``contracts/hub-openapi.yaml``.

The file is the published contract integrators read; a test fails when the code and
the file drift apart, and ``hub openapi --out contracts/hub-openapi.yaml`` rewrites it
after a deliberate change.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

from hub.api.app import create_app
from hub.settings import Settings

CONTRACT_FILE = Path(__file__).resolve().parents[2] / "contracts" / "hub-openapi.yaml"


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document the code serves (no database is touched)."""
    # an engine is made but never connected: no file is created
    unused = Path(tempfile.gettempdir()) / "ura-openapi-unused.sqlite3"
    app = create_app(Settings(environment="test", database_url=f"sqlite:///{unused}"))
    document: dict[str, Any] = app.openapi()
    return document


def render(document: dict[str, Any]) -> str:
    """The YAML text of a document, keys in the order FastAPI gives them."""
    header = "# The hub's HTTP API. Generated from the code by `hub openapi`; do not edit.\n"
    return header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
