"""The import rule: dependencies point inward (checked by walking the AST)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "pshub"
OUTER = {
    "sqlalchemy",
    "httpx",
    "fastapi",
    "dbos",
    "requests",
    "starlette",
    "uvicorn",
    "simple_salesforce",
    "alembic",
    "typer",
    "rich",
    "yaml",
    "structlog",
    "prometheus_client",
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_imports_only_stdlib_decimal_pydantic_and_itself() -> None:
    for path in (SRC / "domain").rglob("*.py"):
        for name in imports(path):
            top = name.split(".")[0]
            assert top not in OUTER, f"{path.relative_to(SRC)} imports {name}"
            if top == "pshub":
                assert name.startswith("pshub.domain"), f"{path.relative_to(SRC)} imports {name}"


def test_domain_has_no_floats_clock_or_randomness() -> None:
    for path in (SRC / "domain").rglob("*.py"):
        text = path.read_text()
        for banned in (
            "float(",
            ": float",
            "-> float",
            "datetime.now",
            "date.today",
            "uuid4",
            "import random",
            "time.time",
        ):
            assert banned not in text, f"{path.relative_to(SRC)} uses {banned}"


def test_connectors_do_not_import_flows_store_or_api() -> None:
    for path in (SRC / "connectors").rglob("*.py"):
        for name in imports(path):
            for layer in ("pshub.flows.deal", "pshub.store", "pshub.api", "pshub.bootstrap"):
                assert not name.startswith(layer), f"{path.relative_to(SRC)} imports {name}"


def test_flows_do_not_import_vendor_clients_or_http() -> None:
    for path in (SRC / "flows").rglob("*.py"):
        for name in imports(path):
            top = name.split(".")[0]
            assert top not in {"httpx", "requests", "simple_salesforce", "fastapi"}, (
                f"{path.relative_to(SRC)} imports {name}"
            )
            assert not name.startswith("pshub.connectors.") or name in {
                "pshub.connectors.errors",
                "pshub.connectors.retry",
            }, f"{path.relative_to(SRC)} imports {name}"
