"""Entry point for an ASGI server running the API alone, with several workers if wanted::

    uvicorn --factory hub.api.main:app_from_environment --workers 2

Each worker builds its app (and its settings) when it starts, never at import time.
``hub serve`` is the one-process alternative that also runs the scheduler.
"""

from __future__ import annotations

from fastapi import FastAPI

from hub.api.app import create_app
from hub.log import configure_logging
from hub.settings import get_settings


def app_from_environment() -> FastAPI:
    """The API configured from ``HUB_*`` variables, logging as they say."""
    settings = get_settings()
    # one pseudonym key for every worker: the same person has the same pseudonym in each log
    configure_logging(
        level=settings.log_level,
        fmt=settings.log_format,
        pseudonym_key=settings.log_pseudonym_key.get_secret_value() or None,
    )
    return create_app(settings, owns_process=True)
