"""Facts of a close, gathered from the hub's own records in a handful of bulk queries.

Per legal entity and period (``YYYY-MM``), for every contract of the entity: the canonical
contract and project, posted time and expenses (billable amount and cost, from the billing
ledger's posted lines, reversals netted), accepted milestones, invoices the ERP holds and
payments applied to them — each bucketed by period. No per-contract round trips: the close
of 10,000 contracts costs the same few queries as the close of ten.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from pshub.domain.revenue import Activity, Method, Modification, Obligation
from pshub.store.contract_tables import ContractVersionRow
from pshub.store.invoicing_tables import InvoiceRow, MilestoneBillingRow, PaymentRow
from pshub.store.tables import BillingLineRow, CanonicalRecord, CrossReference

ZERO = Decimal(0)
REJECTED = "Rejected"


def month(day: date | datetime) -> str:
    """The period label (``YYYY-MM``) of a date or instant."""
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True, slots=True)
class ContractInfo:
    """What the hub knows of one contract and its project (canonical ids)."""

    contract_id: str
    opportunity_id: str
    legal_entity: str
    currency: str
    billing_model: str
    value: Decimal
    start: str | None  # period of the start date
    end: str | None
    project_id: str | None = None
    psa_project_id: str | None = None
    erp_job_id: str | None = None
    budget: Decimal | None = None
    milestones: tuple[tuple[str, Decimal], ...] = ()
    # As first signed, when later versions amend it (revenue runs from these plus the
    # amendments as modifications; value and milestones above stay the current version's).
    signed_value: Decimal | None = None
    signed_milestones: tuple[tuple[str, Decimal], ...] | None = None


@dataclass(slots=True)
class ContractFacts:
    """One contract's facts, bucketed by period; ``sources`` name the records they came from."""

    info: ContractInfo
    delivered: dict[str, Decimal] = field(default_factory=dict)  # billable T&M, net
    cost: dict[str, Decimal] = field(default_factory=dict)  # cost of posted lines
    accepted: dict[str, str] = field(default_factory=dict)  # milestone id -> period
    billed: dict[str, Decimal] = field(default_factory=dict)  # invoice net
    collected: dict[str, Decimal] = field(default_factory=dict)  # payments, net of tax
    invoices: list[str] = field(default_factory=list)
    lines: int = 0
    amendments: tuple[Activity, ...] = ()


def contract_amendments(
    session: Session, infos: list[ContractInfo], through: str
) -> dict[str, tuple[ContractInfo, tuple[Activity, ...]]]:
    """Approved amendments of these contracts, from the hub's contract versions
    (``contract_versions``): per amended contract, its terms as first signed (version 1) and
    one ``modification`` row per later version in the period it takes effect (ASC
    606-10-25-10..13), for periods up to ``through``.

    A version's row carries its price change and, for milestone contracts, the milestones it
    adds as point-in-time obligations at their amounts. Whether the added scope is distinct and
    priced at its standalone selling price comes from the version when the change said so;
    otherwise added milestones count as distinct and as priced at standalone price when the
    price change equals their amounts (the contract price of the added scope is the best
    evidence of its standalone price the hub has), and a change that adds nothing (a price or
    budget change) is a cumulative catch-up. The engine decides the treatment from these facts.
    """
    by_id = {i.contract_id: i for i in infos}
    rows = session.scalars(
        select(ContractVersionRow)
        .where(ContractVersionRow.contract_id.in_(list(by_id)))
        .order_by(ContractVersionRow.contract_id, ContractVersionRow.version)
    ).all()
    versions: dict[str, list[Any]] = {}
    for row in rows:
        versions.setdefault(row.contract_id, []).append(row)
    out: dict[str, tuple[ContractInfo, tuple[Activity, ...]]] = {}
    for contract_id, history in versions.items():
        found = amended(by_id[contract_id], history, through)
        if found is not None:
            out[contract_id] = found
    return out


def amended(
    info: ContractInfo, history: list[Any], through: str
) -> tuple[ContractInfo, tuple[Activity, ...]] | None:
    """The contract as first signed and its modification rows up to ``through``; ``history``
    are its versions oldest first (rows of ``contract_versions``). None: nothing to amend."""
    if len(history) < 2 or info.billing_model == "time_and_materials":
        return None  # T&M revenue follows the hours, whatever the contract value says
    first = history[0]
    base = replace(
        info,
        signed_value=Decimal(first.price),
        signed_milestones=_version_milestones(first.terms),
    )
    mods = [_modification(before, after) for before, after in pairwise(history)]
    return base, tuple(m for m in mods if m.period <= through)


def _version_milestones(terms: dict[str, Any]) -> tuple[tuple[str, Decimal], ...]:
    return tuple((m["id"], Decimal(m["amount"]["amount"])) for m in terms.get("milestones", ()))


def _modification(before: Any, after: Any) -> Activity:
    had = {mid for mid, _ in _version_milestones(before.terms)}
    added = [(mid, amt) for mid, amt in _version_milestones(after.terms) if mid not in had]
    price_change = Decimal(after.price_change)
    distinct = after.distinct if after.distinct is not None else bool(added)
    at_ssp = after.standalone_price
    if at_ssp is None:
        at_ssp = bool(added) and price_change == sum((a for _, a in added), ZERO)
    day = after.effective_date or after.created_at.date()
    return Activity(
        period=f"{day:%Y-%m}",
        modification=Modification(
            price_change=price_change,
            add_obligations=tuple(
                Obligation(id=mid, method=Method.POINT_IN_TIME, standalone_price=amt)
                for mid, amt in added
            ),
            distinct=distinct,
            at_standalone_price=at_ssp,
        ),
    )


def gather(session: Session, entity: str, period: str) -> list[ContractFacts]:
    """Every contract of ``entity`` with its facts up to and including ``period``."""
    infos = load_contracts(session, entity)
    by_contract = {info.contract_id: ContractFacts(info) for info in infos}
    by_psa = {i.psa_project_id: by_contract[i.contract_id] for i in infos if i.psa_project_id}
    _add_lines(session, entity, period, by_psa)
    _add_milestones(session, period, by_contract)
    _add_invoices(session, entity, period, by_contract)
    for contract_id, (base, rows) in contract_amendments(session, infos, period).items():
        by_contract[contract_id].info = base
        by_contract[contract_id].amendments = rows
    return list(by_contract.values())


def load_contracts(session: Session, entity: str | None = None) -> list[ContractInfo]:
    """Canonical contracts (of ``entity``, or all) joined with their projects and the
    projects' PSA workspace and ERP job ids."""
    contracts = _bodies(session, "contract")
    projects = {
        body["contract_id"]: body for body in _bodies(session, "project") if "contract_id" in body
    }
    xrefs = _project_ids(session)
    out = []
    for body in contracts:
        if entity is not None and body.get("legal_entity") != entity:
            continue
        out.append(_info(body, projects.get(body["id"]), xrefs))
    return out


def _bodies(session: Session, entity_type: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(CanonicalRecord.body).where(CanonicalRecord.entity_type == entity_type)
    )
    return [body for (body,) in rows]


def _project_ids(session: Session) -> dict[tuple[str, str], str]:
    rows = session.execute(
        select(CrossReference.canonical_id, CrossReference.system, CrossReference.system_id).where(
            CrossReference.entity_type == "project"
        )
    )
    return {(canonical, system): system_id for canonical, system, system_id in rows}


def _period_of(text: str | None) -> str | None:
    return None if not text else text[:7]


def _info(
    body: dict[str, Any], project: dict[str, Any] | None, xrefs: dict[tuple[str, str], str]
) -> ContractInfo:
    value = body["value"]
    base = ContractInfo(
        contract_id=body["id"],
        opportunity_id=body.get("opportunity_id", ""),
        legal_entity=body["legal_entity"],
        currency=value["currency"],
        billing_model=body["billing_model"],
        value=Decimal(value["amount"]),
        start=_period_of(body.get("start_date")),
        end=_period_of(body.get("end_date")),
    )
    if project is None:
        return base
    pid = project["id"]
    return replace(
        base,
        project_id=pid,
        psa_project_id=xrefs.get((pid, "kantata")),
        erp_job_id=xrefs.get((pid, "netsuite")),
        budget=Decimal(project["budget"]["amount"]),
        milestones=tuple(
            (m["id"], Decimal(m["amount"]["amount"])) for m in project.get("milestones", ())
        ),
    )


def _add_lines(
    session: Session, entity: str, period: str, by_psa: dict[str, ContractFacts]
) -> None:
    """Posted billing lines: billable amount (T&M revenue) and cost, reversals netted."""
    t = BillingLineRow.__table__.c
    # Fields picked inside the database (JSON path on SQLite and PostgreSQL), and rows read
    # straight from the driver: at month-end volumes, decoding every body and building
    # typed rows would cost more than the rest of the close. Amounts are exact decimal
    # text (SQLite) or NUMERIC (PostgreSQL); both go through Decimal below.
    query = select(
        t.project_id,
        t.period,
        t.action,
        t.amount,
        t.body[("erp", "billable")].as_boolean(),
        t.body[("erp", "cost")].as_string(),
    ).where(t.legal_entity == entity, t.status == "posted", t.period <= period)
    rows = _raw(session, query)
    for project_id, line_period, action, amount, billable, cost in rows:
        facts = by_psa.get(project_id)
        if facts is None:
            continue
        sign = -1 if action == "reverse" else 1
        facts.lines += 1
        if billable:
            _bump(facts.delivered, line_period, sign * Decimal(amount))
        if cost is not None:
            _bump(facts.cost, line_period, sign * Decimal(cost))


def _raw(session: Session, query: Select[Any]) -> list[Any]:
    """Rows of ``query`` as the driver returns them (no per-value type processing)."""
    connection = session.connection()
    sql = query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        cursor.execute(str(sql))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _add_milestones(session: Session, period: str, by_contract: dict[str, ContractFacts]) -> None:
    """Milestones accepted (or invoiced, which needs acceptance) up to ``period``."""
    by_project = {f.info.project_id: f for f in by_contract.values() if f.info.project_id}
    m = MilestoneBillingRow
    rows = session.execute(
        select(m.milestone_id, m.project_id, m.accepted_at, m.completed_at, m.status)
    )
    for milestone_id, project_id, accepted_at, completed_at, status in rows:
        facts = by_project.get(project_id)
        when = accepted_at or (completed_at if status == "invoiced" else None)
        if facts is None or when is None or month(when) > period:
            continue
        facts.accepted[milestone_id] = month(when)


def _add_invoices(
    session: Session, entity: str, period: str, by_contract: dict[str, ContractFacts]
) -> None:
    """Invoices live in the ERP (net of tax) and payments applied to them, net of tax."""
    i = InvoiceRow
    rows = session.execute(
        select(i.invoice_id, i.contract_id, i.invoice_date, i.net, i.tax).where(
            i.legal_entity == entity, i.erp_id.is_not(None), i.status != REJECTED
        )
    )
    net_share: dict[str, tuple[ContractFacts, Decimal]] = {}
    for invoice_id, contract_id, invoice_date, net, tax in rows:
        facts = by_contract.get(contract_id)
        if facts is None or month(invoice_date) > period:
            continue
        _bump(facts.billed, month(invoice_date), net)
        facts.invoices.append(invoice_id)
        gross = net + tax
        net_share[invoice_id] = (facts, net / gross if gross else Decimal(1))
    _add_payments(session, period, net_share)


def _add_payments(
    session: Session, period: str, net_share: dict[str, tuple[ContractFacts, Decimal]]
) -> None:
    p = PaymentRow
    rows = session.execute(
        select(p.invoice_id, p.amount, p.payment_date).where(p.invoice_id.is_not(None))
    )
    for invoice_id, amount, payment_date in rows:
        found = net_share.get(invoice_id or "")
        if found is None or month(payment_date) > period:
            continue
        facts, share = found
        # Tax collected is owed to the authority, not consideration: keep the net share.
        _bump(facts.collected, month(payment_date), (amount * share).quantize(Decimal("0.01")))


def _bump(bucket: dict[str, Decimal], key: str, amount: Decimal) -> None:
    bucket[key] = bucket.get(key, ZERO) + amount


def periods_between(first: str, last: str) -> tuple[str, ...]:
    """Month labels from ``first`` to ``last`` inclusive."""
    year, mon = int(first[:4]), int(first[5:7])
    out = []
    while True:
        label = f"{year:04d}-{mon:02d}"
        out.append(label)
        if label >= last:
            return tuple(out)
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)


def next_period(label: str) -> str:
    year, mon = int(label[:4]), int(label[5:7])
    return f"{year + 1:04d}-01" if mon == 12 else f"{year:04d}-{mon + 1:02d}"


def grouped(items: list[ContractFacts]) -> dict[str, list[ContractFacts]]:
    """Facts grouped by billing model (for summaries)."""
    out: dict[str, list[ContractFacts]] = defaultdict(list)
    for item in items:
        out[item.info.billing_model].append(item)
    return out
