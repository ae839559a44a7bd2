"""The operations console: server-rendered pages over the hub's store, mounted on the API app.

``mount_console(app, c)`` adds the pages under ``/console``, their static CSS, the
operator actions, and redirects ``/`` to the console.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from pshub.bootstrap import Container
from pshub.console import kpis_billing  # noqa: F401  (registers the time-to-bill KPIs)

HERE = Path(__file__).parent


def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.filters["money"] = _money
    t.env.filters["seconds"] = _seconds
    t.env.filters["when"] = lambda v: "" if v is None else v.strftime("%Y-%m-%d %H:%M:%S")
    return t


def mount_console(app: FastAPI, c: Container) -> None:
    from pshub.console.actions import action_router
    from pshub.console.forecast_page import forecast_router
    from pshub.console.pages import page_router

    t = templates()
    app.mount("/console/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
    app.include_router(page_router(c, t))
    app.include_router(action_router(c, t))
    app.include_router(forecast_router(c, t))

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)


def _money(amount: object, currency: str | None = None) -> str:
    if amount is None:
        return "-"
    from decimal import Decimal

    from pshub.domain.money import quantum

    value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    value = value.quantize(quantum(currency)) if currency else value
    return f"{value:,f} {currency or ''}".strip()


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"
