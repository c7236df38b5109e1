"""Decisions about people over the API: CSW proposals and decisions, appeals."""

from hub.api.decisions.views import router

__all__ = ["router"]
