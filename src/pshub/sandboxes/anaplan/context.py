"""What every Anaplan sandbox route needs: the store, the task runner, auth and live settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pshub.sandboxes.anaplan.auth import AuthService
from pshub.sandboxes.anaplan.config import ModelSpec, SandboxSettings
from pshub.sandboxes.anaplan.store import AnaplanStore
from pshub.sandboxes.anaplan.tasks import TaskRunner
from pshub.sandboxes.anaplan.wire import not_found


@dataclass
class Context:
    store: AnaplanStore
    runner: TaskRunner
    auth: AuthService
    settings: SandboxSettings = field(default_factory=SandboxSettings)

    def model(self, workspace_id: str, model_id: str) -> ModelSpec:
        """The model, 404 unless it lives in that workspace (Anaplan's NotFoundOrNoAccess)."""
        self.store.workspace(workspace_id)
        return self.store.model(model_id, workspace_id)

    def file_meta(self, workspace_id: str, model_id: str, file_id: str) -> dict[str, Any]:
        self.model(workspace_id, model_id)
        meta = self.store.file(model_id, file_id)
        if meta is None:
            raise not_found(f"file {file_id}")
        return meta
