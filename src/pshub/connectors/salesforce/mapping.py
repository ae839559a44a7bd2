"""Salesforce records <-> canonical model. Plain functions, no I/O, no business rules.

A value the canonical model cannot take (an unknown billing model) maps to ``None`` so that
domain validation reports it as a finding instead of the mapping failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from pshub.domain.ids import canonical_id, external_id
from pshub.domain.money import Money
from pshub.domain.parties import Account
from pshub.domain.sales import BillingModel, Opportunity, OpportunityLine
from pshub.flows.ports import ProvisioningWriteBack

from .records import SfAccount, SfOpportunity, SfOpportunityLineItem, exact_decimal

SYSTEM = "salesforce"
ORG_DEFAULT_CURRENCY = "USD"  # used when the org is single-currency (no CurrencyIsoCode)
EXTERNAL_ID_FIELD = "PSHub_Id__c"

BILLING_MODELS: dict[str, BillingModel] = {
    "Time & Materials": BillingModel.TIME_AND_MATERIALS,
    "Fixed Fee Milestone": BillingModel.FIXED_FEE_MILESTONE,
    "Percent Complete": BillingModel.PERCENT_COMPLETE,
    "Retainer": BillingModel.RETAINER,
}
_PICKLIST = {model: label for label, model in BILLING_MODELS.items()}
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id18(sf_id: str) -> str:
    """The 18-character form of a Salesforce id, so one record has one canonical id."""
    if len(sf_id) != 15:
        return sf_id
    suffix = "".join(
        _CHECKSUM[sum(1 << i for i, ch in enumerate(sf_id[k : k + 5]) if ch.isupper())]
        for k in (0, 5, 10)
    )
    return sf_id + suffix


def billing_model_from_picklist(value: str | None) -> BillingModel | None:
    return BILLING_MODELS.get((value or "").strip())


def billing_model_to_picklist(model: BillingModel) -> str:
    return _PICKLIST[model]


def to_money(value: object, currency: str) -> Money:
    """Money rounded to the currency's minor unit; a missing amount is zero."""
    amount = exact_decimal(value) if value is not None else Decimal(0)
    return Money.of(amount, currency).rounded()


def account_to_canonical(rec: SfAccount) -> Account:
    source = id18(rec.Id)
    country = (rec.BillingCountry or "").strip() or None
    return Account(
        id=canonical_id("account", SYSTEM, source),
        source_id=source,
        name=rec.Name,
        billing_country=country,
        parent_source_id=id18(rec.ParentId) if rec.ParentId else None,
    )


def line_to_canonical(rec: SfOpportunityLineItem, currency: str) -> OpportunityLine:
    return OpportunityLine(
        source_id=id18(rec.Id),
        name=rec.Description or rec.Name or "",
        quantity=rec.Quantity,
        unit_price=to_money(rec.UnitPrice, currency),
        total=to_money(rec.TotalPrice, currency),
        service_date=rec.ServiceDate,
    )


def opportunity_to_canonical(
    rec: SfOpportunity,
    account: Account,
    lines: Sequence[SfOpportunityLineItem],
    default_currency: str = ORG_DEFAULT_CURRENCY,
) -> Opportunity:
    source = id18(rec.Id)
    currency = rec.CurrencyIsoCode or default_currency
    return Opportunity(
        id=canonical_id("opportunity", SYSTEM, source),
        source_system=SYSTEM,
        source_id=source,
        name=rec.Name,
        account=account,
        stage=rec.StageName,
        probability=rec.Probability if rec.Probability is not None else Decimal(0),
        amount=to_money(rec.Amount, currency),
        close_date=rec.CloseDate,
        legal_entity=rec.Legal_Entity__c or None,
        service_line=rec.Service_Line__c or None,
        billing_model=billing_model_from_picklist(rec.Billing_Model__c),
        rate_card=rec.Rate_Card__c or None,
        start_date=rec.Start_Date__c,
        end_date=rec.End_Date__c,
        lines=tuple(line_to_canonical(line, currency) for line in lines),
    )


def writeback_fields(opportunity_source_id: str, ids: ProvisioningWriteBack) -> dict[str, str]:
    """Opportunity fields that record a provisioned deal (and the hub's external id on it)."""
    canonical = canonical_id("opportunity", SYSTEM, id18(opportunity_source_id))
    return {
        EXTERNAL_ID_FIELD: external_id(canonical),
        "PSHub_Contract_Id__c": ids.canonical_contract_id,
        "PSA_Project_Id__c": ids.psa_project_id,
        "ERP_Customer_Id__c": ids.erp_customer_id,
        "ERP_Job_Id__c": ids.erp_job_id,
        "Provisioning_Status__c": ids.status,
    }
