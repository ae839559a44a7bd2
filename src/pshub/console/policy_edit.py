"""The one policy edit the console offers: map a legal entity (the fix for ``entity.unmapped``).

The policy is configuration the flows read fresh on every run, so adding the entity fixes
every deal waiting on it at once; editing each deal's payload would not. The edit is written
to the data directory's policy (the built-in defaults are copied there first and never
modified), validated as a whole before it replaces the file, and audited by the caller.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from pshub.policy import DEFAULT_POLICY_DIR, load_policy
from pshub.settings import Settings

FILE = "legal_entities.yaml"


class TaxProfileMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40)
    customer_country: str = Field(pattern=r"^[A-Z]{2}$")
    rate: str = Field(pattern=r"^(0|1|0?\.\d+)$")
    erp_tax_code: str = Field(min_length=1, max_length=60)


class EntityMapping(BaseModel):
    """A legal entity of the group, as ``legal_entities.yaml`` lists it."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=120)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    erp_subsidiary_id: str = Field(min_length=1, max_length=40)
    billing_currencies: list[str] = []
    tax_profiles: list[TaxProfileMapping] = []


def writable_policy_dir(settings: Settings) -> Path:
    """Where edits go: the configured policy dir, else ``data_dir/policy`` (seeded from the
    defaults so the other policy files stay as they were)."""
    if settings.policy_dir:
        return settings.policy_dir
    target = settings.data_dir / "policy"
    if not target.exists():
        shutil.copytree(DEFAULT_POLICY_DIR, target)
    return target


def add_legal_entity(settings: Settings, mapping: EntityMapping) -> tuple[Path, Any]:
    """Add or replace the entity ``mapping.code``; returns the file and the entry before."""
    folder = writable_policy_dir(settings)
    path = folder / FILE
    text = path.read_text()
    data = yaml.safe_load(text) or {}
    entities: list[dict[str, Any]] = list(data.get("entities") or [])
    before = next((e for e in entities if e.get("code") == mapping.code), None)
    entry = mapping.model_dump(mode="json", exclude_defaults=True)
    entry.setdefault("billing_currencies", [mapping.currency])
    entities = [e for e in entities if e.get("code") != mapping.code] + [entry]
    header = "".join(line for line in text.splitlines(True) if line.startswith("#"))
    body = header + yaml.safe_dump({**data, "entities": entities}, sort_keys=False)
    _validate_then_replace(folder, path, body)
    return path, before


def _validate_then_replace(folder: Path, path: Path, body: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        trial = Path(tmp) / "policy"
        shutil.copytree(folder, trial)
        (trial / FILE).write_text(body)
        try:
            load_policy(trial)
        except Exception as exc:  # PolicyInvalid names the file and field
            raise ValueError(f"policy: {exc}") from exc
    staged = path.with_suffix(".yaml.new")
    staged.write_text(body)
    os.replace(staged, path)  # atomic: a flow never reads half a file
