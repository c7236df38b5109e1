"""Operating synchronisation over the API: flow runs and the outbox (``sync:operate``)."""

from hub.api.syncs.views import router

__all__ = ["router"]
