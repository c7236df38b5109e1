"""Every table of the hub, registered on ``SQLModel.metadata`` by importing this module."""

from hub import canonical
from hub.identity import models as identity_models
from hub.ingest import models as ingest_models
from hub.sync import models as sync_models

__all__ = ["canonical", "identity_models", "ingest_models", "sync_models"]
