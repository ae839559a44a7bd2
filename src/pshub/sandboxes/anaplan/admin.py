"""Anaplan-specific admin routes under ``/_sandbox`` (never faulted, never authenticated).

- ``GET  /_sandbox/models/{modelId}/cells[?module=id]``  what imports wrote (tests, demo)
- ``GET  /_sandbox/models/{modelId}/tasks``              every task, with its state
- ``POST /_sandbox/models/{modelId}/tasks/complete``     finish running tasks now
- ``PUT  /_sandbox/models/{modelId}/modules/{moduleId}`` a module's dimensions / line items
- ``PUT  /_sandbox/models/{modelId}/lists/{name}``       a list's items (``null``: open list)
- ``PUT  /_sandbox/models/{modelId}/imports/{importId}`` an import definition (file, module)
- ``GET|PUT /_sandbox/settings``   import duration, busy Retry-After, token lifetime
- ``GET  /_sandbox/tokens``; ``POST /_sandbox/tokens/expire``; ``PUT /_sandbox/users/{name}``
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from pshub.sandboxes.anaplan.auth import TOKENS
from pshub.sandboxes.anaplan.config import (
    ImportSpec,
    ListSpec,
    ModelSpec,
    ModuleSpec,
    SandboxSettings,
)
from pshub.sandboxes.anaplan.context import Context
from pshub.sandboxes.anaplan.wire import bad_request

ADMIN = "/_sandbox/models/{model_id}"


class Password(BaseModel):
    password: str


def _replace(items: list[Any], new: Any) -> list[Any]:
    return [i for i in items if i.id != new.id] + [new]


def _flat_cell(cell: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {
        "module": names.get(cell["module"], cell["module"]),
        **cell["dimensions"],
        **cell["values"],
    }


def router(ctx: Context) -> APIRouter:
    api = APIRouter()

    def update(model_id: str, change: dict[str, Any]) -> ModelSpec:
        with ctx.store.state.transaction():
            model = ctx.store.model(model_id)
            try:
                changed = ModelSpec.model_validate({**model.model_dump(), **change})
            except ValueError as exc:
                raise bad_request(str(exc)) from exc
            ctx.store.save_model(ctx.store.workspace_of(model_id), changed)
        return changed

    @api.get(ADMIN + "/cells")
    def cells(model_id: str, module: str | None = None) -> dict[str, Any]:
        model = ctx.store.model(model_id)
        ctx.runner.settle(model_id)
        names = {m.id: m.name for m in model.modules}
        found = [_flat_cell(c, names) for c in ctx.store.cells(model_id, module)]
        return {"modelId": model_id, "count": len(found), "cells": found}

    @api.get(ADMIN + "/tasks")
    def tasks(model_id: str) -> list[dict[str, Any]]:
        ctx.runner.settle(model_id)
        return [{k: v for k, v in t.items() if k != "plan"} for t in ctx.store.tasks(model_id)]

    @api.post(ADMIN + "/tasks/complete")
    def complete_tasks(model_id: str) -> dict[str, int]:
        running = len(ctx.runner.running(model_id))
        ctx.runner.settle(model_id, force=True)
        return {"completed": running}

    @api.put(ADMIN + "/modules/{module_id}")
    def put_module(model_id: str, module_id: str, spec: ModuleSpec) -> ModuleSpec:
        if spec.id != module_id:
            raise bad_request("module id in the path and the body differ")
        update(model_id, {"modules": _replace(ctx.store.model(model_id).modules, spec)})
        return spec

    @api.put(ADMIN + "/lists/{name}")
    def put_list(model_id: str, name: str, spec: ListSpec) -> ListSpec:
        lists = {**ctx.store.model(model_id).lists, name: spec.items}
        update(model_id, {"lists": lists})
        return spec

    @api.put(ADMIN + "/imports/{import_id}")
    def put_import(model_id: str, import_id: str, spec: ImportSpec) -> ImportSpec:
        model = ctx.store.model(model_id)
        if spec.id != import_id or model.module(spec.module_id) is None:
            raise bad_request("import id differs from the path, or its module is unknown")
        update(model_id, {"imports": _replace(model.imports, spec)})
        return spec

    @api.get("/_sandbox/settings")
    def get_settings() -> SandboxSettings:
        return ctx.settings

    @api.put("/_sandbox/settings")
    def put_settings(settings: SandboxSettings) -> SandboxSettings:
        ctx.settings = settings
        return settings

    @api.get("/_sandbox/tokens")
    def tokens() -> dict[str, Any]:
        views = [
            {k: t[k] for k in ("user", "expiresAt", "refreshes")}
            for t in ctx.store.state.all(TOKENS)
        ]
        return {"counts": dict(ctx.auth.counts), "tokens": views}

    @api.post("/_sandbox/tokens/expire")
    def expire_tokens() -> dict[str, int]:
        return {"expired": ctx.auth.expire_all()}

    @api.put("/_sandbox/users/{name}")
    def put_user(name: str, body: Password) -> dict[str, str]:
        ctx.auth.users[name] = body.password
        return {"user": name}

    return api
