"""Liveness and readiness of a hub process."""

from hub.api.health.views import router

__all__ = ["router"]
