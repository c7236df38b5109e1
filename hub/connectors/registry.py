"""Opening the connector of a registry by name: to read from it, or to deliver writes to it.

Every registry is read through :class:`Connector`. Only EMIS, SAS and CMS receive
writes; their connectors are also :class:`WritableConnector` and
:func:`open_writer` opens them (TAK and CRA: :class:`InvalidInput`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

import httpx

from hub.connectors.cms import CmsConnector
from hub.connectors.cra import CraConnector
from hub.connectors.delivery import Acknowledgement
from hub.connectors.emis import EmisConnector
from hub.connectors.feed import FeedPage
from hub.connectors.sas import SasConnector
from hub.connectors.tak import TakConnector
from hub.errors import InvalidInput
from hub.settings import RegistryName, Settings


class Connector(Protocol):
    """What every registry connector offers, whatever protocol it speaks."""

    registry: ClassVar[str]

    def changes(self, since: str | None, limit: int) -> FeedPage:
        """One page of the change feed after cursor ``since``."""
        ...

    def lookup(self, personal_no: str) -> dict[str, Any]:
        """The registry's record of a person."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class WritableConnector(Protocol):
    """What the connector of a registry that receives writes offers the outbox dispatcher."""

    registry: ClassVar[str]

    def send(
        self, operation: str, payload: Mapping[str, Any], *, idempotency_key: str
    ) -> Acknowledgement:
        """Deliver one write (see :mod:`hub.connectors.delivery`)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


CONNECTORS: dict[
    RegistryName, type[EmisConnector | SasConnector | TakConnector | CraConnector | CmsConnector]
] = {
    "emis": EmisConnector,
    "sas": SasConnector,
    "tak": TakConnector,
    "cra": CraConnector,
    "cms": CmsConnector,
}

WRITERS: dict[RegistryName, type[EmisConnector | SasConnector | CmsConnector]] = {
    "emis": EmisConnector,
    "sas": SasConnector,
    "cms": CmsConnector,
}


def open_connector(
    name: RegistryName, settings: Settings, *, transport: httpx.BaseTransport | None = None
) -> Connector:
    """The connector of registry ``name`` configured from ``settings``."""
    return CONNECTORS[name](settings.registry(name), transport=transport)


def open_writer(
    name: RegistryName, settings: Settings, *, transport: httpx.BaseTransport | None = None
) -> WritableConnector:
    """The connector that delivers writes to registry ``name``; InvalidInput if it takes none."""
    writer = WRITERS.get(name)
    if writer is None:
        raise InvalidInput(
            f"{name} receives no writes from the hub",
            field="registry",
            hint=f"deliver to one of: {', '.join(sorted(WRITERS))}",
        )
    return writer(settings.registry(name), transport=transport)
