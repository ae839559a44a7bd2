"""time_to_bill over in-memory ports: exactly-once posting, reversals, holds, cutoffs, findings."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from pshub.bootstrap import Container
from pshub.domain.billing import WorkItem, WorkKind
from pshub.domain.sales import BillingModel
from pshub.flows import ingest as hub_ingest
from pshub.flows import time_to_bill
from pshub.flows.durable import result_of
from pshub.store import billing as repo
from pshub.store import repos
from pshub.store.tables import BillingClaim, BillingLineRow
from tests.builders import opportunity
from tests.fakes import FakeCrm, FakeErp, FakeErpBilling, FakePsa
from tests.integration.test_deal_to_project_fakes import deliver, wait_result

AS_OF = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
APPROVED = datetime(2026, 10, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def billing_hub(hub_factory) -> tuple[Container, FakeErpBilling, str]:
    crm, psa, erp = FakeCrm(), FakePsa(), FakeErp()
    crm.add(
        opportunity(
            "006T",
            amount="500000",
            model=BillingModel.TIME_AND_MATERIALS,
            rate_card="STD-GBP",
            lines=("500000",),
        )
    )
    billing = FakeErpBilling(reject_memo="REJECT")
    c = hub_factory(crm=crm, psa=psa, erp=erp)
    c.extras["erp_billing"] = billing
    assert wait_result(deliver(c, "006T", "evt-t").workflow_ids[0])["status"] == "completed"
    (project_id,) = [p.id for p in psa.projects.values()]
    with c.db.session() as s:
        workspace = repos.system_ids(s, "project", project_id)["kantata"]
    return c, billing, workspace


def entry(
    source: str,
    hours: str,
    *,
    project: str,
    version: int = 1,
    user: str = "2003",
    role: str | None = "Senior Consultant",
    approved: bool = True,
    approved_at: datetime = APPROVED,
    day: date = date(2026, 10, 28),
    notes: str | None = None,
) -> WorkItem:
    return WorkItem(
        kind=WorkKind.TIME,
        source_id=source,
        version=version,
        project_id=project,
        consultant_id=user,
        role=role,
        work_date=day,
        hours=Decimal(hours),
        approved=approved,
        approved_at=approved_at if approved else None,
        notes=notes,
    )


def ingest(c: Container, items: list[WorkItem]) -> int:
    with c.db.session() as s:
        return repo.upsert_work_items(s, items)


def run(c: Container, run_id: str, as_of: datetime = AS_OF) -> dict[str, Any]:
    workflow = time_to_bill.start(time_to_bill.BillingRunInput(run_id=run_id, as_of=as_of))
    return result_of(workflow)


def live(billing: FakeErpBilling) -> dict[str, Decimal]:
    """Net billed hours per source entry in the ERP (postings minus reversals)."""
    net: dict[str, Decimal] = {}
    for line in billing.postings.values():
        source = line.key.split(":")[1]
        sign = -1 if line.action == "reverse" else 1
        net[source] = net.get(source, Decimal(0)) + sign * (line.hours or 0)
    return net


def test_every_approved_entry_posts_once_and_redelivering_the_feed_changes_nothing(
    billing_hub,
) -> None:
    c, billing, project = billing_hub
    items = [entry(f"t{n}", "7.5", project=project) for n in range(250)]
    assert ingest(c, items) == 250
    result = run(c, "r1")
    assert (result["lines"], result["posted"], result["rejected"]) == (250, 250, 0)
    assert billing.requests == 3  # 100 lines per request
    for n in range(5):
        assert ingest(c, items) == 0  # same versions: no-ops
        assert run(c, f"again-{n}")["lines"] == 0
    assert len(billing.postings) == 250
    with c.db.session() as s:
        assert repo.count_items(s) == {"done": 250}
        states = repo.load_states(s, [f"time:t{n}" for n in range(250)])
    assert {st.state.value for st in states.values()} == {"posted"}
    assert states["time:t7"].amount.amount == Decimal("1312.50")  # 7.5 h x GBP 175
    with c.db.session() as s:  # finished runs leave no claims behind (decision 0014)
        assert s.scalar(select(func.count()).select_from(BillingClaim)) == 0


def test_an_edit_after_posting_reverses_and_reposts_and_an_unapproval_reverses(billing_hub):
    c, billing, project = billing_hub
    ingest(c, [entry("a", "8", project=project), entry("b", "4", project=project)])
    run(c, "r1")
    ingest(
        c,
        [
            entry("a", "6", project=project, version=2),
            entry("b", "4", project=project, version=2, approved=False),
        ],
    )
    result = run(c, "r2")
    assert result["posted"] == 3  # reverse a v1, post a v2, reverse b v1
    assert live(billing) == {"a": Decimal("6"), "b": Decimal("0")}
    with c.db.session() as s:
        ledger = [
            (e.action.value, e.version, str(e.amount.amount)) for e in repo.ledger_for(s, "time:a")
        ]
    assert ledger == [("post", 1, "1400.00"), ("reverse", 1, "1400.00"), ("post", 2, "1050.00")]


def test_a_held_project_posts_nothing_until_the_hold_is_lifted(billing_hub) -> None:
    c, billing, project = billing_hub
    with c.db.session() as s:
        repo.set_hold(s, "project", project, "PO expired", "finance@firm")
    ingest(c, [entry("h1", "10", project=project), entry("h2", "2", project=project)])
    assert run(c, "r1")["held"] == 2
    assert billing.postings == {}
    with c.db.session() as s:
        (exc,) = repos.list_exceptions(s, flow="time_to_bill")
        assert exc.reason_code == "billing.hold" and exc.amount == Decimal("2100.00")
        assert exc.reason.startswith("GBP 2,100.00 of approved work held: project ")
        repo.lift_hold(s, "project", project, "finance@firm")
    assert run(c, "r2")["posted"] == 2
    assert live(billing) == {"h1": Decimal("10"), "h2": Decimal("2")}
    with c.db.session() as s:
        assert repos.list_exceptions(s, flow="time_to_bill") == []


def test_an_entry_approved_after_the_cutoff_lands_in_the_next_period(billing_hub) -> None:
    c, billing, project = billing_hub
    late = datetime(2026, 11, 2, 18, 30, tzinfo=UTC)  # October's cutoff: 2 Nov 18:00 UTC
    ingest(
        c,
        [
            entry("on-time", "1", project=project),
            entry("late", "1", project=project, approved_at=late),
        ],
    )
    run(c, "r1")
    periods = {ln.key.split(":")[1]: ln.period for ln in billing.postings.values()}
    assert periods == {"on-time": "2026-10", "late": "2026-11"}


def test_bad_entries_become_findings_naming_the_field_and_hold_back_nothing_else(billing_hub):
    c, billing, project = billing_hub
    ingest(
        c,
        [
            entry("ok", "1", project=project),
            entry("neg", "-2", project=project),
            entry("astronaut", "3", project=project, user="9999", role="Astronaut"),
            entry("stranger", "1", project="no-such-project"),
        ],
    )
    run(c, "r1")
    assert set(live(billing)) == {"ok"}
    with c.db.session() as s:
        found = {e.reason_code: e for e in repos.list_exceptions(s, flow="time_to_bill")}
    assert set(found) == {"time.hours_invalid", "rate.missing", "project.unknown"}
    fields = {f["field"] for e in found.values() for f in e.findings["items"]}
    assert fields == {"time_entry.hours", "time_entry.role", "time_entry.project"}


def test_an_erp_rejection_refuses_only_that_line(billing_hub) -> None:
    c, billing, project = billing_hub
    ingest(
        c,
        [
            entry("good", "1", project=project),
            entry("refused", "1", project=project, user="2002", role="Manager"),
        ],
    )
    # The fake ERP refuses lines whose memo carries REJECT: make one by its key.
    billing.reject_memo = "time refused"
    result = run(c, "r1")
    assert (result["posted"], result["rejected"]) == (1, 1)
    assert set(live(billing)) == {"good"}
    with c.db.session() as s:
        (exc,) = repos.list_exceptions(s, flow="time_to_bill")
        assert exc.reason_code == "erp.rejected" and exc.amount == Decimal("230.00")
    # Fixed on the ERP side, the operator retries: the refused line is sent again, once.
    billing.reject_memo = None
    retried = hub_ingest.retry_exception(c, exc.id, actor="test")
    assert result_of(retried["workflow_id"])["lines"] == 1
    with c.db.session() as s:
        assert repos.get_exception(s, exc.id).status == "resolved"
    assert set(live(billing)) == {"good", "refused"}
    assert run(c, "r3")["lines"] == 0  # nothing left to do, nothing posted twice


@pytest.mark.parametrize("change", ["edited", "unapproved"])
def test_a_refusal_of_a_version_the_psa_replaced_does_not_stay_open(billing_hub, change) -> None:
    c, billing, project = billing_hub
    ingest(c, [entry("refused", "1", project=project)])
    billing.reject_memo = "time refused v1"  # the ERP refuses version 1 only
    assert run(c, "r1")["rejected"] == 1
    with c.db.session() as s:
        (exc,) = repos.list_exceptions(s, flow="time_to_bill")
        assert exc.reason_code == "erp.rejected" and exc.status == "open"
    # The consultant edits (or the approver withdraws) the entry: version 1 is never sent again.
    if change == "edited":
        ingest(c, [entry("refused", "2", project=project, version=2)])
    else:
        ingest(c, [entry("refused", "1", project=project, version=2, approved=False)])
    result = run(c, "r2")
    assert result["rejected"] == 0
    assert live(billing) == ({"refused": Decimal("2")} if change == "edited" else {})
    with c.db.session() as s:
        assert repos.get_exception(s, exc.id).status == "resolved"
        assert repo.refused_lines(s) == 0
        (kept,) = s.scalars(
            select(BillingLineRow)
            .where(BillingLineRow.source_key == "time:refused")
            .where(BillingLineRow.version == 1)
        ).all()
        # Kept for audit with the ERP's error, no longer counted as refused.
        assert kept.status == "superseded" and kept.error


def test_time_over_the_contract_value_posts_as_non_billable_overage(billing_hub) -> None:
    c, billing, project = billing_hub  # contract value GBP 500,000 is the not-to-exceed cap
    ingest(c, [entry(f"big{n}", "1000", project=project) for n in range(3)])
    run(c, "r1")  # 3 x 1000 h x GBP 175 = 525,000 -> 500,000 billable, 25,000 overage
    billable = sum(ln.amount for ln in billing.postings.values() if ln.billable)
    overage = [ln for ln in billing.postings.values() if not ln.billable]
    assert billable == Decimal("500000.00")
    assert [(ln.key.split(":")[1], ln.hours) for ln in overage] == [("big2", Decimal("142.86"))]


def test_a_new_version_with_the_same_billing_content_changes_nothing_in_the_erp(billing_hub):
    c, billing, project = billing_hub
    ingest(c, [entry("same", "5", project=project)])
    run(c, "r1")
    before = dict(billing.postings)
    # A timesheet approval re-versions the entry; its hours, rate and period are unchanged.
    ingest(c, [entry("same", "5", project=project, version=7, notes="re-approved")])
    assert run(c, "r2")["lines"] == 0
    assert billing.postings == before
    ingest(c, [entry("same", "5", project=project, version=6)])  # an older delivery, late
    assert run(c, "r3")["lines"] == 0


def test_each_edit_reverses_only_the_live_posting(billing_hub) -> None:
    c, billing, project = billing_hub
    for version, hours in ((1, "8"), (2, "6"), (3, "7")):
        ingest(c, [entry("e", hours, project=project, version=version)])
        run(c, f"r{version}")
    actions = sorted((ln.key.split(":")[2], ln.action) for ln in billing.postings.values())
    assert actions == [
        ("v1", "post"),
        ("v1", "reverse"),
        ("v2", "post"),
        ("v2", "reverse"),
        ("v3", "post"),
    ]
    assert live(billing) == {"e": Decimal("7")}


class _AnswerLost:
    """The ERP takes the lines, then the hub dies before it hears (and records) the answer."""

    system = "netsuite"

    def __init__(self, erp: FakeErpBilling) -> None:
        self.erp = erp

    def post_billing_lines(self, lines):  # type: ignore[no-untyped-def]
        self.erp.post_billing_lines(lines)
        raise SystemExit("hub killed after the ERP answered")


def test_a_crash_after_the_erp_answered_resends_the_same_lines_and_books_them_once(
    billing_hub,
) -> None:
    from pshub.connectors.retry import RetryPolicy
    from pshub.flows import billing_post

    c, billing, project = billing_hub
    ingest(c, [entry(f"c{n}", "2", project=project) for n in range(150)])
    with pytest.raises(SystemExit):
        billing_post.bill_project(c, _AnswerLost(billing), project, AS_OF, "lost", RetryPolicy())
    sent = dict(billing.postings)
    assert len(sent) >= 100  # one request or both reached the ERP; the hub knows of neither
    with c.db.session() as s:
        assert repo.count_items(s) == {"pending": 150}
    result = run(c, "after-restart")
    assert (result["lines"], result["posted"]) == (150, 150)
    assert len(billing.postings) == 150  # re-sent under the same external ids: updated
    assert set(sent) <= set(billing.postings)
    with c.db.session() as s:
        assert repo.count_items(s) == {"done": 150}
        assert [e.action.value for e in repo.ledger_for(s, "time:c7")] == ["post"]
    assert run(c, "again")["lines"] == 0


def test_an_entry_moved_to_another_project_is_one_item_billed_in_its_new_project(
    billing_hub,
) -> None:
    """Work items are stored by project (decision 0013): a new version that names another
    project moves the entry's one row, and only the new project bills it."""
    c, billing, project = billing_hub
    assert ingest(c, [entry("m1", "2", project="ws-elsewhere")]) == 1
    assert ingest(c, [entry("m1", "3", project=project, version=2)]) == 1
    with c.db.session() as s:
        assert [i.version for i in repo.work_items_for(s, project)] == [2]
        assert repo.work_items_for(s, "ws-elsewhere") == []
        assert repo.count_items(s) == {"pending": 1}
    result = run(c, "moved")
    assert (result["lines"], result["posted"]) == (1, 1)
    assert live(billing) == {"m1": Decimal("3")}
    assert ingest(c, [entry("m1", "2", project="ws-elsewhere")]) == 0  # older: a no-op
