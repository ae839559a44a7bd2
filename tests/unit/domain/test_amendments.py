"""Amendments: version N+1 from an approved change order, its diff and its findings.

The contract: a fixed-fee milestone deal of GBP 120,000 — "Design sign-off" 40,000 (due
2027-01-15) and "Go-live" 80,000 (due 2027-06-15), ending 2027-06-30.
"""

from __future__ import annotations

from datetime import date

from pshub.domain.amendments import (
    ChangeOrder,
    ContractTerms,
    amend,
    diff_terms,
)
from pshub.domain.change_sources import change_from_psa, milestone_for
from pshub.domain.contracts import Contract, ContractLine
from pshub.domain.money import Money
from pshub.domain.sales import BillingModel


def gbp(amount: str) -> Money:
    return Money.of(amount, "GBP")


DESIGN = ContractLine(
    id="L1", name="Design sign-off", amount=gbp("40000"), service_date=date(2027, 1, 15)
)
GO_LIVE = ContractLine(id="L2", name="Go-live", amount=gbp("80000"), service_date=date(2027, 6, 15))
PROJECT = "prj_1"


def terms() -> ContractTerms:
    contract = Contract(
        id="ctr_1",
        opportunity_id="opp_1",
        account_id="acc_1",
        legal_entity="UK",
        service_line="ERP-IMPL",
        billing_model=BillingModel.FIXED_FEE_MILESTONE,
        value=gbp("120000"),
        tax_code="VAT20",
        start_date=date(2026, 12, 1),
        end_date=date(2027, 6, 30),
        lines=(DESIGN, GO_LIVE),
    )
    milestones = tuple(milestone_for(PROJECT, line) for line in contract.lines)
    return ContractTerms(contract=contract, budget=gbp("120000"), milestones=milestones)


def crm_change(**fields: object) -> ChangeOrder:
    return ChangeOrder(
        contract_id="ctr_1",
        source_system="salesforce",
        source_id="CO-1",
        effective_date=date(2027, 2, 1),
        **fields,
    )


HYPERCARE = ContractLine(
    id="L3", name="Hypercare", amount=gbp("30000"), service_date=date(2027, 8, 31)
)


def test_an_added_line_makes_version_two_with_the_price_and_scope_added() -> None:
    lines = (DESIGN, GO_LIVE, HYPERCARE)
    result = amend(
        terms(),
        crm_change(
            value=gbp("150000"),
            lines=lines,
            end_date=date(2027, 8, 31),
            budget=gbp("150000"),
            milestones=tuple(milestone_for(PROJECT, line) for line in lines),
        ),
    )
    assert not result.blocked
    assert result.terms.version == 2
    diff = result.diff
    assert (diff.from_version, diff.to_version) == (1, 2)
    assert diff.price_change == gbp("30000")
    assert diff.budget_change == gbp("30000")
    assert diff.added_scope == gbp("30000") and diff.removed_scope == gbp("0")
    assert [(c.line_id, c.kind) for c in diff.lines] == [("L3", "added")]
    assert [(m.name, m.kind, m.after) for m in diff.milestones] == [
        ("Hypercare", "added", gbp("30000"))
    ]
    assert (diff.end_before, diff.end_after) == (date(2027, 6, 30), date(2027, 8, 31))


def test_a_removed_and_a_repriced_line_show_as_removed_and_changed_scope() -> None:
    cheaper = GO_LIVE.model_copy(update={"amount": gbp("70000")})
    result = amend(terms(), crm_change(value=gbp("70000"), lines=(cheaper,)))
    kinds = {c.line_id: c.kind for c in result.diff.lines}
    assert kinds == {"L1": "removed", "L2": "changed"}
    assert result.diff.removed_scope == gbp("50000")
    assert result.diff.price_change == gbp("-50000")


def test_a_psa_budget_and_milestone_change_leaves_the_price_alone() -> None:
    first = terms().milestones[0]
    change = change_from_psa(
        terms(),
        "evt-9",
        date(2027, 2, 1),
        budget=gbp("125000"),
        milestone_amounts={first.id: gbp("35000")},
    )
    result = amend(terms(), change)
    assert not result.blocked
    assert result.diff.price_change == gbp("0")
    assert result.diff.budget_after == gbp("125000")
    assert [(m.milestone_id, m.before, m.after) for m in result.diff.milestones] == [
        (first.id, gbp("40000"), gbp("35000"))
    ]


def test_lines_that_do_not_sum_to_the_price_are_a_finding_on_lines() -> None:
    result = amend(terms(), crm_change(value=gbp("150000")))
    assert result.blocked
    assert [(f.code, f.field) for f in result.findings] == [("change.lines_total", "lines")]


def test_a_foreign_currency_or_negative_amount_is_a_finding_naming_the_field() -> None:
    result = amend(terms(), crm_change(value=Money.of("1", "USD"), budget=gbp("-5")))
    assert {(f.code, f.field) for f in result.findings} == {
        ("change.currency", "value"),
        ("change.negative", "budget"),
    }


def test_an_end_date_before_the_start_is_a_finding_on_end_date() -> None:
    result = amend(terms(), crm_change(end_date=date(2026, 1, 1)))
    assert [(f.code, f.field) for f in result.findings] == [("change.dates", "end_date")]


def test_milestones_above_the_price_are_a_finding_on_milestones() -> None:
    first = terms().milestones[0]
    change = change_from_psa(
        terms(), "evt", date(2027, 2, 1), milestone_amounts={first.id: gbp("50000")}
    )
    assert [f.field for f in amend(terms(), change).findings] == ["milestones"]


def test_a_change_that_alters_nothing_is_a_warning_and_an_empty_diff() -> None:
    result = amend(terms(), crm_change(value=gbp("120000")))
    assert result.diff.empty
    assert not result.blocked
    assert [f.code for f in result.findings] == ["change.empty"]


def test_the_diff_of_a_version_with_itself_is_empty() -> None:
    assert diff_terms(terms(), terms()).empty
