"""Deal validation: findings name the field and the deal value they hold back."""

from __future__ import annotations

from decimal import Decimal

from pshub.domain.provisioning import plan_provisioning, validate_deal
from pshub.domain.sales import BillingModel
from pshub.policy import load_policy
from tests.builders import account, opportunity

RULES = load_policy().rules


def codes(opp, accounts=None) -> list[str]:
    known = accounts or {opp.account.source_id: opp.account}
    return [f.code for f in validate_deal(opp, RULES, known)]


def test_a_clean_milestone_deal_has_no_findings_and_plans_a_project_with_milestones() -> None:
    opp = opportunity()
    assert codes(opp) == []
    plan = plan_provisioning(opp, RULES, {opp.account.source_id: opp.account})
    assert plan.entity.erp_subsidiary_id == "2"
    assert plan.tax.erp_tax_code == "VAT:S-GB"
    assert [m.amount.amount for m in plan.project.milestones] == [Decimal(40000), Decimal(80000)]
    assert plan.project.tasks[0].name == "Discovery"
    assert plan.project.budget == opp.amount


def test_each_kind_of_bad_deal_data_is_reported_with_field_and_value() -> None:
    cases = [
        # (change to a good deal,                       expected finding,         field)
        (dict(entity="DE", currency="EUR"), "entity.unmapped", "opportunity.legal_entity"),
        (dict(entity=None), "entity.missing", "opportunity.legal_entity"),
        (dict(service_line="CYBER"), "service_line.unknown", "opportunity.service_line"),
        (dict(currency="SGD"), "currency.not_allowed", "opportunity.currency"),
        (dict(model=None), "billing_model.missing", "opportunity.billing_model"),
        (dict(lines=("1000",)), "lines.total_mismatch", "opportunity.lines"),
        (dict(stage="Prospecting"), "deal.not_won", "opportunity.stage"),
        (
            dict(model=BillingModel.TIME_AND_MATERIALS, rate_card="NOPE"),
            "rate_card.unknown",
            "opportunity.rate_card",
        ),
        (
            dict(model=BillingModel.TIME_AND_MATERIALS, rate_card="STD-USD"),
            "rate_card.currency_mismatch",
            "opportunity.rate_card",
        ),
    ]
    for change, code, field in cases:
        opp = opportunity(**change)
        found = validate_deal(opp, RULES, {opp.account.source_id: opp.account})
        match = [f for f in found if f.code == code]
        assert match, f"{change} should give {code}, got {[f.code for f in found]}"
        assert match[0].field == field
        assert match[0].amount == opp.amount


def test_a_customer_country_without_tax_profile_blocks_the_deal() -> None:
    opp = opportunity(acct=account("001F", "Acme France", "FR"), entity="UK")
    assert codes(opp) == []  # UK entity has a reverse-charge profile for FR
    us = opportunity(acct=account("001F", "Acme France", "FR"), entity="US", currency="USD")
    assert "tax.profile_missing" in codes(us)


def test_account_hierarchy_cycles_and_unknown_parents_are_findings() -> None:
    child = account("001C", parent="001P")
    parent = account("001P", parent="001C")
    opp = opportunity(acct=child)
    assert "account.parent_cycle" in codes(opp, {"001C": child, "001P": parent})
    assert "account.parent_unknown" in codes(opp, {"001C": child})
