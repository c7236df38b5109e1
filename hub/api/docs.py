"""``GET /docs``: Swagger UI from the installed package's own assets, never a CDN, so the API's
documentation renders on a machine without Internet access (and sends no request elsewhere).

The assets come from ``swagger-ui-bundle-v2`` (Swagger UI 5, which reads OpenAPI 3.1) and are
served under ``/docs/assets``; neither is part of the contract.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from hub.errors import ConfigurationError

DOCS_URL = "/docs"
ASSETS_URL = DOCS_URL + "/assets"


def assets_folder() -> Path:
    """The folder of Swagger UI's files in the installed ``swagger_ui_bundle`` package."""
    vendor = Path(str(files("swagger_ui_bundle") / "vendor"))
    found = sorted(vendor.glob("swagger-ui-*/swagger-ui-bundle.js"))
    if not found:
        raise ConfigurationError(
            f"no Swagger UI assets under {vendor}",
            hint="reinstall the hub: pip install -c constraints.txt .",
        )
    return found[-1].parent


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets; the app is made with ``docs_url=None``."""
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} — API"

    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
        )

    app.add_api_route(DOCS_URL, docs, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS_URL, StaticFiles(directory=assets_folder()), name="docs-assets")
