"""The Anaplan sandbox: the authentication service and the Integration API v2 on one server.

Wire formats followed (details in each module's docstring):

- ``authentication-openapi.yaml`` and ``integration-openapi.yaml`` (the community OpenAPI 3.0
  descriptions of Anaplan's published APIs, kept in ``shared/vendor-specs/anaplan``);
- help.anaplan.com: *Start the import*, *Monitor the import task*, *Check dump file for
  failures*, *Check model status* (exclusive access during imports), *Troubleshooting API
  usage* (409 "Model or object busy").

Auth routes live at ``/token/*`` (``auth_url`` = the server root), integration routes under
``/2/0`` (``api_url`` = ``<root>/2/0``). Integration routes need ``Authorization:
AnaplanAuthToken <token>``. Faults from :func:`pshub.sandboxes.base.make_app` and every error
use the vendor's ``ErrorResponse`` shape; auth-service errors use the auth service's shape.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pshub.sandboxes.anaplan import actions, admin, auth, files, metadata
from pshub.sandboxes.anaplan.config import SandboxSettings, WorkspaceSpec, default_workspaces
from pshub.sandboxes.anaplan.context import Context
from pshub.sandboxes.anaplan.store import AnaplanStore
from pshub.sandboxes.anaplan.tasks import TaskRunner
from pshub.sandboxes.anaplan.wire import (
    AnaplanError,
    AuthError,
    error_body,
    fault_response,
    render,
    render_auth,
)
from pshub.sandboxes.base import SandboxState, make_app


def _install_error_handlers(app: FastAPI) -> None:
    async def on_anaplan(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AnaplanError)
        return render(exc, request.url.path)

    async def on_auth(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AuthError)
        return render_auth(exc)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        message = "Not Found" if exc.status_code == 404 else str(exc.detail)
        body = error_body(exc.status_code, message, request.url.path)
        return JSONResponse(body, status_code=exc.status_code)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body(400, "Bad Request", request.url.path), status_code=400)

    app.add_exception_handler(AnaplanError, on_anaplan)
    app.add_exception_handler(AuthError, on_auth)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)


def create_app(
    state: SandboxState,
    *,
    users: dict[str, str],
    seed: int = 0,
    workspaces: list[WorkspaceSpec] | None = None,
    settings: SandboxSettings | None = None,
) -> FastAPI:
    """The sandbox app. ``users`` maps user name to password (Basic auth at
    ``/token/authenticate``); ``workspaces`` defaults to :func:`default_workspaces`."""
    app = make_app("Anaplan sandbox", state, fault_response, seed=seed)
    store = AnaplanStore(state)
    store.seed(workspaces if workspaces is not None else default_workspaces())

    def live_settings() -> SandboxSettings:
        return ctx.settings  # read at call time: the admin route replaces them

    def count_busy() -> None:
        app.state.faults.served["model_busy"] += 1

    service = auth.AuthService(state, users, live_settings)
    runner = TaskRunner(store, live_settings, count_busy)
    ctx = Context(store, runner, service, settings or SandboxSettings())
    app.state.anaplan = ctx
    _install_error_handlers(app)
    app.include_router(auth.router(service))
    guard = [Depends(service.require)]
    for module in (metadata, files, actions):
        app.include_router(module.router(ctx), dependencies=guard)
    app.include_router(admin.router(ctx))
    return app
