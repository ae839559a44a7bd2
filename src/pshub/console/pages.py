"""Console pages (read side): overview, flows, exceptions, dead letters, lineage, connectors,
KPIs and the audit trail. Server-rendered with Jinja2; every page needs the ``read`` scope."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pshub.api.ops import steps_of
from pshub.api.security import Principal, require
from pshub.bootstrap import Container
from pshub.console import charts, connectors, kpis, lineage, queries
from pshub.store import repos
from pshub.store.tables import BusinessException

PER_PAGE = 50
Reader = Annotated[Principal, Depends(require("read"))]
NAV = (
    ("Overview", "/console/"),
    ("Flows", "/console/flows"),
    ("Exceptions", "/console/exceptions"),
    ("Dead letters", "/console/dead-letters"),
    ("Lineage", "/console/lineage"),
    ("Connectors", "/console/connectors"),
    ("KPIs", "/console/kpis"),
    ("Audit", "/console/audit"),
)


def render(
    templates: Jinja2Templates, request: Request, who: Principal | None, name: str, **ctx: Any
) -> HTMLResponse:
    ctx.update(
        who=who,
        csrf=who.csrf if who else "",
        nav=NAV,
        path=request.url.path,
        msg=request.query_params.get("msg"),
        level=request.query_params.get("level", "ok"),
    )
    return templates.TemplateResponse(request, name, ctx)


def _decimal(value: str | None, field: str) -> Decimal | None:
    if not value:
        return None
    try:
        return Decimal(value.replace(",", ""))
    except InvalidOperation as exc:
        raise HTTPException(422, f"{field}: {value!r} is not a number") from exc


def exception_filter(request: Request, kind: str | None = None) -> queries.ExceptionFilter:
    q = request.query_params
    status = q.get("status", "open")
    return queries.ExceptionFilter(
        status=None if status == "any" else status,
        kind=kind or q.get("kind") or None,
        flow=q.get("flow") or None,
        reason=q.get("reason") or None,
        entity=q.get("entity") or None,
        currency=(q.get("currency") or "").upper() or None,
        min_amount=_decimal(q.get("min_amount"), "min_amount"),
        max_amount=_decimal(q.get("max_amount"), "max_amount"),
    )


def _kpi(s: Any, fn: kpis.KpiFn, now: datetime) -> kpis.Kpi:
    return queries.summary(s, f"kpi:{fn.__name__}", lambda: fn(s, now))


def page_router(c: Container, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request, who: Reader) -> HTMLResponse:
        now = repos.utcnow()
        with c.db.session() as s:
            health = queries.flow_health(s, now)
            held = queries.held_back(s)
            dead = queries.count_open(s, "dead_letter")
            business = queries.count_open(s, "business")
            errors = connectors.recent_errors(s, 5)
        hours = [f"{h}h ago" for h in range(24, 0, -1)]
        spark = {h.flow: charts.sparkline(h.hourly, title=f"{h.flow} runs/hour") for h in health}
        total_hourly = [sum(h.hourly[i] for h in health) for i in range(24)]
        return render(
            templates, request, who, "overview.html",
            health=health, held=held, dead=dead, business=business, spark=spark,
            errors=errors, conns=connectors.connector_health(c),
            chart=charts.column_chart(total_hourly, hours, title="Runs per hour, all flows"),
        )  # fmt: skip

    @router.get("/flows", response_class=HTMLResponse)
    def flows(
        request: Request,
        who: Reader,
        flow: str | None = None,
        status: str | None = None,
        before: datetime | None = None,
    ) -> HTMLResponse:
        with c.db.session() as s:
            runs = queries.runs_page(s, flow or None, status or None, before, PER_PAGE)
            health = queries.flow_health(s, repos.utcnow())
        more = runs[-1].started_at.isoformat() if len(runs) == PER_PAGE else None
        return render(
            templates, request, who, "flows.html",
            runs=runs, health=health, flow=flow or "", status=status or "", more=more,
        )  # fmt: skip

    @router.get("/exceptions", response_class=HTMLResponse)
    def exceptions(
        request: Request, who: Reader, page: Annotated[int, Query(ge=1, le=10_000)] = 1
    ) -> HTMLResponse:
        return _exception_list(request, who, page, None, "exceptions.html")

    @router.get("/dead-letters", response_class=HTMLResponse)
    def dead_letters(
        request: Request, who: Reader, page: Annotated[int, Query(ge=1, le=10_000)] = 1
    ) -> HTMLResponse:
        return _exception_list(request, who, page, "dead_letter", "dead_letters.html")

    def _exception_list(
        request: Request, who: Principal, page: int, kind: str | None, name: str
    ) -> HTMLResponse:
        f = exception_filter(request, kind)
        with c.db.session() as s:
            rows, total = queries.exceptions_page(s, f, page, PER_PAGE)
            facets = queries.facet_values(s)
            held = queries.held_back(s, kind)
        args = {k: v for k, v in request.query_params.items() if k != "page"}
        return render(
            templates, request, who, name,
            rows=rows, total=total, page=page, per_page=PER_PAGE, f=f, facets=facets,
            args=args, held=held,
            chart=charts.bar_chart(
                [(f"{h['flow']} {h['currency'] or ''}", float(h["amount"] or 0)) for h in held],
                title="Money held back by open exceptions",
            ),
        )  # fmt: skip

    @router.get("/exceptions/{exception_id}", response_class=HTMLResponse)
    def exception_detail(request: Request, exception_id: int, who: Reader) -> HTMLResponse:
        with c.db.session() as s:
            row = s.get(BusinessException, exception_id)
            if row is None:
                raise HTTPException(404, f"exception {exception_id} does not exist")
            hops = list(repos.audit_trail(s, row.correlation_id))[-50:]
            runs = repos.runs_for(s, row.correlation_id)
        trigger_input = json.dumps(row.trigger.get("input", {}), indent=2, sort_keys=True)
        return render(
            templates, request, who, "exception.html",
            e=row, hops=hops, runs=runs, trigger_input=trigger_input,
        )  # fmt: skip

    @router.get("/lineage", response_class=HTMLResponse)
    def lineage_page(request: Request, who: Reader, q: str = "") -> HTMLResponse:
        lin, steps = None, []
        with c.db.session() as s:
            cid = lineage.resolve_correlation(s, q) if q else None
            if cid:
                lin = lineage.lineage(s, cid)
        if lin and lin.runs:
            steps = steps_of(lin.runs[-1].workflow_id)
        return render(
            templates, request, who, "lineage.html",
            q=q, lin=lin, steps=steps, not_found=bool(q) and lin is None,
        )  # fmt: skip

    @router.get("/connectors", response_class=HTMLResponse)
    def connectors_page(request: Request, who: Reader) -> HTMLResponse:
        with c.db.session() as s:
            errors = connectors.recent_errors(s)
        return render(
            templates, request, who, "connectors.html",
            conns=connectors.connector_health(c), errors=errors,
        )  # fmt: skip

    @router.get("/kpis", response_class=HTMLResponse)
    def kpi_page(request: Request, who: Reader) -> HTMLResponse:
        now = repos.utcnow()
        with c.db.session() as s:
            results = [_kpi(s, fn, now) for fn in kpis.KPIS]
            held = queries.held_back(s)
        kpi_charts = {
            k.key: charts.column_chart(
                [v for _, v in k.series], [d for d, _ in k.series], title=k.title, unit=k.unit
            )
            for k in results
        }
        money = charts.bar_chart(
            [(f"{h['flow']} {h['currency'] or ''}", float(h["amount"] or 0)) for h in held],
            title="Money held back by open exceptions",
        )
        return render(
            templates, request, who, "kpis.html", kpis=results, charts=kpi_charts, money=money
        )

    @router.get("/audit", response_class=HTMLResponse)
    def audit(
        request: Request,
        who: Reader,
        actor: str | None = None,
        action: str | None = None,
        correlation_id: str | None = None,
        before_id: Annotated[int | None, Query(ge=1)] = None,
    ) -> HTMLResponse:
        with c.db.session() as s:
            rows = queries.audit_page(
                s, actor or None, action or None, correlation_id or None, before_id, PER_PAGE
            )
        more = rows[-1].id if len(rows) == PER_PAGE else None
        return render(
            templates, request, who, "audit.html",
            rows=rows, actor=actor or "", action=action or "",
            correlation_id=correlation_id or "", more=more,
        )  # fmt: skip

    return router
