"""One REST registry's FastAPI app, assembled from its declaration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI

from mocks.core.app import RegistryContext, build_registry_app
from mocks.core.auth import AuthConfig
from mocks.core.faults import FaultConfig, FaultInjector
from mocks.core.idempotency import IdempotencyLedger
from mocks.core.store import KindSpec, RegistryStore
from mocks.rest.feed import changes_router
from mocks.rest.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers, make_render_error
from mocks.rest.types import ChangePageBase


@dataclass(frozen=True)
class RestRegistry:
    """What a REST registry declares: name, contract version, kinds, feed and routers.

    ``feed_kinds`` maps each store kind (file stem) to its ``kind`` in the change
    feed; ``feed_page`` is the contract's page model of ``GET /v1/changes``.
    """

    name: str
    title: str
    version: str
    kinds: Sequence[KindSpec]
    feed_kinds: Mapping[str, str]
    feed_page: type[ChangePageBase]
    routers: Sequence[APIRouter]


def create_rest_app(
    registry: RestRegistry,
    data_dir: Path,
    *,
    faults: FaultConfig | None = None,
    auth: AuthConfig | None = None,
) -> FastAPI:
    """The app of ``registry`` loaded from ``data_dir/<name>/``."""
    store = RegistryStore(name=registry.name, kinds=registry.kinds)
    store.load(data_dir / registry.name)
    ctx = RegistryContext(
        name=registry.name,
        store=store,
        ledger=IdempotencyLedger(),
        faults=FaultInjector(faults or FaultConfig()),
        auth=auth,
    )
    app = build_registry_app(
        ctx,
        routers=[
            *registry.routers,
            changes_router(page_model=registry.feed_page, kinds=registry.feed_kinds),
        ],
        render_error=make_render_error(registry.name, auth),
        title=registry.title,
    )
    app.version = registry.version
    install_problem_handlers(app)
    _serve_problems_as_problem_json(app)
    return app


def _serve_problems_as_problem_json(app: FastAPI) -> None:
    """Document error responses as ``application/problem+json``, as they are sent."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for operation in _operations(schema):
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if str(status) >= "400" and "application/json" in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for path in schema.get("paths", {}).values() for op in path.values()]
