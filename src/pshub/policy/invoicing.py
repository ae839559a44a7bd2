"""Invoicing policy (``invoicing.yaml``): acceptance, milestone order, terms, ERP item and tax ids,
and the T&M invoice grouping (``tm_invoicing``).

Validated strictly; every problem names the file and the field path. A policy directory made
before this file existed falls back to the built-in default, so upgrading needs no edit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pshub.domain.invoicing import InvoicingRules
from pshub.domain.tm_invoicing import Grouping, PurchaseOrder, TmInvoicingRules
from pshub.policy.loader import DEFAULT_POLICY_DIR, PolicyError, PolicyInvalid

FILE = "invoicing.yaml"
_STRICT = ConfigDict(extra="forbid", frozen=True)


class _Acceptance(BaseModel):
    model_config = _STRICT
    service_lines: list[str] = []
    contracts: list[str] = []


class _PurchaseOrder(BaseModel):
    model_config = _STRICT
    number: str = Field(min_length=1)
    valid_from: date


class _TmInvoicing(BaseModel):
    """``tm_invoicing``: how posted time and expenses are grouped into invoices."""

    model_config = _STRICT
    grouping: Grouping = Grouping.PER_PROJECT
    service_lines: dict[str, Grouping] = {}
    contracts: dict[str, Grouping] = {}
    purchase_orders: dict[str, list[_PurchaseOrder]] = {}
    time_item_id: str = Field("1", pattern=r"^\d+$")
    expense_item_id: str = Field("2", pattern=r"^\d+$")

    @model_validator(mode="after")
    def _po_contracts_have_orders(self) -> _TmInvoicing:
        for contract, grouping in self.contracts.items():
            if grouping is Grouping.PER_PO and not self.purchase_orders.get(contract):
                raise ValueError(
                    f"contracts.{contract}: per_po needs purchase_orders for the contract"
                )
        return self

    def rules(self) -> TmInvoicingRules:
        return TmInvoicingRules(
            default_grouping=self.grouping,
            service_lines=dict(self.service_lines),
            contracts=dict(self.contracts),
            purchase_orders={
                c: tuple(PurchaseOrder(number=p.number, valid_from=p.valid_from) for p in pos)
                for c, pos in self.purchase_orders.items()
            },
            time_item_id=self.time_item_id,
            expense_item_id=self.expense_item_id,
        )


class InvoicingFile(BaseModel):
    model_config = _STRICT
    acceptance_required: _Acceptance = _Acceptance()
    require_prior_milestone_invoiced: bool = True
    payment_terms_days: int = Field(30, ge=0, le=365)
    invoice_item_id: str = Field("3", pattern=r"^\d+$")
    pending_approval: bool = False
    tax_code_ids: dict[str, str] = {}
    tm_invoicing: _TmInvoicing = _TmInvoicing()

    @field_validator("tax_code_ids")
    @classmethod
    def _ids(cls, value: dict[str, str]) -> dict[str, str]:
        for code, internal in value.items():
            if not str(internal).isdigit():
                raise ValueError(f"{code}: {internal!r} is not an ERP internal id (digits)")
        return value


def policy_file(directory: Path | str | None) -> Path:
    """The invoicing file of ``directory``, or the built-in one when it has none."""
    path = Path(directory or DEFAULT_POLICY_DIR) / FILE
    return path if path.exists() else DEFAULT_POLICY_DIR / FILE


def check_invoicing(
    directory: Path | str | None,
) -> tuple[InvoicingRules | None, list[PolicyError]]:
    """The rules (None when invalid) and every error found."""
    path = policy_file(directory)
    try:
        data: Any = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        return None, [PolicyError(FILE, "", f"cannot be read: {exc}")]
    try:
        parsed = InvoicingFile.model_validate(data)
    except ValidationError as exc:
        return None, [PolicyError(FILE, _loc(e["loc"]), e["msg"]) for e in exc.errors()]
    return to_rules(parsed), []


def load_invoicing(directory: Path | str | None = None) -> InvoicingRules:
    """Load the rules or raise :class:`PolicyInvalid` listing every error."""
    rules, errors = check_invoicing(directory)
    if rules is None:
        raise PolicyInvalid(errors)
    return rules


def to_rules(parsed: InvoicingFile) -> InvoicingRules:
    return InvoicingRules(
        acceptance_service_lines=frozenset(parsed.acceptance_required.service_lines),
        acceptance_contracts=frozenset(parsed.acceptance_required.contracts),
        require_prior_invoiced=parsed.require_prior_milestone_invoiced,
        payment_terms_days=parsed.payment_terms_days,
        invoice_item_id=parsed.invoice_item_id,
        pending_approval=parsed.pending_approval,
        tax_code_ids=dict(parsed.tax_code_ids),
        tm=parsed.tm_invoicing.rules(),
    )


def _loc(parts: tuple[int | str, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
