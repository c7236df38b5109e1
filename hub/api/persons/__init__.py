"""What consumers read about one person: each purpose has its own view."""

from hub.api.persons.views import router

__all__ = ["router"]
