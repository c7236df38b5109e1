"""Every table of the hub, registered on ``SQLModel.metadata`` by importing this module."""

from hub import canonical
from hub.access import models as access_models
from hub.audit import models as audit_models
from hub.decisions import models as decision_models
from hub.identity import models as identity_models
from hub.ingest import models as ingest_models
from hub.jobs import models as job_models
from hub.reconcile import models as reconcile_models
from hub.sync import models as sync_models

__all__ = [
    "access_models",
    "audit_models",
    "canonical",
    "decision_models",
    "identity_models",
    "ingest_models",
    "job_models",
    "reconcile_models",
    "sync_models",
]
