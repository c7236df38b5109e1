"""The console: web pages for social work centres, appeal bodies, operators and auditors.

Served by the hub at ``/console`` over the same services, scopes and audit as the API;
server-rendered (Jinja2), a little plain JavaScript, every asset served by the hub itself.
``install(app)`` adds it to an API app.
"""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from hub.console.views import router
from hub.console.web import (
    FRAGMENT_HEADER,
    PREFIX,
    STATIC,
    ConsoleConfig,
    ConsoleRefused,
    CsrfRefused,
    PageForbidden,
    SignInRequired,
    new_state,
    redirect,
    render,
    secured,
    sign_in_url,
)

__all__ = ["PREFIX", "ConsoleConfig", "install"]


def install(app: FastAPI, config: ConsoleConfig | None = None) -> None:
    """Serve the console, its static files and its error pages from ``app``."""
    app.state.console = new_state(config or ConsoleConfig(), app.state.engine)
    app.include_router(router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(PageForbidden, _forbidden)
    app.add_exception_handler(CsrfRefused, _csrf)
    app.add_exception_handler(ConsoleRefused, _refused)


async def _sign_in(request: Request, error: Exception) -> Response:
    reason = error.reason if isinstance(error, SignInRequired) else "none"
    if request.headers.get(FRAGMENT_HEADER):
        return secured(Response(status_code=401))
    next_path = request.url.path if request.method == "GET" else None
    return redirect(sign_in_url(next_path, reason))


async def _forbidden(request: Request, error: Exception) -> Response:
    user = error.user if isinstance(error, PageForbidden) else None
    # in a worker thread: showing the user's waiting messages writes their session
    return await run_in_threadpool(
        partial(render, request, "forbidden.html", user=user, status=403)
    )


async def _csrf(request: Request, _error: Exception) -> Response:
    return render(
        request, "refused.html", user=None, status=403, message_key="error.csrf", params={}
    )


async def _refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, ConsoleRefused)
    return render(
        request,
        "refused.html",
        user=None,
        status=error.status,
        message_key=error.message_key,
        params=error.params,
    )
