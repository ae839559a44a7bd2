"""`pshub revenue run` on case files, through Typer's CliRunner on the sub-app."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from pshub.revenue_cli import app

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples" / "revenue"
runner = CliRunner()


def test_the_published_example_case_prints_its_revenue_as_json() -> None:
    result = runner.invoke(
        app, ["run", str(EXAMPLES / "asc606-example19-uninstalled-materials.yaml"), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["periods"][0]["revenue"] == "2200000.00"
    assert data["periods"][0]["contract_asset"] == "2200000.00"


def test_every_example_case_runs_with_and_without_json() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        as_json = runner.invoke(app, ["run", str(path), "--json"])
        assert as_json.exit_code == 0, (path, as_json.output)
        data = json.loads(as_json.output)
        assert {"allocation", "periods", "findings", "currency"} <= set(data)
        for period in data["periods"]:
            for entry in period["journal_entries"]:
                debit = sum(Decimal(line["debit"]) for line in entry["lines"])
                assert debit == sum(Decimal(line["credit"]) for line in entry["lines"])
        tables = runner.invoke(app, ["run", str(path)])
        assert tables.exit_code == 0, (path, tables.output)
        assert "Journal entries" in tables.output


def test_json_entries_carry_explicit_debit_and_credit_strings() -> None:
    result = runner.invoke(
        app, ["run", str(EXAMPLES / "asc606-example38-contract-liability.yaml"), "--json"]
    )
    entry = json.loads(result.output)["periods"][0]["journal_entries"][0]
    assert entry["lines"] == [
        {"account": "Receivable", "debit": "1000.00", "credit": "0.00", "obligation": None},
        {"account": "Contract liability", "debit": "0.00", "credit": "1000.00", "obligation": None},
    ]


def test_a_bad_case_file_gets_an_error_naming_the_field(tmp_path: Path) -> None:
    case = tmp_path / "bad.yaml"
    case.write_text(
        "currency: USD\nperiods: [Y1]\ncontract:\n  price: '100'\n"
        "  obligations: [{id: build, method: percent_complete}]\n"
        "activity:\n  - {period: Y1, obligation: build, cost_incurred: 12.5,"
        " estimated_total_cost: '10'}\n"
    )
    result = runner.invoke(app, ["run", str(case), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.output)["error"]["field"] == "activity[0].cost_incurred"


def test_an_engine_refusal_also_names_the_field(tmp_path: Path) -> None:
    case = tmp_path / "bad.yaml"
    case.write_text(
        "currency: USD\nperiods: [Y1]\ncontract:\n  price: '100'\n"
        "  obligations: [{id: build, method: percent_complete}]\n"
        "activity:\n  - {period: Y7, billed: '10'}\n"
    )
    result = runner.invoke(app, ["run", str(case)])
    assert result.exit_code == 2
    assert "activity[0].period" in result.output


def test_an_unknown_field_is_named(tmp_path: Path) -> None:
    case = tmp_path / "bad.yaml"
    case.write_text(
        "currency: USD\nperiods: [Y1]\ncontract:\n  price: '100'\n"
        "  obligations: [{id: build, method: percent_complete, colour: red}]\n"
    )
    result = runner.invoke(app, ["run", str(case), "--json"])
    assert json.loads(result.output)["error"]["field"] == "contract.obligations[0].colour"
