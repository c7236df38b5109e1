"""Opening the connector of a registry by name."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import httpx

from hub.connectors.cms import CmsConnector
from hub.connectors.cra import CraConnector
from hub.connectors.emis import EmisConnector
from hub.connectors.feed import FeedPage
from hub.connectors.sas import SasConnector
from hub.connectors.tak import TakConnector
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


CONNECTORS: dict[
    RegistryName, type[EmisConnector | SasConnector | TakConnector | CraConnector | CmsConnector]
] = {
    "emis": EmisConnector,
    "sas": SasConnector,
    "tak": TakConnector,
    "cra": CraConnector,
    "cms": CmsConnector,
}


def open_connector(
    name: RegistryName, settings: Settings, *, transport: httpx.BaseTransport | None = None
) -> Connector:
    """The connector of registry ``name`` configured from ``settings``."""
    return CONNECTORS[name](settings.registry(name), transport=transport)
