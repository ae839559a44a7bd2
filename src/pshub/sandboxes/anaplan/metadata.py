"""Workspaces and models (Integration API v2, *General Workspace & Model Metadata*).

``GET /workspaces`` (``tenantDetails=true`` adds ``sizeAllowance``/``currentSize``),
``GET /workspaces/{workspaceId}``, ``GET /workspaces/{workspaceId}/models``, ``GET /models``
and ``GET /models/{modelId}``, answered in the ``meta``/``status`` envelope with paging.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from pshub.sandboxes.anaplan.config import ModelSpec
from pshub.sandboxes.anaplan.context import Context
from pshub.sandboxes.anaplan.wire import API_ROOT, envelope, page

SIZE_ALLOWANCE = 10 * 1024**3


def _workspace_view(ws: dict[str, Any], request: Request, size: int) -> dict[str, Any]:
    view = {"id": ws["id"], "name": ws["name"], "active": True}
    if request.query_params.get("tenantDetails") == "true":
        view |= {"sizeAllowance": SIZE_ALLOWANCE, "currentSize": size}
    return view


def _model_view(ctx: Context, request: Request, ws_id: str, model: ModelSpec) -> dict[str, Any]:
    ws = ctx.store.workspace(ws_id)
    return {
        "id": model.id,
        "name": model.name,
        "activeState": "UNLOCKED",
        "currentWorkspaceId": ws_id,
        "currentWorkspaceName": ws["name"],
        "modelUrl": f"{str(request.base_url).rstrip('/')}/a/models/{model.id}",
        "categoryValues": [],
        "isoCreationDate": "2024-01-02T09:00:00.000+0000",
        "modelTransactionRunning": bool(ctx.runner.running(model.id)),
    }


def router(ctx: Context) -> APIRouter:
    api = APIRouter(prefix=API_ROOT)

    def cell_count(ws_id: str) -> int:
        return sum(len(ctx.store.cells(m.id)) for _, m in ctx.store.models(ws_id))

    @api.get("/workspaces")
    def workspaces(request: Request) -> dict[str, Any]:
        views = [_workspace_view(w, request, cell_count(w["id"])) for w in ctx.store.workspaces()]
        return page(request, "workspace", "workspaces", views)

    @api.get("/workspaces/{workspace_id}")
    def workspace(workspace_id: str, request: Request) -> dict[str, Any]:
        ws = ctx.store.workspace(workspace_id)
        view = _workspace_view(ws, request, cell_count(workspace_id))
        return envelope(request, "workspace", workspace=view)

    @api.get("/workspaces/{workspace_id}/models")
    def workspace_models(workspace_id: str, request: Request) -> dict[str, Any]:
        ctx.store.workspace(workspace_id)
        models = ctx.store.models(workspace_id)
        return page(
            request, "model", "models", [_model_view(ctx, request, w, m) for w, m in models]
        )

    @api.get("/models")
    def models(request: Request) -> dict[str, Any]:
        views = [_model_view(ctx, request, w, m) for w, m in ctx.store.models()]
        return page(request, "model", "models", views)

    @api.get("/models/{model_id}")
    def model(model_id: str, request: Request) -> dict[str, Any]:
        found = ctx.store.model(model_id)
        view = _model_view(ctx, request, ctx.store.workspace_of(model_id), found)
        return envelope(request, "model", model=view)

    return api
