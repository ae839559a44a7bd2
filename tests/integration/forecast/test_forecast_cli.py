"""`pshub forecast backtest | show | chart` on a history stored by the flow, on both DBs.

History: snapshots as of September, October and November 2026 (forecast_history), closed
through October. Derived by hand (no pipeline; C-TM plans 27,798.60 GBP a month, C-FF's
milestone M1 of 20,000.00 USD is due in October and nothing is recognised in USD):

| horizon | ccy | points (F vs A) | MAPE % | bias % |
|---|---|---|---:|---:|
| 1 | GBP | Sep 27,798.60 vs 12,000; Oct 27,798.60 vs 14,000 | 115.11 | 113.84 |
| 2 | GBP | Oct (made in Sep) 27,798.60 vs 14,000 | 98.56 | 98.56 |
| 1 | USD | Oct 20,000 vs 0: no percentage error | n/a | n/a |

MAPE h1 = 100 x (15,798.60 / 12,000 + 13,798.60 / 14,000) / 2 = 115.11;
bias h1 = 100 x (15,798.60 + 13,798.60) / 26,000 = 113.84.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pshub.flows.forecast import forecast_history
from pshub.forecast_cli import app

from .conftest import World


def cli(hub_world: World, *args: str) -> str:
    env = {
        "PSHUB_DATABASE_URL": hub_world.hub.settings.resolved_database_url(),
        "PSHUB_DATA_DIR": str(hub_world.data_dir),
    }
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_backtest_prints_mape_and_bias_per_horizon_and_the_chart_stacks_three_categories(
    hub_world: World, tmp_path: object
) -> None:
    forecast_history(None, ["2026-09", "2026-10", "2026-11"])
    body = json.loads(cli(hub_world, "backtest", "--json"))
    assert body["closed_through"] == "2026-10" and body["snapshots"] == 3
    got = {(h["horizon"], h["currency"]): (h["mape"], h["bias"]) for h in body["by_horizon"]}
    assert got[(1, "GBP")] == ("115.11", "113.84")
    assert got[(2, "GBP")] == ("98.56", "98.56")
    assert got[(1, "USD")] == (None, None)
    text = cli(hub_world, "backtest")
    assert "MAPE %" in text and "115.11" in text
    table = cli(hub_world, "show", "--currency", "GBP")
    assert "2026-11" in table and "backlog" in table
    svg = hub_world.data_dir / "chart.svg"
    cli(hub_world, "chart", "--out", str(svg))
    drawing = svg.read_text()
    assert drawing.startswith("<svg") and all(
        k in drawing for k in ("actual", "backlog", "pipeline")
    )
