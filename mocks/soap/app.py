"""Assembling one SOAP registry's app from its declaration."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from fastapi import FastAPI

from mocks.core.app import RegistryContext, build_registry_app
from mocks.core.auth import AuthConfig
from mocks.core.faults import FaultConfig, FaultInjector
from mocks.core.idempotency import IdempotencyLedger
from mocks.core.store import KindSpec, RegistryStore
from mocks.soap.contract import Contract
from mocks.soap.service import Handler, SoapService

S = TypeVar("S")


@dataclass(frozen=True)
class SoapRegistry(Generic[S]):
    """What a SOAP registry declares: its contract, kinds, state and operations.

    ``state`` builds the object handed to every operation from the loaded context.
    """

    title: str
    contract: Contract
    kinds: Sequence[KindSpec]
    state: Callable[[RegistryContext], S]
    operations: Mapping[str, Handler[S]]


def create_soap_app(
    registry: SoapRegistry[S],
    data_dir: Path,
    *,
    faults: FaultConfig | None = None,
    auth: AuthConfig | None = None,
) -> FastAPI:
    """The app of ``registry`` loaded from ``data_dir/<name>/``."""
    name = registry.contract.name
    store = RegistryStore(name=name, kinds=registry.kinds)
    store.load(data_dir / name)
    ctx = RegistryContext(
        name=name,
        store=store,
        ledger=IdempotencyLedger(),
        faults=FaultInjector(faults or FaultConfig()),
        auth=auth,
    )
    service = SoapService(registry.contract, registry.state(ctx), registry.operations)
    return build_registry_app(
        ctx,
        routers=[service.router()],
        render_error=service.error_renderer(ctx.faults, auth),
        title=registry.title,
    )
