"""Console forms that change state: log in and out, retry, resolve, edit and retry, bulk
retry, map a legal entity, replay. Each needs the ``operate`` scope and the session's CSRF
token (checked by :func:`pshub.api.security.require`), calls the same functions as the JSON
API, and answers with a redirect carrying a message (post/redirect/get)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from pshub.api import ops
from pshub.api.security import SESSION_COOKIE, Principal, require, security_of
from pshub.bootstrap import Container
from pshub.console.pages import render
from pshub.console.policy_edit import EntityMapping, TaxProfileMapping

LOGIN_CSRF = "pshub_login_csrf"
Operator = Annotated[Principal, Depends(require("operate"))]
Reader = Annotated[Principal, Depends(require("read"))]


def back(url: str, msg: str, ok: bool = True) -> RedirectResponse:
    sep = "&" if "?" in url else "?"
    query = urlencode({"msg": msg, "level": "ok" if ok else "error"})
    return RedirectResponse(f"{url}{sep}{query}", status_code=303)


def attempt(url: str, action: Callable[[], Any], done: Callable[[Any], str]) -> RedirectResponse:
    """Run an operator action; on refusal go back with the reason instead of a bare error."""
    try:
        result = action()
    except ops.OpsError as exc:
        return back(url, str(exc), ok=False)
    return back(url, done(result))


def _safe_next(value: str | None) -> str:
    # Only local console paths: an open redirect would make the login page a phishing aid.
    if value and value.startswith("/console") and "//" not in value:
        return value
    return "/console/"


def action_router(c: Container, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/console/") -> Response:
        token = secrets.token_urlsafe(16)
        response = render(templates, request, None, "login.html", login_csrf=token, next=next)
        response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", max_age=900)
        return response

    @router.post("/login")
    async def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        csrf_token: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/console/",
    ) -> Response:
        expected = request.cookies.get(LOGIN_CSRF, "")
        if not expected or not secrets.compare_digest(expected, csrf_token):
            return back("/console/login", "The login form expired; please try again.", False)
        sec = security_of(request)
        user = await run_in_threadpool(sec.login, username, password)
        if user is None:
            return back("/console/login", "Wrong user name or password.", False)
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            sec.session_cookie(user),
            max_age=sec.settings.session_max_age_seconds,
            httponly=True,
            samesite="lax",
            secure=sec.settings.cookie_secure,
        )
        response.delete_cookie(LOGIN_CSRF)
        return response

    @router.post("/logout")
    def logout(who: Reader) -> Response:
        response = RedirectResponse("/console/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @router.post("/exceptions/{exception_id}/retry")
    def retry(exception_id: int, who: Operator) -> Response:
        return attempt(
            f"/console/exceptions/{exception_id}",
            lambda: ops.retry(c, exception_id, who.name),
            lambda r: f"Retry started as attempt {r['attempt']} ({r['workflow_id']}).",
        )

    @router.post("/exceptions/{exception_id}/resolve")
    def resolve(exception_id: int, who: Operator, note: Annotated[str, Form()]) -> Response:
        return attempt(
            f"/console/exceptions/{exception_id}",
            lambda: ops.resolve(c, exception_id, who.name, note),
            lambda _: "Marked resolved.",
        )

    @router.post("/exceptions/{exception_id}/edit-retry")
    def edit_retry(exception_id: int, who: Operator, payload: Annotated[str, Form()]) -> Response:
        url = f"/console/exceptions/{exception_id}"
        try:
            data = json.loads(payload)
        except json.JSONDecodeError as exc:
            return back(url, f"The input is not valid JSON: {exc}", ok=False)
        if not isinstance(data, dict):
            return back(url, "The input must be a JSON object.", ok=False)
        return attempt(
            url,
            lambda: ops.edit_and_retry(c, exception_id, data, who.name),
            lambda r: f"Saved and retried as attempt {r['attempt']}.",
        )

    @router.post("/exceptions/bulk-retry")
    async def bulk_retry(request: Request, who: Operator) -> Response:
        form = await request.form()
        ids = [int(str(v)) for v in form.getlist("ids") if str(v).isdigit()]
        if not ids:
            return back("/console/exceptions", "Select at least one exception.", ok=False)
        results = await run_in_threadpool(ops.bulk_retry, c, ids, who.name)
        ok = sum(1 for r in results if r["ok"])
        return back("/console/exceptions", f"Retried {ok} of {len(results)} exceptions.")

    @router.post("/exceptions/{exception_id}/map-entity")
    def map_entity(
        exception_id: int,
        who: Operator,
        code: Annotated[str, Form()],
        name: Annotated[str, Form()],
        country: Annotated[str, Form()],
        currency: Annotated[str, Form()],
        erp_subsidiary_id: Annotated[str, Form()],
        tax_country: Annotated[str, Form()] = "",
        tax_code: Annotated[str, Form()] = "",
        tax_rate: Annotated[str, Form()] = "0",
        retry_waiting: Annotated[str, Form()] = "",
    ) -> Response:
        url = f"/console/exceptions/{exception_id}"
        try:
            taxes = (
                [TaxProfileMapping(
                    code=f"{code}-{tax_country}", customer_country=tax_country.upper(),
                    rate=tax_rate, erp_tax_code=tax_code,
                )] if tax_country and tax_code else []
            )  # fmt: skip
            mapping = EntityMapping(
                code=code.strip(), name=name.strip(), country=country.strip().upper(),
                currency=currency.strip().upper(), erp_subsidiary_id=erp_subsidiary_id.strip(),
                tax_profiles=taxes,
            )  # fmt: skip
        except ValidationError as exc:
            err = exc.errors()[0]
            return back(url, f"{'.'.join(map(str, err['loc']))}: {err['msg']}", ok=False)
        return attempt(
            url,
            lambda: ops.map_entity_and_retry(c, mapping, who.name, bool(retry_waiting)),
            lambda r: (
                f"Legal entity {mapping.code} mapped; retried {len(r['retried'])} "
                "waiting exception(s)."
            ),
        )

    @router.post("/replay")
    def replay(
        who: Operator,
        correlation_id: Annotated[str, Form()],
        workflow_id: Annotated[str, Form()] = "",
        from_step: Annotated[int, Form()] = 0,
    ) -> Response:
        url = "/console/lineage?" + urlencode({"q": correlation_id})
        return attempt(
            url,
            lambda: ops.replay(c, correlation_id, who.name, workflow_id or None, from_step),
            lambda r: f"Replay started: {r['workflow_id']} (from step {from_step}).",
        )

    return router
