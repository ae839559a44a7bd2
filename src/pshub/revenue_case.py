"""Revenue case files (YAML) -> the revenue engine's inputs, and results -> plain JSON.

Errors name the offending field path, e.g. ``activity[3].cost_incurred``. Amounts are
strings (or integers) so that they stay exact Decimals; floats are refused. The format is
documented in docs/revenue.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pshub.domain.money import Money
from pshub.domain.revenue import RevenueCase, RevenueInputError, RevenueResult, run_contract


class CaseError(ValueError):
    """A case file that cannot be read or computed; ``field`` is the input path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def field_path(loc: tuple[int | str, ...]) -> str:
    """('activity', 3, 'cost_incurred') -> 'activity[3].cost_incurred'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part and not str(part).startswith(("function-", "json-or-python")):
            out += f".{part}" if out else str(part)
    return out


def parse_case(data: object) -> RevenueCase:
    """Validate a loaded document into a :class:`RevenueCase`."""
    if not isinstance(data, dict):
        raise CaseError("", "a case file is a mapping with currency, periods, contract, activity")
    try:
        return RevenueCase.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CaseError(field_path(tuple(first["loc"])), message) from exc


def load_case(path: Path) -> RevenueCase:
    """Read and validate a YAML case file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CaseError("", f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise CaseError("", f"{path} is not valid YAML: {exc}") from exc
    return parse_case(data)


def run_case(path: Path) -> RevenueResult:
    """Load, validate and run a case file; engine input errors become :class:`CaseError`."""
    case = load_case(path)
    try:
        return run_contract(case)
    except RevenueInputError as exc:
        raise CaseError(exc.field, exc.message) from exc


def _plain(value: Any) -> Any:
    """Money -> its amount as a string; containers recursively."""
    if isinstance(value, Money):
        return str(value.amount)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def result_to_dict(result: RevenueResult) -> dict[str, Any]:
    """A JSON-ready dict: amounts are strings in ``currency``; nothing is a float."""
    periods = []
    for p in result.periods:
        periods.append(
            {
                "period": p.period,
                "revenue_by_obligation": _plain(p.revenue_by_obligation),
                "revenue": _plain(p.revenue),
                "cumulative_revenue": _plain(p.cumulative_revenue),
                "billed": _plain(p.billed),
                "collected": _plain(p.collected),
                "cumulative_billed": _plain(p.cumulative_billed),
                "cumulative_collected": _plain(p.cumulative_collected),
                "receivable": _plain(p.receivable),
                "contract_asset": _plain(p.contract_asset),
                "contract_liability": _plain(p.contract_liability),
                "transaction_price": _plain(p.transaction_price),
                "modifications": [
                    {
                        "treatment": m.treatment.value,
                        "forced": m.forced,
                        "reason": m.reason,
                        "allocation": [_line(a) for a in m.allocation],
                    }
                    for m in p.modifications
                ],
                "journal_entries": [
                    {
                        "kind": e.kind.value,
                        "memo": e.memo,
                        "lines": [
                            {
                                "account": ln.account.value,
                                "debit": _plain(ln.debit),
                                "credit": _plain(ln.credit),
                                "obligation": ln.obligation,
                            }
                            for ln in e.lines
                        ],
                    }
                    for e in p.entries
                ],
            }
        )
    return {
        "currency": result.currency,
        "transaction_price": _plain(result.transaction_price),
        "variable_included": _plain(result.variable_included),
        "variable_constrained": _plain(result.variable_constrained),
        "policy": {"progress_decimals": result.policy.progress_decimals},
        "allocation": [_line(a) for a in result.allocation],
        "periods": periods,
        "findings": [
            _plain(f.model_dump(mode="python", exclude_none=True)) for f in result.findings
        ],
    }


def _line(a: Any) -> dict[str, Any]:
    return {
        "obligation": a.obligation,
        "standalone_price": _plain(a.standalone_price),
        "allocated": _plain(a.allocated),
        "basis": a.basis.value,
    }
