"""What the Anaplan sandbox serves: workspaces, models, their lists, modules, imports, exports.

Ids follow the vendor's formats (Integration API v2 parameters): workspace ids are 32 lowercase
hex characters, model ids 32 uppercase hex, modules ``102…``, imports ``112…``, import source
files ``113…``, exports ``116…`` (the export's output file shares the export's id).

A module has dimension columns (each a list of the model, or its time dimension) and numeric
line items. An import reads a file whose header names those columns (mapped by name, as
Anaplan auto-matches same-named source columns) and writes one cell per dimension combination.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_SPEC = ConfigDict(extra="forbid")


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_labels(first_year: int, years: int) -> list[str]:
    """Anaplan's default month labels (``Jan 25``) for ``years`` calendar years."""
    return [
        f"{name} {year % 100:02d}"
        for year in range(first_year, first_year + years)
        for name in MONTHS
    ]


class ModuleSpec(BaseModel):
    """A module: dimension columns (lists or time) and numeric line items."""

    model_config = _SPEC

    id: str = Field(pattern=r"^102\d{9}$")
    name: str
    dimensions: list[str] = Field(min_length=1)
    line_items: list[str] = Field(min_length=1)


class ImportSpec(BaseModel):
    """A file-based module import: the file it reads and the module it writes."""

    model_config = _SPEC

    id: str = Field(pattern=r"^112\d{9}$")
    name: str
    file_id: str = Field(pattern=r"^113\d{9}$")
    file_name: str
    module_id: str


class ExportSpec(BaseModel):
    """A tabular export of every cell of a module (TABULAR_MULTI_COLUMN)."""

    model_config = _SPEC

    id: str = Field(pattern=r"^116\d{9}$")
    name: str
    module_id: str


class ListSpec(BaseModel):
    """The items of a list; ``None`` accepts any non-blank name (an open, numbered list)."""

    model_config = _SPEC

    items: list[str] | None


class ModelSpec(BaseModel):
    model_config = _SPEC

    id: str = Field(pattern=r"^[0-9A-F]{32}$")
    name: str
    lists: dict[str, list[str] | None]
    time_dimension: str = "Month"
    months: list[str] = Field(default_factory=lambda: month_labels(2024, 5))
    modules: list[ModuleSpec]
    imports: list[ImportSpec]
    exports: list[ExportSpec] = []

    def module(self, module_id: str) -> ModuleSpec | None:
        return next((m for m in self.modules if m.id == module_id), None)


class WorkspaceSpec(BaseModel):
    model_config = _SPEC

    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    name: str
    models: list[ModelSpec]


class SandboxSettings(BaseModel):
    """Live knobs, changed through ``PUT /_sandbox/settings``."""

    import_seconds: float = Field(0.2, ge=0)  # how long an import task stays IN_PROGRESS
    busy_retry_after: int = Field(1, ge=0)  # Retry-After on the 409 "model busy" answer
    token_ttl_seconds: float = Field(35 * 60, gt=0)  # the vendor's 35-minute token lifetime


DEFAULT_WORKSPACE_ID = "8a81b09e5f2c4d7a9b3c6d8e0f1a2b3c"
DEFAULT_WORKSPACE_NAME = "Northwind FP&A"
DEFAULT_MODEL_ID = "75A40874E6B64FA3AE0743278996850F"
DEFAULT_MODEL_NAME = "Revenue Forecast"
DEFAULT_MODULE_ID = "102000000001"
DEFAULT_MODULE_NAME = "REV01 Revenue Forecast"
DEFAULT_IMPORT_ID = "112000000001"
DEFAULT_IMPORT_NAME = "REV01 Revenue Forecast from pshub_forecast.csv"
DEFAULT_FILE_ID = "113000000001"
DEFAULT_FILE_NAME = "pshub_forecast.csv"
DEFAULT_EXPORT_ID = "116000000001"
DEFAULT_EXPORT_NAME = "REV01 Revenue Forecast - pshub_export.csv"
DIMENSIONS = ["Snapshot", "Legal Entity", "Service Line", "Month", "Category"]
LINE_ITEMS = ["Amount"]
CATEGORIES = [
    "Recognised Revenue",
    "Forecast Revenue",
    "Billings",
    "Backlog",
    "Unbilled Receivable",
    "Deferred Revenue",
    "Cost",
]


def default_workspaces() -> list[WorkspaceSpec]:
    """One workspace with the revenue forecast model pshub publishes to."""
    model = ModelSpec(
        id=DEFAULT_MODEL_ID,
        name=DEFAULT_MODEL_NAME,
        lists={
            "Snapshot": None,
            "Legal Entity": ["US", "UK", "SG"],
            "Service Line": ["ERP-IMPL", "ADVISORY", "MANAGED", "DATA"],
            "Category": list(CATEGORIES),
        },
        modules=[
            ModuleSpec(
                id=DEFAULT_MODULE_ID,
                name=DEFAULT_MODULE_NAME,
                dimensions=list(DIMENSIONS),
                line_items=list(LINE_ITEMS),
            )
        ],
        imports=[
            ImportSpec(
                id=DEFAULT_IMPORT_ID,
                name=DEFAULT_IMPORT_NAME,
                file_id=DEFAULT_FILE_ID,
                file_name=DEFAULT_FILE_NAME,
                module_id=DEFAULT_MODULE_ID,
            )
        ],
        exports=[
            ExportSpec(id=DEFAULT_EXPORT_ID, name=DEFAULT_EXPORT_NAME, module_id=DEFAULT_MODULE_ID)
        ],
    )
    return [WorkspaceSpec(id=DEFAULT_WORKSPACE_ID, name=DEFAULT_WORKSPACE_NAME, models=[model])]
