"""The ceiling of bench/api.py: a bare FastAPI endpoint returning a constant JSON."""

from __future__ import annotations

from fastapi import FastAPI

BODY = {"personal_no": "1234567897", "beneficiary": True, "category": "II", "status": "active"}


def create() -> FastAPI:
    """An app with one constant route, ``GET /bare``."""
    app = FastAPI()

    @app.get("/bare")
    def bare() -> dict[str, object]:
        return BODY

    return app
