"""Month-end close over real HTTP: journals in the NetSuite sandbox, the period locked.

The world: a UK milestone deal (GBP) whose first milestone, "Design sign-off" (40,000), was
accepted and invoiced. Closing its period recognises the milestone's revenue at a point in
time and books the invoice:

    | journal | account            | debit     | credit    |
    |---------|--------------------|-----------|-----------|
    | revenue | Contract asset     | 40,000.00 |           |
    | revenue | Revenue            |           | 40,000.00 |
    | billing | Receivable         | 40,000.00 |           |
    | billing | Contract asset     |           | 40,000.00 |
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pshub.close import records
from pshub.close.journals import ACCOUNT_IDS
from pshub.domain.revenue import Account
from pshub.flows import month_end_close as flow
from pshub.store import billing as billing_store
from pshub.store import repos
from tests.integration.close.conftest import ENTITY, close, journals
from tests.integration.invoicing.conftest import Deal

GBP_40K = Decimal("40000.00")


def _amount(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _lines(journal: dict[str, Any]) -> list[tuple[str, Decimal, Decimal]]:
    items = journal["line"]["items"] if isinstance(journal["line"], dict) else journal["line"]
    return [
        (str(i["account"]["id"]), _amount(i.get("debit")), _amount(i.get("credit"))) for i in items
    ]


def test_close_posts_balanced_journals_to_netsuite_and_locks_the_period(
    invoiced: tuple[Deal, str],
) -> None:
    deal, period = invoiced

    result = close(period)

    assert result["status"] == "locked"
    posted = journals(deal)
    assert len(posted) == 2
    for journal in posted:
        lines = _lines(journal)
        assert sum(d for _, d, _ in lines) == sum(c for _, _, c in lines)
    revenue = next(j for j in posted if "revenue" in j["memo"])
    assert (ACCOUNT_IDS[Account.REVENUE], Decimal(0), GBP_40K) in _lines(revenue)
    billing = next(j for j in posted if "billing" in j["memo"])
    assert (ACCOUNT_IDS[Account.RECEIVABLE], GBP_40K, Decimal(0)) in _lines(billing)
    with deal.stack.container.db.session() as s:
        assert records.is_locked(s, ENTITY, period)
        assert (ENTITY, period) in billing_store.closed_periods(s)
        [row] = [r for r in records.results_for(s, period, ENTITY) if r.revenue]
        assert (row.revenue, row.cumulative_billed, row.receivable) == (GBP_40K,) * 3
        actions = [a.action for a in repos.audit_trail(s, f"close:{ENTITY}:{period}")]
    assert "close.period.locked" in actions


def test_closing_twice_gives_the_same_journals_and_no_duplicate_in_netsuite(
    invoiced: tuple[Deal, str],
) -> None:
    deal, period = invoiced

    first = close(period)
    again = close(period)

    assert again == first
    assert len(journals(deal)) == 2
    assert len({j["externalId"] for j in journals(deal)}) == 2


def test_a_reopen_is_audited_and_the_reclose_updates_the_same_erp_journals(
    invoiced: tuple[Deal, str],
) -> None:
    deal, period = invoiced
    first = close(period)
    db = deal.stack.container.db

    with db.session() as s:
        assert records.reopen(s, ENTITY, period, "alice", "late accrual")
    with db.session() as s:
        assert not records.is_locked(s, ENTITY, period)
        assert records.revision(s, ENTITY, period) == 1
        trail = repos.audit_trail(s, f"close:{ENTITY}:{period}")
        reopened = [a for a in trail if a.action == "close.period.reopened"]
    assert [(a.actor, a.detail["reason"]) for a in reopened] == [("alice", "late accrual")]

    second = close(period, revision=1)

    assert second["workflow_id"] == flow.workflow_id_for(ENTITY, period, 1)
    assert second["posted"] == first["posted"]  # upsert by external id: same ERP records
    assert len(journals(deal)) == 2
    with db.session() as s:
        assert records.is_locked(s, ENTITY, period)


def test_an_entry_approved_for_a_closed_period_lands_in_the_next_open_period(
    invoiced: tuple[Deal, str],
) -> None:
    deal, period = invoiced
    close(period)
    policy = deal.stack.container.policy()
    year, month = int(period[:4]), int(period[5:])
    work_day = date(year, month, 10)

    with deal.stack.container.db.session() as s:
        closed = {p for e, p in billing_store.closed_periods(s) if e == ENTITY}
    calendar = policy.billing.calendar(work_day, closed)
    chosen, note = calendar.place(work_day, datetime(year, month, 11, 9, tzinfo=UTC))

    assert chosen is not None and chosen.label > period
    assert note is not None and "closed" in note


def test_a_netsuite_outage_during_posting_is_waited_out_and_the_close_completes(
    invoiced: tuple[Deal, str],
) -> None:
    deal, period = invoiced
    with deal.stack.sandboxes.admin("netsuite") as admin:
        admin.post("/_sandbox/outage", json={"seconds": 4}).raise_for_status()
        result = close(period)
        served = admin.get("/_sandbox/stats").json()["faults_served"]

    assert result["status"] == "locked"
    assert len(journals(deal)) == 2
    assert served.get("outage", 0) > 0


def test_a_rate_limited_netsuite_is_waited_out_and_the_close_completes(
    invoiced: tuple[Deal, str],
) -> None:
    deal, period = invoiced
    with deal.stack.sandboxes.admin("netsuite") as admin:
        faults = admin.get("/_sandbox/faults").json()
        limited = {**faults, "rate_limit_per_second": 2, "rate_limit_burst": 1}
        admin.put("/_sandbox/faults", json=limited).raise_for_status()
        try:
            result = close(period)
        finally:
            admin.put("/_sandbox/faults", json=faults).raise_for_status()
        served = admin.get("/_sandbox/stats").json()["faults_served"]

    assert result["status"] == "locked"
    assert len(journals(deal)) == 2
    assert served.get("rate_limit", 0) > 0  # NetSuite did answer 429s
