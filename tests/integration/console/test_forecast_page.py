"""The forecast page over real HTTP, on both DBs.

Two histories: the forecast flow run on the forecast tests' seeded hub (as of September,
October and November 2026: the backtest figures are derived in
``tests/integration/forecast/test_forecast_cli.py``), and the worked example of
``docs/forecast.md`` stored through the store's functions, then revised (a slipped milestone
and a new opportunity) so the movements have named causes.

Worked example as of 2025-03, v1 -> v2: milestone M2 of C2 (ADVISORY, 12,000.00) slips
from May to April; opportunity O4 (Negotiation, 75 %, 8,000.00 over April and May) is new:
3,000.00 a month in each, 6,000.00 in all. Unstaffed demand: 1,200.00 (April) + 600.00
(May) = 1,800.00 GBP at risk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import urlencode

import httpx

from pshub.domain.forecast import ForecastInputs, ForecastSnapshot, forecast, take_snapshot
from pshub.flows.forecast import forecast_history
from pshub.store import forecast_tables as store
from tests.integration.console.conftest import Console, login
from tests.integration.forecast.conftest import seed_hub
from tests.unit.forecast.example import opportunity, worked_example


def store_snapshot(
    console: Console, inputs: ForecastInputs, previous: ForecastSnapshot | None
) -> ForecastSnapshot:
    snapshot = take_snapshot(forecast(inputs, "2025-03", 3), previous)
    with console.c.db.session() as s:
        store.add_snapshot(
            s,
            snapshot,
            run_id=f"test:v{snapshot.version}",
            created_at=datetime(2025, 3, snapshot.version, 9, 30, tzinfo=UTC),
            notes={},
        )
    return snapshot


def revised(inputs: ForecastInputs) -> ForecastInputs:
    """M2 of C2 slips from May to April; a new opportunity O4 enters the pipeline."""
    c2 = next(c for c in inputs.contracts if c.id == "C2")
    milestones = tuple(
        m.model_copy(update={"due_date": date(2025, 4, 20)}) if m.id == "M2" else m
        for m in c2.milestones
    )
    contracts = tuple(
        c.model_copy(update={"milestones": milestones}) if c.id == "C2" else c
        for c in inputs.contracts
    )
    o4 = opportunity("O4", "ADVISORY", "Negotiation", "8000", date(2025, 4, 1), 2)
    return inputs.model_copy(
        update={"contracts": contracts, "opportunities": (*inputs.opportunities, o4)}
    )


@contextmanager
def viewer(console: Console) -> Iterator[httpx.Client]:
    """A browser session of a viewer (the lowest role that reads)."""
    with console.client() as client:
        login(client, "victor")
        yield client


def amounts(html: str, attr: str) -> list[Decimal]:
    return [Decimal(v) for v in re.findall(rf'data-{attr}="([^"]+)"', html)]


def test_without_a_snapshot_the_page_says_to_run_the_forecast(console: Console) -> None:
    with viewer(console) as client:
        page = client.get("/console/forecast")
    assert page.status_code == 200
    assert "No forecast yet" in page.text and "pshub forecast run" in page.text
    assert 'href="/console/forecast" class="on"' in page.text


def test_without_a_session_both_pages_send_the_browser_to_log_in(console: Console) -> None:
    store_snapshot(console, worked_example(), None)
    with console.client() as client:
        page = client.get("/console/forecast")
        cell = client.get("/console/forecast/cell?version=1")
        bad_key = client.get("/console/forecast", headers={"Authorization": "Bearer nope"})
    for response in (page, cell, bad_key):
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/login")
        assert "forecast" not in response.text.lower()


def test_a_viewer_sees_the_snapshot_its_movements_by_cause_and_the_revenue_at_risk(
    console: Console,
) -> None:
    first = store_snapshot(console, worked_example(), None)
    second = store_snapshot(console, revised(worked_example()), first)
    with viewer(console) as client:
        page = client.get("/console/forecast").text
        older = client.get("/console/forecast", params={"version": 1}).text
        missing = client.get("/console/forecast", params={"version": 9})
    assert f"<code>{second.id}</code>" in page and "v2 as of 2025-03" in page
    assert "2025-03-02 09:30:00" in page and "<svg" in page and "GBP" in page
    # The table: UK / CLOUD / 2025-04 backlog of the worked example, thousands separated.
    assert "33,733.34 GBP" in page and "weighted pipeline" in page
    # Movements grouped by cause, with their net change.
    assert "Slipped milestone" in page and "New deal" in page
    assert "6,000.00 GBP" in page  # O4: 3,000.00 in April and in May
    # Revenue at risk from unstaffed demand: April 1,200.00 + May 600.00.
    assert "1,800.00 GBP" in page and "1,200.00 GBP" in page
    # Older versions open from the select; v1 has nothing to compare with.
    assert '<option value="1"' in page and '<option value="2"' in page
    assert f"<code>{first.id}</code>" in older and "first snapshot" in older
    assert missing.status_code == 404


def test_the_lineage_of_a_cell_lists_records_that_sum_to_the_cell(console: Console) -> None:
    snapshot = store_snapshot(console, worked_example(), None)
    cell = next(c for c in snapshot.data.cells if len(c.lineage) > 1)
    query = {
        "version": 1,
        "legal_entity": cell.legal_entity,
        "service_line": cell.service_line,
        "currency": cell.amount.currency,
        "month": cell.month,
        "category": cell.category.value,
    }
    with viewer(console) as client:
        forecast_page = client.get("/console/forecast").text
        page = client.get(f"/console/forecast/cell?{urlencode(query)}")
        empty = client.get(f"/console/forecast/cell?{urlencode(query | {'month': '2031-01'})}")
    assert f"/console/forecast/cell?{urlencode(query)}".replace("&", "&amp;") in forecast_page
    assert page.status_code == 200
    listed = amounts(page.text, "amount")
    assert len(listed) == len(cell.lineage) > 1
    assert sum(listed) == cell.amount.amount == amounts(page.text, "cell")[0]
    assert amounts(page.text, "sum") == [cell.amount.amount]
    assert "the lineage sums to the cell" in page.text
    for entry in cell.lineage:
        assert f"<code>{entry.source_id}</code>" in page.text
    assert empty.status_code == 404


def test_the_flows_history_shows_actuals_landing_and_the_backtest_per_horizon(
    console: Console,
) -> None:
    seed_hub(console.c)
    forecast_history(None, ["2026-09", "2026-10", "2026-11"])
    with viewer(console) as client:
        page = client.get("/console/forecast").text
    assert "v3 as of 2026-11" in page
    assert "27,798.60 GBP" in page and "20,000.00 USD" in page  # per currency, never mixed
    assert "Actuals landed" in page
    backtest = page.split('id="backtest"', 1)[1]
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>(\w+)</td>.*?</tr>", backtest, re.S)
    assert ("1", "GBP") in rows and ("2", "GBP") in rows and ("1", "USD") in rows
    assert "115.11" in backtest and "113.84" in backtest and "98.56" in backtest
    assert "n/a" in backtest  # USD: nothing recognised, no percentage error
