"""Milestone invoicing rules: what blocks a completed milestone (with its money), what the
invoice carries, and how payments become a status."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pshub.domain.invoicing import (
    InvoiceStatus,
    InvoicingRules,
    MilestoneFacts,
    aging_bucket,
    check_milestone,
    deal_billing,
    invoice_status,
    milestone_order,
    plan_invoice,
)
from pshub.domain.money import Money
from pshub.domain.provisioning import ProvisioningPlan, plan_provisioning
from pshub.policy import load_policy
from pshub.policy.invoicing import load_invoicing
from tests.builders import opportunity

POLICY = load_policy()
RULES = load_invoicing()


def gbp(amount: str) -> Money:
    return Money.of(amount, "GBP")


def planned(**changes: object) -> ProvisioningPlan:
    opp = opportunity(**changes)  # type: ignore[arg-type]
    return plan_provisioning(opp, POLICY.rules, {opp.account.source_id: opp.account})


def codes(
    plan: ProvisioningPlan, n: int, rules: InvoicingRules = RULES, **facts: object
) -> list[tuple[str, Money | None]]:
    milestone = milestone_order(plan.project)[n]
    found = check_milestone(
        plan.contract,
        plan.project,
        plan.entity,
        MilestoneFacts.model_validate({"milestone_id": milestone.id, **facts}),
        rules,
    )
    return [(f.code, f.amount) for f in found]


def test_the_first_milestone_of_a_clean_contract_may_be_invoiced() -> None:
    assert codes(planned(), 0) == []


def test_each_blocking_rule_is_a_finding_with_the_milestone_amount() -> None:
    plan = planned()
    first, second = milestone_order(plan.project)
    acceptance = RULES.model_copy(update={"acceptance_service_lines": frozenset({"ERP-IMPL"})})
    cases = [
        # (milestone, facts,                                   rules,      expected finding)
        (1, {}, RULES, "milestone.prior_not_invoiced"),
        (0, {"hold_reason": "PO expired"}, RULES, "project.billing_hold"),
        (0, {}, acceptance, "milestone.acceptance_required"),
    ]
    for n, facts, rules, expected in cases:
        amount = (first, second)[n].amount
        assert codes(plan, n, rules, **facts) == [(expected, amount)], expected


def test_a_later_milestone_goes_once_the_earlier_one_is_invoiced_and_acceptance_clears() -> None:
    plan = planned()
    first, _ = milestone_order(plan.project)
    acceptance = RULES.model_copy(update={"acceptance_contracts": frozenset({plan.contract.id})})
    assert codes(plan, 1, invoiced=frozenset({first.id})) == []
    assert codes(plan, 0, acceptance, accepted=True) == []
    relaxed = RULES.model_copy(update={"require_prior_invoiced": False})
    assert codes(plan, 1, relaxed) == []


def test_milestones_are_ordered_by_due_date_with_undated_ones_last() -> None:
    plan = planned(amount="60", lines=("10", "20", "30"))
    undated = plan.project.milestones[0].model_copy(update={"due_date": None})
    project = plan.project.model_copy(
        update={"milestones": (undated, *plan.project.milestones[1:])}
    )
    order = milestone_order(project)
    assert order[-1].id == undated.id
    assert [m.due_date for m in order[:-1]] == sorted(m.due_date for m in order[:-1])  # type: ignore[type-var]


def test_the_invoice_carries_the_milestone_amount_and_the_entitys_tax_and_currency() -> None:
    plan = planned()
    first = milestone_order(plan.project)[0]
    invoice = plan_invoice(
        plan.contract, plan.project, plan.entity, first.id, date(2027, 1, 20), RULES
    )
    assert first.amount == gbp("80000")  # the builder's second line is due first
    assert (invoice.net, invoice.tax, invoice.gross) == (
        gbp("80000.00"),
        gbp("16000.00"),
        gbp("96000.00"),
    )
    assert (invoice.tax_code, invoice.tax_rate) == ("VAT:S-GB", Decimal("0.20"))
    assert (invoice.currency, invoice.subsidiary_id, invoice.legal_entity) == ("GBP", "2", "UK")
    assert invoice.due_date == date(2027, 2, 19)
    assert invoice.tax_code_id == RULES.tax_code_ids["VAT:S-GB"]
    again = plan_invoice(
        plan.contract, plan.project, plan.entity, first.id, date(2027, 2, 1), RULES
    )
    assert again.invoice_id == invoice.invoice_id  # one invoice per milestone


def test_an_entity_without_the_contracts_tax_profile_holds_the_milestone() -> None:
    plan = planned()
    entity = plan.entity.model_copy(update={"tax_profiles": ()})
    milestone = milestone_order(plan.project)[0]
    found = check_milestone(
        plan.contract, plan.project, entity, MilestoneFacts(milestone_id=milestone.id), RULES
    )
    assert [(f.code, f.field) for f in found] == [("tax.profile_missing", "contract.tax_code")]
    with pytest.raises(ValueError):
        plan_invoice(plan.contract, plan.project, entity, milestone.id, date(2027, 1, 1), RULES)


@pytest.mark.parametrize(
    ("erp_status", "total", "remaining", "expected"),
    [
        ("Open", "48000", "48000", InvoiceStatus.OPEN),
        ("Open", "48000", "18000", InvoiceStatus.PARTIALLY_PAID),
        ("Paid In Full", "48000", "0", InvoiceStatus.PAID),
        ("Open", "48000", "0.00", InvoiceStatus.PAID),
        ("Pending Approval", "48000", "48000", InvoiceStatus.PENDING_APPROVAL),
    ],
)
def test_the_hubs_invoice_status_follows_what_remains_to_be_paid(
    erp_status: str, total: str, remaining: str, expected: InvoiceStatus
) -> None:
    assert invoice_status(erp_status, gbp(total), gbp(remaining)) is expected


@pytest.mark.parametrize(
    ("remaining", "credited", "expected"),
    [
        ("0", "48000", InvoiceStatus.CREDITED),  # settled by a credit memo alone
        ("0", "8000", InvoiceStatus.PAID),  # 8,000 credited, 40,000 paid
        ("40000", "8000", InvoiceStatus.OPEN),  # credited in part, nothing paid yet
        ("30000", "8000", InvoiceStatus.PARTIALLY_PAID),  # 10,000 paid
    ],
)
def test_a_credit_note_is_not_mistaken_for_a_payment(
    remaining: str, credited: str, expected: InvoiceStatus
) -> None:
    status = invoice_status("Open", gbp("48000"), gbp(remaining), gbp(credited))
    assert status is expected


def test_a_deals_billing_sums_its_invoices_and_is_paid_only_when_all_are() -> None:
    assert deal_billing([], "GBP").status == "Not Invoiced"
    one = deal_billing([(gbp("40000"), gbp("40000"))], "GBP")
    assert (one.invoiced, one.paid, one.status) == (gbp("40000"), gbp("0"), "Invoiced")
    two = deal_billing([(gbp("40000"), gbp("0")), (gbp("80000"), gbp("80000"))], "GBP")
    assert (two.paid, two.status) == (gbp("40000"), "Partially Paid")
    assert deal_billing([(gbp("40000"), gbp("0"))], "GBP").status == "Paid"


def test_receivables_age_from_their_due_date() -> None:
    due = date(2027, 3, 1)
    days = [0, 1, 30, 31, 61, 91]
    buckets = [aging_bucket(due, date.fromordinal(due.toordinal() + d)) for d in days]
    assert buckets == ["current", "1-30", "1-30", "31-60", "61-90", "90+"]
    assert aging_bucket(due, date(2027, 2, 1)) == "current"
