"""Cross-system reconciliation of one period: CRM, PSA, ERP and the hub, contract by contract.

Per contract: contract value (CRM, the hub's canonical contract of the deal), booked (PSA
workspace budget, read from Kantata), billed (ERP invoices, read from NetSuite, and the hub's
copy), recognised, deferred (contract liability) and unbilled (contract asset) from the
revenue engine through the period; then the hub's ledger against the ERP's postings
(``erp_postings``) and against the PSA's approved time (``psa_actuals``). Every difference
gets a category:

* timing — ``unbilled_wip`` (recognised ahead of billing: contract asset) and
  ``billed_ahead`` (billed ahead of recognition: contract liability). Expected; they unwind.
* break — ``missing_invoice`` (the hub's invoice or an invoiced milestone has no ERP
  invoice), ``amount_mismatch`` (two systems hold different amounts for the same record) and
  ``missing_posting`` (a hub line or close journal that never reached the ERP).
* ``unexplained`` — a difference no rule accounts for (the goal is none).

Each difference points at its source records (system, record type, id) and states the money.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from pshub.close.cases import run_all
from pshub.close.erp_postings import compare_time_bills, hub_time_postings
from pshub.close.facts import ZERO, ContractFacts, gather, load_contracts
from pshub.close.psa_actuals import compare_psa_actuals, hub_entries
from pshub.close.reconcile_types import Difference
from pshub.connectors.errors import NotFoundError
from pshub.store.close_tables import CloseJournal
from pshub.store.invoicing_tables import InvoiceRow
from pshub.store.tables import BillingLineRow


@dataclass(slots=True)
class ContractLine:
    contract_id: str
    legal_entity: str
    currency: str
    billing_model: str
    contract_value: Decimal
    booked: Decimal | None
    billed_erp: Decimal
    billed_hub: Decimal
    recognised: Decimal
    deferred: Decimal
    unbilled: Decimal
    differences: list[Difference] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        money = ("contract_value", "booked", "billed_erp", "billed_hub", "recognised")
        out: dict[str, Any] = {
            "contract_id": self.contract_id,
            "legal_entity": self.legal_entity,
            "currency": self.currency,
            "billing_model": self.billing_model,
        }
        for name in (*money, "deferred", "unbilled"):
            value = getattr(self, name)
            out[name] = None if value is None else str(value)
        out["differences"] = [d.as_dict() for d in self.differences]
        return out


def reconcile_period(c: Any, period: str, entity: str | None = None) -> dict[str, Any]:
    """The reconciliation report of ``period`` (all entities, or one), as plain JSON data."""
    with c.db.session() as s:
        entities = sorted({i.legal_entity for i in load_contracts(s, entity)})
        facts = [f for e in entities for f in gather(s, e, period)]
        invoices = list(s.scalars(select(InvoiceRow)))
        unposted = _unposted_lines(s, period, entity)
        posted_time = hub_time_postings(s)
        entries = hub_entries(s, [f.info.psa_project_id or "" for f in facts])
        journals = _unposted_journals(s, period, entity)
    booked = psa_budgets(c)
    erp_net = erp_invoice_nets(c, [i for i in invoices if i.erp_id])
    lines = [
        _contract_line(f, o.result, booked, erp_net, invoices)
        for f, o in zip(facts, run_all(facts, period), strict=True)
    ]
    for f, line in zip(facts, lines, strict=True):
        postings = posted_time.get(f.info.psa_project_id or "", {})
        line.differences += compare_time_bills(c.erp, f.info, postings)
        held = entries.get(f.info.psa_project_id or "", {})
        line.differences += compare_psa_actuals(c.psa, f.info, period, held)
    ledger = [*unposted, *journals]
    everything = [d for line in lines for d in line.differences] + ledger
    return {
        "period": period,
        "entity": entity,
        "contracts": [line.as_dict() for line in lines],
        "ledger": [d.as_dict() for d in ledger],
        "summary": summarise(everything),
    }


def summarise(diffs: Iterable[Difference]) -> dict[str, Any]:
    counts: dict[str, int] = {"timing": 0, "break": 0, "unexplained": 0}
    by_category: dict[str, int] = {}
    for d in diffs:
        counts[d.kind] += 1
        by_category[d.category] = by_category.get(d.category, 0) + 1
    return {**counts, "by_category": by_category}


def psa_budgets(c: Any) -> dict[str, Decimal]:
    """Workspace id -> budget (Kantata ``price_in_cents``), read through the PSA connector."""
    lister = getattr(c.psa, "list", None)
    if lister is None:
        return {}
    out = {}
    for ws in lister("workspaces"):
        cents = ws.get("price_in_cents")
        if cents is not None:
            out[str(ws["id"])] = Decimal(int(cents)) / 100
    return out


def erp_invoice_nets(c: Any, invoices: list[InvoiceRow]) -> dict[str, Decimal | None]:
    """Hub invoice id -> net amount of its ERP invoice (sum of lines); None when missing."""
    out: dict[str, Decimal | None] = {}
    for row in invoices:
        assert row.erp_id is not None
        try:
            view = c.erp.get_invoice(row.erp_id)
        except NotFoundError:
            out[row.invoice_id] = None
            continue
        out[row.invoice_id] = sum((line.amount.amount for line in view.lines), ZERO)
    return out


def _contract_line(
    f: ContractFacts,
    result: Any,
    booked: dict[str, Decimal],
    erp_net: dict[str, Decimal | None],
    invoices: list[InvoiceRow],
) -> ContractLine:
    info = f.info
    mine = [i for i in invoices if i.contract_id == info.contract_id and i.erp_id]
    line = ContractLine(
        contract_id=info.contract_id,
        legal_entity=info.legal_entity,
        currency=info.currency,
        billing_model=info.billing_model,
        contract_value=info.value,
        booked=booked.get(info.psa_project_id or ""),
        billed_erp=sum((erp_net.get(i.invoice_id) or ZERO for i in mine), ZERO),
        billed_hub=sum((i.net for i in mine), ZERO),
        recognised=result.cumulative_revenue.amount if result else ZERO,
        deferred=result.contract_liability.amount if result else ZERO,
        unbilled=result.contract_asset.amount if result else ZERO,
    )
    line.differences = _differences(f, line, mine, erp_net)
    return line


def _differences(
    f: ContractFacts,
    line: ContractLine,
    invoices: list[InvoiceRow],
    erp_net: dict[str, Decimal | None],
) -> list[Difference]:
    info, cur, out = f.info, line.currency, []
    cid = info.contract_id

    def diff(category: str, amount: Decimal, message: str, *sources: str) -> None:
        out.append(Difference(category, cid, amount, cur, message, sources))

    crm = f"salesforce:Opportunity:{info.opportunity_id}"
    psa = f"kantata:workspace:{info.psa_project_id}"
    if line.booked is not None and line.booked != line.contract_value:
        diff(
            "amount_mismatch",
            line.booked - line.contract_value,
            "PSA budget differs from the contract value",
            crm,
            psa,
        )
    for inv in invoices:
        erp = erp_net.get(inv.invoice_id)
        src = (f"pshub:invoice:{inv.invoice_id}", f"netsuite:invoice:{inv.erp_id}")
        if erp is None:
            diff("missing_invoice", inv.net, "the ERP no longer has the hub's invoice", *src)
        elif erp != inv.net:
            diff("amount_mismatch", erp - inv.net, "ERP invoice net differs from the hub", *src)
    if line.unbilled > 0:
        diff("unbilled_wip", line.unbilled, "recognised ahead of billing (contract asset)", psa)
    if line.deferred > 0:
        diff("billed_ahead", line.deferred, "billed ahead of recognition (deferred)", crm)
    invoiced = {i.source_id for i in invoices}
    for milestone in f.accepted:
        if milestone not in invoiced and any(m == milestone for m, _ in info.milestones):
            amount = next(a for m, a in info.milestones if m == milestone)
            diff(
                "missing_invoice",
                amount,
                "accepted milestone without an ERP invoice",
                f"kantata:milestone:{milestone}",
            )
    return out


def _unposted_lines(s: Any, period: str, entity: str | None) -> list[Difference]:
    t = BillingLineRow
    query = select(t.key, t.amount, t.currency, t.status, t.legal_entity).where(
        t.period <= period, t.status != "posted"
    )
    if entity is not None:
        query = query.where(t.legal_entity == entity)
    return [
        Difference(
            "missing_posting",
            None,
            amount,
            currency,
            f"billing line is {status}, not in the ERP",
            (f"pshub:billing_line:{key}",),
        )
        for key, amount, currency, status, _ in s.execute(query)
    ]


def _unposted_journals(s: Any, period: str, entity: str | None) -> list[Difference]:
    query = select(CloseJournal).where(CloseJournal.period == period, CloseJournal.erp_id.is_(None))
    if entity is not None:
        query = query.where(CloseJournal.legal_entity == entity)
    return [
        Difference(
            "missing_posting",
            None,
            j.total_debit,
            j.currency,
            "close journal not posted to the ERP",
            (f"pshub:close_journal:{j.key}",),
        )
        for j in s.scalars(query)
    ]
