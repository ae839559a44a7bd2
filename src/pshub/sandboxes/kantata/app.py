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
from pshub.sandboxes.kantata import (
    assignments,
    billing_milestones,
    bulk,
    events,
    expenses,
    roles,
    sql,
    stories,
    submissions,
    time_entries,
    time_store,
    users,
    workspaces,
)
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


def _subjects() -> dict[str, tuple[str, events.SubjectLoader]]:
    """What ``GET /subscribed_events?include=subject`` sideloads, per subject type."""

    def docs(collection: str) -> events.SubjectLoader:
        def load(state: SandboxState, ids: list[str]) -> list[dict[str, Any]]:
            found = (state.get(collection, i) for i in ids)
            return [r for r in found if r is not None and not r.get("deleted_at")]

        return load

    return {
        "TimeEntry": (
            time_entries.KEY,
            lambda s, ids: [time_store.public(r, []) for r in time_store.load_many(s, ids)],
        ),
        "Expense": (expenses.KEY, expenses.public),
        "Story": (stories.COLLECTION, docs(stories.COLLECTION)),
        "Workspace": (workspaces.COLLECTION, docs(workspaces.COLLECTION)),
        "TimesheetSubmission": ("timesheet_submissions", submissions.TIME.load),
        "ExpenseReportSubmission": ("expense_report_submissions", submissions.EXPENSE.load),
    }


def create_app(state: SandboxState, *, tokens: set[str] | frozenset[str], seed: int = 0) -> FastAPI:
    """The sandbox app; ``tokens`` are the bearer tokens it accepts."""
    app = make_app("Kantata OX sandbox", state, fault_response, seed=seed)
    sql.ensure_schema(state)
    users.seed_users(state, seed)
    roles.seed_roles(state)
    _install_error_handlers(app)
    bulk.install(app, state)
    guard = [_auth(frozenset(tokens))]
    routers = [
        module.router(state)
        for module in (
            workspaces,
            stories,
            users,
            time_entries,
            expenses,
            billing_milestones,
            assignments,
        )
    ]
    routers += [submissions.router(state, submissions.TIME)]
    routers += [submissions.router(state, submissions.EXPENSE)]
    routers += [events.router(state, _subjects())]
    for api in routers:
        app.include_router(api, dependencies=guard)
    return app
