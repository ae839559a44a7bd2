"""A faithful local stand-in for Anaplan's authentication service and Integration API v2."""

from pshub.sandboxes.anaplan.app import create_app
from pshub.sandboxes.anaplan.config import (
    ExportSpec,
    ImportSpec,
    ModelSpec,
    ModuleSpec,
    SandboxSettings,
    WorkspaceSpec,
    default_workspaces,
)

__all__ = [
    "ExportSpec",
    "ImportSpec",
    "ModelSpec",
    "ModuleSpec",
    "SandboxSettings",
    "WorkspaceSpec",
    "create_app",
    "default_workspaces",
]
