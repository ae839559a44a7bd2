"""The Anaplan sandbox's records in the shared :class:`SandboxState` document store.

Collections: ``anaplan_workspaces``, ``anaplan_models`` (a :class:`ModelSpec` plus its
workspace), ``anaplan_files`` (metadata; key ``model:file``), ``anaplan_chunks`` (one document
per uploaded chunk), ``anaplan_tasks``, ``anaplan_cells`` (key ``model|module|dim values``, so
importing the same cell again overwrites it) and ``anaplan_dumps`` (the failure dump of the
latest task per import). Seeding never overwrites what a persisted state already holds.
"""

from __future__ import annotations

import base64
from typing import Any

from pshub.sandboxes.anaplan.config import ModelSpec, WorkspaceSpec
from pshub.sandboxes.anaplan.wire import not_found
from pshub.sandboxes.base import SandboxState

WORKSPACES = "anaplan_workspaces"
MODELS = "anaplan_models"
FILES = "anaplan_files"
CHUNKS = "anaplan_chunks"
TASKS = "anaplan_tasks"
CELLS = "anaplan_cells"
DUMPS = "anaplan_dumps"
CELL_KEY_SEPARATOR = "\x1f"  # unit separator: cannot occur in a CSV cell pshub writes


class AnaplanStore:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    # -- seeding and configuration ------------------------------------------------------
    def seed(self, workspaces: list[WorkspaceSpec]) -> None:
        with self.state.transaction():
            for ws in workspaces:
                if self.state.get(WORKSPACES, ws.id) is None:
                    self.state.put(WORKSPACES, ws.id, {"id": ws.id, "name": ws.name})
                for model in ws.models:
                    if self.state.get(MODELS, model.id) is None:
                        self.save_model(ws.id, model)

    def save_model(self, workspace_id: str, model: ModelSpec) -> None:
        """Store the model definition and make sure every import's source file exists."""
        with self.state.transaction():
            self.state.put(MODELS, model.id, {"workspace_id": workspace_id, **model.model_dump()})
            for spec in model.imports:
                if self.file(model.id, spec.file_id) is None:
                    self.put_file(model.id, _empty_file(spec.file_id, spec.file_name))

    def workspaces(self) -> list[dict[str, Any]]:
        return self.state.all(WORKSPACES)

    def workspace(self, workspace_id: str) -> dict[str, Any]:
        found = self.state.get(WORKSPACES, workspace_id)
        if found is None:
            raise not_found(f"workspace {workspace_id}")
        return found

    def models(self, workspace_id: str | None = None) -> list[tuple[str, ModelSpec]]:
        docs = self.state.all(MODELS)
        pairs = [(d.pop("workspace_id"), ModelSpec.model_validate(d)) for d in docs]
        return [(w, m) for w, m in pairs if workspace_id in (None, w)]

    def model(self, model_id: str, workspace_id: str | None = None) -> ModelSpec:
        doc = self.state.get(MODELS, model_id)
        if doc is None or workspace_id not in (None, doc["workspace_id"]):
            raise not_found(f"model {model_id}")
        doc.pop("workspace_id")
        return ModelSpec.model_validate(doc)

    def workspace_of(self, model_id: str) -> str:
        doc = self.state.get(MODELS, model_id)
        if doc is None:
            raise not_found(f"model {model_id}")
        return str(doc["workspace_id"])

    # -- files and chunks ----------------------------------------------------------------
    def files(self, model_id: str) -> list[dict[str, Any]]:
        return [f for f in self.state.all(FILES) if f["model"] == model_id]

    def file(self, model_id: str, file_id: str) -> dict[str, Any] | None:
        return self.state.get(FILES, f"{model_id}:{file_id}")

    def put_file(self, model_id: str, meta: dict[str, Any]) -> None:
        self.state.put(FILES, f"{model_id}:{meta['id']}", {**meta, "model": model_id})

    def put_chunk(self, model_id: str, file_id: str, index: int, data: bytes) -> None:
        body = {"model": model_id, "file": file_id, "n": index, "data": _b64(data)}
        self.state.put(CHUNKS, f"{model_id}:{file_id}:{index}", body)

    def chunk(self, model_id: str, file_id: str, index: int) -> bytes | None:
        doc = self.state.get(CHUNKS, f"{model_id}:{file_id}:{index}")
        return None if doc is None else base64.b64decode(doc["data"])

    def chunk_indexes(self, model_id: str, file_id: str) -> list[int]:
        docs = self.state.find(CHUNKS, model=model_id, file=file_id)
        return sorted(int(d["n"]) for d in docs)

    def drop_chunks(self, model_id: str, file_id: str) -> None:
        for index in self.chunk_indexes(model_id, file_id):
            self.state.delete(CHUNKS, f"{model_id}:{file_id}:{index}")

    def content(self, model_id: str, file_id: str) -> bytes:
        """The file's bytes: its chunks concatenated in order."""
        parts = (self.chunk(model_id, file_id, i) for i in self.chunk_indexes(model_id, file_id))
        return b"".join(p for p in parts if p is not None)

    def write_file(self, model_id: str, meta: dict[str, Any], data: bytes, chunk_size: int) -> None:
        """Replace a file's content in one go (export output), split into chunks."""
        self.drop_chunks(model_id, meta["id"])
        pieces = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] or [b""]
        for index, piece in enumerate(pieces):
            self.put_chunk(model_id, meta["id"], index, piece)
        self.put_file(model_id, {**meta, "chunkCount": len(pieces), "complete": True})

    # -- tasks, cells, dumps ---------------------------------------------------------------
    def tasks(self, model_id: str) -> list[dict[str, Any]]:
        return self.state.find(TASKS, model=model_id)

    def task(self, model_id: str, object_id: str, task_id: str) -> dict[str, Any]:
        doc = self.state.get(TASKS, task_id)
        if doc is None or doc["model"] != model_id or doc["objectId"] != object_id:
            raise not_found(f"task {task_id}")
        return doc

    def put_task(self, task: dict[str, Any]) -> None:
        self.state.put(TASKS, task["taskId"], task)

    def put_cell(
        self, model_id: str, module_id: str, dims: dict[str, str], values: dict[str, str]
    ) -> None:
        ordered = [dims[name] for name in sorted(dims)]  # the same key whatever the column order
        key = CELL_KEY_SEPARATOR.join([model_id, module_id, *ordered])
        body = {"model": model_id, "module": module_id, "dimensions": dims, "values": values}
        self.state.put(CELLS, key, body)

    def cells(self, model_id: str, module_id: str | None = None) -> list[dict[str, Any]]:
        docs = self.state.find(CELLS, model=model_id)
        return [d for d in docs if module_id in (None, d["module"])]

    def put_dump(self, model_id: str, import_id: str, task_id: str, text: str | None) -> None:
        key = f"{model_id}:{import_id}"
        if text is None:
            self.state.delete(DUMPS, key)  # a clean run removes the earlier dump
        else:
            self.state.put(DUMPS, key, {"taskId": task_id, "csv": text})

    def dump(self, model_id: str, import_id: str, task_id: str) -> str | None:
        doc = self.state.get(DUMPS, f"{model_id}:{import_id}")
        return str(doc["csv"]) if doc and doc["taskId"] == task_id else None


def file_view(meta: dict[str, Any]) -> dict[str, Any]:
    """The ``File`` object as the API shows it (internal bookkeeping left out)."""
    hidden = {"model", "complete", "declared"}
    return {k: v for k, v in meta.items() if k not in hidden}


def _empty_file(file_id: str, name: str) -> dict[str, Any]:
    return {
        "id": file_id,
        "name": name,
        "chunkCount": 0,
        "delimiter": '"',
        "encoding": "UTF-8",
        "firstDataRow": 2,
        "format": "txt",
        "headerRow": 1,
        "separator": ",",
        "origin": "FILE_BASED",
        "complete": False,
        "declared": None,
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
