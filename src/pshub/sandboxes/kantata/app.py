"""The Kantata OX (formerly Mavenlink) sandbox: API root ``/api/v1``, bearer-token auth.

Wire format followed (see each resource module for details):

- the public OpenAPI descriptions of the Kantata OX API (``Workspaces``, ``Stories``,
  ``Users``; servers ``https://api.mavenlink.com/api/v1``; paths with or without ``.json``),
- https://developer.kantata.com/kantata/specification/section/response-format (envelope),
- https://developer.kantata.com/kantata/specification/section/errors (error shapes).

Auth is ``Authorization: Bearer <token>``; a missing or unknown token gets 401 with
``{"errors": [{"type": "oauth", "message": "Invalid OAuth 2 Request"}]}``. Faults injected by
:func:`pshub.sandboxes.base.make_app` (outage 503, errors 500, 429 with ``Retry-After``) are
rendered in the same ``errors`` shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pshub.sandboxes.base import SandboxState, make_app
from pshub.sandboxes.kantata import stories, users, workspaces
from pshub.sandboxes.kantata.errors import (
    KantataError,
    fault_response,
    render,
    system_error,
    unauthorized,
)


def _auth(tokens: frozenset[str]) -> Any:
    def require_token(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in tokens:
            raise unauthorized()

    return Depends(require_token)


def _install_error_handlers(app: FastAPI) -> None:
    async def on_kantata(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, KantataError)
        return render(exc)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        message = "Page not found" if exc.status_code == 404 else str(exc.detail)
        return render(system_error(exc.status_code, message))

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        return render(system_error(400, "malformed request"))

    app.add_exception_handler(KantataError, on_kantata)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)


def create_app(state: SandboxState, *, tokens: set[str] | frozenset[str], seed: int = 0) -> FastAPI:
    """The sandbox app; ``tokens`` are the bearer tokens it accepts."""
    app = make_app("Kantata OX sandbox", state, fault_response, seed=seed)
    users.seed_users(state, seed)
    _install_error_handlers(app)
    guard = [_auth(frozenset(tokens))]
    for module in (workspaces, stories, users):
        app.include_router(module.router(state), dependencies=guard)
    return app
