"""Parties: legal entities of the group, tax profiles and customer accounts with a hierarchy."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from pshub.domain.findings import Finding

_FROZEN = ConfigDict(frozen=True, extra="forbid")

MAX_HIERARCHY_DEPTH = 10


class TaxProfile(BaseModel):
    """How a legal entity taxes services sold to customers in one country."""

    model_config = _FROZEN

    code: str
    customer_country: str
    rate: Decimal = Field(ge=0, le=1)
    erp_tax_code: str


class LegalEntity(BaseModel):
    """A company of the group that contracts, bills and books (NetSuite: subsidiary)."""

    model_config = _FROZEN

    code: str
    name: str
    country: str
    currency: str
    erp_subsidiary_id: str
    billing_currencies: tuple[str, ...] = ()
    tax_profiles: tuple[TaxProfile, ...] = ()

    def accepts_currency(self, currency: str) -> bool:
        return currency == self.currency or currency in self.billing_currencies

    def tax_profile_for(self, customer_country: str) -> TaxProfile | None:
        for profile in self.tax_profiles:
            if profile.customer_country == customer_country:
                return profile
        return None


class Account(BaseModel):
    """A customer organisation, with an optional parent account (hierarchy)."""

    model_config = _FROZEN

    id: str
    source_id: str
    name: str
    billing_country: str | None = None
    parent_source_id: str | None = None


def check_hierarchy(account: Account, known: dict[str, Account]) -> list[Finding]:
    """Every parent in the chain must be known, without cycles, at most MAX_HIERARCHY_DEPTH deep.

    ``known`` maps source id to account.
    """
    seen = {account.source_id}
    current = account
    for _ in range(MAX_HIERARCHY_DEPTH):
        parent_id = current.parent_source_id
        if parent_id is None:
            return []
        if parent_id in seen:
            return [
                _hierarchy(
                    "account.parent_cycle",
                    f"account hierarchy of {account.name} loops back to {parent_id}",
                    account,
                )
            ]
        parent = known.get(parent_id)
        if parent is None:
            return [
                _hierarchy(
                    "account.parent_unknown",
                    f"parent account {parent_id} of {current.name} is not known",
                    account,
                )
            ]
        seen.add(parent_id)
        current = parent
    return [
        _hierarchy(
            "account.hierarchy_too_deep",
            f"account hierarchy of {account.name} is deeper than {MAX_HIERARCHY_DEPTH} levels",
            account,
        )
    ]


def _hierarchy(code: str, message: str, account: Account) -> Finding:
    return Finding(code=code, message=message, field="account.parent", record=account.source_id)


def ancestry(account: Account, known: dict[str, Account]) -> list[Account]:
    """Parents of ``account`` from the nearest up to the root (assumes a checked hierarchy)."""
    chain: list[Account] = []
    current = account
    while current.parent_source_id and current.parent_source_id in known:
        current = known[current.parent_source_id]
        if current in chain or len(chain) >= MAX_HIERARCHY_DEPTH:
            break
        chain.append(current)
    return chain
