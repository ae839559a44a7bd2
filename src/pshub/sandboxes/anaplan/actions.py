"""Imports and exports: definitions, metadata, tasks, the failure dump (Integration API v2).

- ``GET …/imports/`` (and without the slash) lists ``Import`` objects (``importDataSourceId``
  is the file to upload to, ``importType`` ``MODULE_DATA``); ``GET …/imports/{id}`` answers
  ``importMetadata`` with the source file's ``headerNames``.
- ``POST …/imports/{id}/tasks`` with ``{"localeName": "en_US"}`` starts the import and answers
  ``{"meta", "status", "task": {"taskId", "taskState": "NOT_STARTED", "creationTime"}}``
  (help.anaplan.com, *Start the import*); 409 while the model runs another task.
- ``GET …/imports/{id}/tasks/{taskId}`` is the ``Task`` with ``result`` once ``COMPLETE``.
- ``GET …/tasks/{taskId}/dump`` is the failure dump (text/plain CSV), 204 when the task had no
  failures, 404 while it runs or once a later task of the same import replaced the dump
  ("Any earlier task IDs are erased"); ``…/dump/chunks`` and ``…/dump/chunks/{id}`` page it.
- Exports mirror imports; the output is the file with the export's id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import PlainTextResponse, Response

from pshub.sandboxes.anaplan.config import ExportSpec, ImportSpec, ModelSpec
from pshub.sandboxes.anaplan.context import Context
from pshub.sandboxes.anaplan.tasks import task_view
from pshub.sandboxes.anaplan.wire import API_ROOT, bad_request, envelope, not_found, page

MODEL_PATH = "/workspaces/{workspace_id}/models/{model_id}"
IMPORT_PATH = MODEL_PATH + "/imports/{import_id}"
EXPORT_PATH = MODEL_PATH + "/exports/{export_id}"
DUMP_PATH = IMPORT_PATH + "/tasks/{task_id}/dump"


def _import(model: ModelSpec, import_id: str) -> ImportSpec:
    found = next((i for i in model.imports if i.id == import_id), None)
    if found is None:
        raise not_found(f"import {import_id}")
    return found


def _export(model: ModelSpec, export_id: str) -> ExportSpec:
    found = next((e for e in model.exports if e.id == export_id), None)
    if found is None:
        raise not_found(f"export {export_id}")
    return found


def _require_locale(payload: Any) -> None:
    if not isinstance(payload, dict) or not isinstance(payload.get("localeName"), str):
        raise bad_request('The request body must carry "localeName" (e.g. "en_US")')


def _columns(model: ModelSpec, module_id: str) -> tuple[list[str], list[str]]:
    module = model.module(module_id)
    if module is None:
        raise not_found(f"module {module_id}")
    return module.dimensions, module.line_items


def _import_metadata(model: ModelSpec, spec: ImportSpec) -> dict[str, Any]:
    dims, items = _columns(model, spec.module_id)
    source = {
        "textEncoding": "UTF-8",
        "columnSeparator": ",",
        "textDelimiter": '"',
        "headerRow": 1,
        "firstDataRow": 2,
        "decimalSeparator": ".",
        "headerNames": [*dims, *items],
        "columnCount": len(dims) + len(items),
    }
    return {"name": spec.name, "type": "FILE", "source": source}


def _export_metadata(ctx: Context, model: ModelSpec, spec: ExportSpec) -> dict[str, Any]:
    dims, items = _columns(model, spec.module_id)
    types = ["TIME_ENTITY" if d == model.time_dimension else "ENTITY" for d in dims]
    return {
        "columnCount": len(dims) + len(items),
        "dataTypes": [*types, *(["NUMBER"] * len(items))],
        "delimiter": '"',
        "encoding": "UTF-8",
        "exportFormat": "text/csv",
        "headerNames": [*dims, *items],
        "listNames": [d if d in model.lists else "" for d in dims],
        "rowCount": len(ctx.store.cells(model.id, spec.module_id)),
        "separator": ",",
    }


def _dump_text(ctx: Context, ws: str, model_id: str, import_id: str, task_id: str) -> str | None:
    """The dump CSV; None when the task finished without failures; 404 when not available."""
    _import(ctx.model(ws, model_id), import_id)
    ctx.runner.settle(model_id)
    task = ctx.store.task(model_id, import_id, task_id)
    if not task["done"]:
        raise not_found(f"dump of task {task_id} (task still running)")
    if not task["result"]["failureDumpAvailable"]:
        return None
    text = ctx.store.dump(model_id, import_id, task_id)
    if text is None:
        raise not_found(f"dump of task {task_id} (removed or replaced)")
    return text


def router(ctx: Context) -> APIRouter:
    api = APIRouter(prefix=API_ROOT)

    @api.get(MODEL_PATH + "/imports")
    @api.get(MODEL_PATH + "/imports/")
    def list_imports(workspace_id: str, model_id: str, request: Request) -> dict[str, Any]:
        model = ctx.model(workspace_id, model_id)
        views = [
            {
                "id": i.id,
                "name": i.name,
                "importDataSourceId": i.file_id,
                "importType": "MODULE_DATA",
            }
            for i in model.imports
        ]
        return page(request, "import", "imports", views, model_id)

    @api.get(IMPORT_PATH)
    def import_metadata(
        workspace_id: str, model_id: str, import_id: str, request: Request
    ) -> dict[str, Any]:
        model = ctx.model(workspace_id, model_id)
        meta = _import_metadata(model, _import(model, import_id))
        return envelope(request, "importMetadata", model_id, importMetadata=meta)

    def tasks_of(model_id: str, object_id: str, request: Request) -> dict[str, Any]:
        ctx.runner.settle(model_id)
        tasks = [task_view(t) for t in ctx.store.tasks(model_id) if t["objectId"] == object_id]
        return envelope(request, "task", model_id, tasks=tasks)

    @api.get(IMPORT_PATH + "/tasks")
    def import_tasks(
        workspace_id: str, model_id: str, import_id: str, request: Request
    ) -> dict[str, Any]:
        _import(ctx.model(workspace_id, model_id), import_id)
        return tasks_of(model_id, import_id, request)

    @api.post(IMPORT_PATH + "/tasks")
    def start_import(
        workspace_id: str,
        model_id: str,
        import_id: str,
        request: Request,
        payload: Any = Body(None),
    ) -> dict[str, Any]:
        spec = _import(ctx.model(workspace_id, model_id), import_id)
        _require_locale(payload)
        task = ctx.runner.start_import(model_id, spec)
        return envelope(request, "task", model_id, task=task_view(task, created=True))

    @api.get(IMPORT_PATH + "/tasks/{task_id}")
    def import_task(
        workspace_id: str, model_id: str, import_id: str, task_id: str, request: Request
    ) -> dict[str, Any]:
        _import(ctx.model(workspace_id, model_id), import_id)
        ctx.runner.settle(model_id)
        task = ctx.store.task(model_id, import_id, task_id)
        return envelope(request, "task", model_id, task=task_view(task))

    @api.get(DUMP_PATH)
    def dump(workspace_id: str, model_id: str, import_id: str, task_id: str) -> Response:
        text = _dump_text(ctx, workspace_id, model_id, import_id, task_id)
        if text is None:
            return Response(status_code=204)
        return PlainTextResponse(text)

    @api.get(DUMP_PATH + "/chunks")
    def dump_chunks(
        workspace_id: str, model_id: str, import_id: str, task_id: str, request: Request
    ) -> dict[str, Any]:
        text = _dump_text(ctx, workspace_id, model_id, import_id, task_id)
        if text is None:
            raise not_found(f"dump of task {task_id} (no failures)")
        return page(request, "chunk", "chunks", [{"id": "0", "name": "Chunk 0"}], model_id)

    @api.get(DUMP_PATH + "/chunks/{chunk_id}")
    def dump_chunk(
        workspace_id: str, model_id: str, import_id: str, task_id: str, chunk_id: str
    ) -> Response:
        text = _dump_text(ctx, workspace_id, model_id, import_id, task_id)
        if text is None or chunk_id != "0":
            raise not_found(f"dump chunk {chunk_id}")
        return PlainTextResponse(text)

    @api.get(MODEL_PATH + "/exports")
    def list_exports(workspace_id: str, model_id: str, request: Request) -> dict[str, Any]:
        model = ctx.model(workspace_id, model_id)
        views = [
            {
                "id": e.id,
                "name": e.name,
                "exportType": "TABULAR_MULTI_COLUMN",
                "exportFormat": "text/csv",
                "encoding": "UTF-8",
                "layout": "TABULAR_MULTI_COLUMN",
            }
            for e in model.exports
        ]
        return page(request, "export", "exports", views, model_id)

    @api.get(EXPORT_PATH)
    def export_metadata(
        workspace_id: str, model_id: str, export_id: str, request: Request
    ) -> dict[str, Any]:
        model = ctx.model(workspace_id, model_id)
        meta = _export_metadata(ctx, model, _export(model, export_id))
        return envelope(request, "exportMetadata", model_id, exportMetadata=meta)

    @api.get(EXPORT_PATH + "/tasks")
    def export_tasks(
        workspace_id: str, model_id: str, export_id: str, request: Request
    ) -> dict[str, Any]:
        _export(ctx.model(workspace_id, model_id), export_id)
        return tasks_of(model_id, export_id, request)

    @api.post(EXPORT_PATH + "/tasks")
    def start_export(
        workspace_id: str,
        model_id: str,
        export_id: str,
        request: Request,
        payload: Any = Body(None),
    ) -> dict[str, Any]:
        spec = _export(ctx.model(workspace_id, model_id), export_id)
        _require_locale(payload)
        task = ctx.runner.start_export(model_id, spec)
        return envelope(request, "task", model_id, task=task_view(task, created=True))

    @api.get(EXPORT_PATH + "/tasks/{task_id}")
    def export_task(
        workspace_id: str, model_id: str, export_id: str, task_id: str, request: Request
    ) -> dict[str, Any]:
        _export(ctx.model(workspace_id, model_id), export_id)
        task = ctx.store.task(model_id, export_id, task_id)
        return envelope(request, "task", model_id, task=task_view(task))

    return api
