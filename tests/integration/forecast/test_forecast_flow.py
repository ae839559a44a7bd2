"""forecast_publish over real HTTP: the hub's data -> snapshot -> Anaplan sandbox, on both DBs.

Figures derived by hand from the seeded hub (conftest). The plan: 4 / 16 / 20 hours a week
for Manager / Senior Consultant / Consultant x 4.33 weeks, at the STD-GBP card.

| source | rule | figure |
|---|---|---|
| C-TM actual 2026-09 | posted 12,000.00 | 12,000.00 GBP |
| C-TM actual 2026-10 | posted 15,000.00 - reversed 1,000.00 | 14,000.00 GBP |
| C-TM backlog | 100,000 - recognised 26,000 (November is open) | 74,000.00 GBP |
| C-TM plan a month | 17.32 h x 230 + 69.28 h x 175 + 86.60 h x 135 | 27,798.60 GBP |
| C-TM Nov-Feb | 27,798.60 in November and December, January takes the 18,402.80 left | |
| C-FF M1 | due 2026-10-15, overdue: the first open month | 20,000.00 USD in 2026-11 |
| C-FF M2 | due 2027-01-31 | 40,000.00 USD in 2027-01 |
| O1 pipeline | 50,000 x 90 % (Negotiation/Review) over Dec-May | 7,500.00 GBP a month |
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pshub.connectors.salesforce.mapping import id18
from pshub.domain.forecast import Category, Cause, SourceKind, diff
from pshub.domain.ids import canonical_id
from pshub.flows.forecast import PublishForecastInput, run
from pshub.store import forecast_tables as store
from pshub.store import repos

from .conftest import World, contract, open_deal, project, save_deal


def forecast_run(run_id: str, *, publish: bool = True, republish: bool = False) -> dict[str, Any]:
    inp = PublishForecastInput(
        run_id=run_id, as_of_month="2026-11", publish=publish, republish=republish
    )
    return run(inp)


def test_every_cell_sums_its_lineage_and_opens_to_the_contracts_and_deals_behind_it(
    hub_world: World,
) -> None:
    o1 = open_deal(hub_world.crm, "O1 Globex review")
    result = forecast_run("r1", publish=False)
    assert result["status"] == "completed" and result["version"] == 1
    with hub_world.hub.db.session() as s:
        snap = store.load_snapshot(s, 1)
    assert snap is not None
    data = snap.data
    for cell in data.cells:
        assert cell.amount.amount == sum((e.amount.amount for e in cell.lineage), Decimal(0))
    uk = ("UK", "ADVISORY", "2026-10", Category.ACTUAL, "GBP")
    assert data.amount(*uk) == data.amount(*uk)  # readable zero-safe accessor
    assert data.amount("UK", "ADVISORY", "2026-09", Category.ACTUAL, "GBP").amount == 12000
    october = next(c for c in data.cells if c.key == ("UK", "ADVISORY", "GBP", "2026-10", "actual"))
    assert october.amount.amount == 14000 and october.lineage[0].refs[0] == "C-TM"
    tm = [
        e
        for c in data.cells
        if c.category is Category.BACKLOG
        for e in c.lineage
        if e.refs == ("C-TM",)
    ]
    assert sum(e.amount.amount for e in tm) == Decimal("74000.00")
    assert {e.source_kind for e in tm} == {SourceKind.ASSIGNMENT}
    nov = data.amount("UK", "ADVISORY", "2026-11", Category.BACKLOG, "GBP")
    jan = data.amount("UK", "ADVISORY", "2027-01", Category.BACKLOG, "GBP")
    feb = data.amount("UK", "ADVISORY", "2027-02", Category.BACKLOG, "GBP")
    assert (nov.amount, jan.amount, feb.amount) == (
        Decimal("27798.60"),
        Decimal("18402.80"),
        Decimal(0),
    )
    assert data.amount("US", "DATA", "2026-11", Category.BACKLOG, "USD").amount == 20000
    assert data.amount("US", "DATA", "2027-01", Category.BACKLOG, "USD").amount == 40000
    dec = next(c for c in data.cells if c.key == ("UK", "ADVISORY", "GBP", "2026-12", "pipeline"))
    assert dec.amount.amount == 7500 and dec.lineage[0].source_id == hub_id(o1)
    assert any(p.endswith(".csv") for p in result["files"])


def test_publishing_the_same_snapshot_twice_leaves_one_version_in_anaplan(hub_world: World) -> None:
    open_deal(hub_world.crm, "O1 Globex review")
    first = forecast_run("p1")
    label = first["label"]
    published = first["published"]
    assert published["status"] == "published"
    cells = hub_world.cells()
    assert cells and {k[0] for k in cells} == {label}
    assert cells[(label, "UK", "ADVISORY", "Oct 26", "Recognised Revenue")] == "14000.00"
    assert cells[(label, "US", "DATA", "Nov 26", "Backlog")] == "20000.00"
    again = forecast_run("p2")  # nothing changed: the same snapshot, already published
    assert (again["version"], again["changed"]) == (1, False)
    assert again["published"]["status"] == "skipped"
    forced = forecast_run("p3", republish=True)  # uploaded again on purpose
    assert forced["published"]["status"] == "published"
    assert hub_world.cells() == cells
    with hub_world.hub.db.session() as s:
        row = store.publication(s, 1, hub_world.hub.extras["anaplan_settings"].target)
        assert row is not None and row.attempts == 2


def test_a_row_the_anaplan_lists_lack_comes_back_as_a_finding_naming_the_row_and_reason(
    hub_world: World,
) -> None:
    open_deal(
        hub_world.crm,
        "Acme Berlin rollout",
        Legal_Entity__c="DE",
        CurrencyIsoCode="EUR",
        Amount="30000",
        StageName="Proposal/Price Quote",
        Start_Date__c="2026-12-01",
        End_Date__c="2027-02-28",
    )
    result = forecast_run("x1")
    published = result["published"]
    assert published["status"] == "partial"
    rejected = published["rejected"]
    assert len(rejected) == 3  # 30,000 x 75 % over December, January, February
    first = rejected[0]["reason"]
    assert first.startswith("row ") and "(DE / ADVISORY / 2026-12 / Forecast Revenue" in first
    assert first.endswith("Item not located in Legal Entity list: DE")
    with hub_world.hub.db.session() as s:
        exc = repos.list_exceptions(s, flow="forecast_publish")
    assert len(exc) == 1 and exc[0].reason_code == "fpa.row_rejected"
    assert exc[0].amount == Decimal("22500.00") and exc[0].currency == "EUR"
    assert exc[0].legal_entity == "DE"
    assert {f["record"] for f in exc[0].findings["items"]} == {r["record"] for r in rejected}
    label = result["label"]
    assert not [k for k in hub_world.cells() if k[1] == "DE"] and any(
        k[0] == label for k in hub_world.cells()
    )


def test_snapshots_are_immutable_and_the_diff_names_a_new_deal_and_a_lost_opportunity(
    hub_world: World,
) -> None:
    o1 = open_deal(hub_world.crm, "O1 Globex review")
    assert forecast_run("d1", publish=False)["version"] == 1
    save_deal(
        hub_world.hub,
        contract("C-NEW", service_line="DATA", value=money_gbp("30000.00")),
        project("C-NEW", "GBP"),
        "ws-new",
    )
    hub_world.crm.update_opportunity(o1, {"StageName": "Closed Lost"})
    second = forecast_run("d2", publish=False)
    assert (second["version"], second["changed"]) == (2, True)
    with hub_world.hub.db.session() as s:
        old, new = store.load_snapshot(s, 1), store.load_snapshot(s, 2)
        events = store.events_after(s)
    assert old is not None and new is not None and new.previous_id == old.id
    moves = diff(old, new)
    causes = {
        (m.cause, m.source_id.split(":")[-1] if m.source_kind == "opportunity" else m.detail)
        for m in moves
    }
    assert any(c is Cause.NEW_DEAL and "C-NEW" in d for c, d in causes)
    lost = [m for m in moves if m.cause is Cause.OPPORTUNITY_CLOSED]
    assert lost and all(m.source_id == hub_id(o1) for m in lost)
    assert sum(m.delta.amount for m in lost) == -Decimal("45000.00")
    assert [e.version for e in events] == [1, 2]
    assert {c.cause for c in events[1].by_cause} >= {"new_deal", "opportunity_lost_or_closed"}
    with pytest.raises(DBAPIError), hub_world.hub.db.session() as s:
        s.execute(text("UPDATE forecast_snapshots SET as_of_month = '2020-01' WHERE version = 1"))
    with pytest.raises(DBAPIError), hub_world.hub.db.session() as s:
        s.execute(text("DELETE FROM forecast_snapshots WHERE version = 1"))


def hub_id(salesforce_id: str) -> str:
    """The canonical id the hub gives a Salesforce opportunity (its lineage id)."""
    return canonical_id("opportunity", "salesforce", id18(salesforce_id))


def money_gbp(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "GBP"}


def test_t_and_m_backlog_follows_the_psa_assignments_when_the_project_is_staffed(
    hub_world: World,
) -> None:
    """C-ST (UK T&M, GBP 100,000, Nov-Jan) is staffed in Kantata: Alan Turing (user 2003,
    Senior Consultant, GBP 175.00 at STD-GBP) on its Design task for 60 hours. The task has no
    dates, so the work spreads over the project's 92 days by calendar days:

    | month | days | minutes (largest remainder) | hours | revenue |
    |---|---|---|---|---|
    | 2026-11 | 30 | 1,173.91 -> 1,174 | 19.57 | 3,424.75 GBP |
    | 2026-12 | 31 | 1,213.04 -> 1,213 | 20.22 | 3,538.50 GBP |
    | 2027-01 | 31 | 1,213.04 -> 1,213 | 20.22 | 3,538.50 GBP |

    C-TM's project is not in Kantata, so it stays on the staffing plan (unnamed demand)."""
    from datetime import date

    from pshub.domain.money import Money
    from pshub.domain.projects import Project, Task

    staffed = Project(
        id="prj-C-ST",
        contract_id="C-ST",
        name="C-ST",
        template="TPL-ADVISORY",
        legal_entity="UK",
        currency="GBP",
        budget=Money.of("100000.00", "GBP"),
        start_date=date(2026, 11, 1),
        end_date=date(2027, 1, 31),
        tasks=(Task(id="task-C-ST-design", name="Design"),),
    )
    ref = hub_world.psa.upsert_project(staffed, "Globex")
    aid = hub_world.psa.assign(ref.task_ids["task-C-ST-design"], "2003", 3600)
    body = contract("C-ST", start_date="2026-11-01", end_date="2027-01-31")
    save_deal(hub_world.hub, body, project("C-ST", "GBP"), ref.project_id)
    result = forecast_run("staffed", publish=False)
    assert result["status"] == "completed"
    with hub_world.hub.db.session() as s:
        snap = store.load_snapshot(s, result["version"])
    assert snap is not None
    lineage = {
        (c.month, e.source_id): e.amount.amount
        for c in snap.data.cells
        if c.category is Category.BACKLOG
        for e in c.lineage
        if e.refs == ("C-ST",)
    }
    assert lineage == {
        ("2026-11", f"psa:{aid}:2026-11"): Decimal("3424.75"),
        ("2026-12", f"psa:{aid}:2026-12"): Decimal("3538.50"),
        ("2027-01", f"psa:{aid}:2027-01"): Decimal("3538.50"),
    }
    plan = [
        e.source_id
        for c in snap.data.cells
        for e in c.lineage
        if e.refs == ("C-TM",) and c.category is Category.BACKLOG
    ]
    assert plan and all(sid.startswith("plan:C-TM:") for sid in plan)
