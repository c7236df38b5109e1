"""The hub's HTTP API: :func:`create_app` builds it from settings; routes stay thin."""

from hub.api.app import create_app

__all__ = ["create_app"]
