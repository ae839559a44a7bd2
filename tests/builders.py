"""Small builders of canonical records for tests."""

from __future__ import annotations

from datetime import date

from pshub.domain.ids import canonical_id
from pshub.domain.money import Money
from pshub.domain.parties import Account
from pshub.domain.sales import BillingModel, Opportunity, OpportunityLine


def account(
    source_id: str = "001A",
    name: str = "Globex UK",
    country: str | None = "GB",
    parent: str | None = None,
) -> Account:
    return Account(
        id=canonical_id("account", "salesforce", source_id),
        source_id=source_id,
        name=name,
        billing_country=country,
        parent_source_id=parent,
    )


def opportunity(
    source_id: str = "006A",
    *,
    acct: Account | None = None,
    amount: str = "120000",
    currency: str = "GBP",
    entity: str | None = "UK",
    service_line: str | None = "ERP-IMPL",
    model: BillingModel | None = BillingModel.FIXED_FEE_MILESTONE,
    lines: tuple[str, ...] = ("40000", "80000"),
    rate_card: str | None = None,
    stage: str = "Closed Won",
) -> Opportunity:
    acct = acct or account()
    opp_lines = tuple(
        OpportunityLine(
            source_id=f"{source_id}-L{i}",
            name=f"Milestone {i + 1}",
            unit_price=Money.of(v, currency),
            total=Money.of(v, currency),
            service_date=date(2026, 12 + i if i < 1 else 1, 15),
        )
        for i, v in enumerate(lines)
    )
    return Opportunity(
        id=canonical_id("opportunity", "salesforce", source_id),
        source_id=source_id,
        name="S/4 rollout",
        account=acct,
        stage=stage,
        probability=100,
        amount=Money.of(amount, currency),
        close_date=date(2026, 11, 20),
        legal_entity=entity,
        service_line=service_line,
        billing_model=model,
        rate_card=rate_card,
        start_date=date(2026, 12, 1),
        end_date=date(2027, 6, 30),
        lines=opp_lines,
    )
