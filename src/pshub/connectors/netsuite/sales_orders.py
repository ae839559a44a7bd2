"""A contract's billing lines as the job's NetSuite ``salesOrder`` (mixed into the connector).

Upsert by external id (``PUT /salesOrder/eid:PSHUB-<contract id>``); the ``item`` sublist in
the body replaces the stored lines. An order with ``orderStatus`` "A" (Pending Approval) is
locked: :meth:`SalesOrderMixin.get_contract_order` reports it so the flow can wait, and a PATCH
of ``orderStatus`` "B" approves it (REST web services guide, "Use Case For Approving Your Sales
Order").
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from pshub.connectors.errors import NotFoundError
from pshub.domain.ids import external_id
from pshub.domain.money import Money
from pshub.flows.contract_ports import ErpOrderDraft, ErpOrderState

SERVICE_ITEM = "1"  # Professional Services
PENDING_APPROVAL, APPROVED = "A", "B"


class NsSalesOrder(BaseModel):
    """The fields of a sales order the hub reads (others ignored)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    orderStatus: str | None = None
    status: dict[str, Any] | None = None
    total: Decimal = Decimal(0)
    item: dict[str, Any] | None = None


def order_body(draft: ErpOrderDraft, currency_id: str) -> dict[str, Any]:
    """The sales order for a contract version."""
    body: dict[str, Any] = {
        "entity": {"id": draft.customer_job_id},
        "job": {"id": draft.customer_job_id},
        "currency": {"id": currency_id},
        "tranDate": draft.tran_date.isoformat(),
        "memo": f"pshub contract {draft.contract_id} v{draft.version}",
        "otherRefNum": f"v{draft.version}",
        "item": {"items": [_line(line) for line in draft.lines]},
    }
    if draft.start_date is not None:
        body["startDate"] = draft.start_date.isoformat()
    if draft.end_date is not None:
        body["endDate"] = draft.end_date.isoformat()
    return body


def _line(line: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "item": {"id": SERVICE_ITEM},
        "quantity": 1,
        "rate": str(line.amount.amount),
        "amount": str(line.amount.amount),
        "description": line.description,
        "custcol_pshub_line": line.line_id,
    }
    if line.bill_date is not None:
        out["custcol_pshub_bill_date"] = line.bill_date.isoformat()
    return out


class SalesOrderMixin:
    """Mixed into :class:`~pshub.connectors.netsuite.client.NetSuiteConnector`."""

    def _upsert(self, record_type: str, canonical: str, body: dict[str, Any]) -> str:
        raise NotImplementedError

    def _get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    _send: Callable[..., Any]  # the connector's signed, budgeted request

    def currency_id(self, iso_code: str) -> str:
        raise NotImplementedError

    def upsert_contract_order(self, draft: ErpOrderDraft) -> str:
        """Create or update the contract's sales order; its internal id."""
        body = order_body(draft, self.currency_id(draft.currency))
        return self._upsert("salesOrder", draft.contract_id, body)

    def get_contract_order(self, contract_id: str) -> ErpOrderState | None:
        """The contract's sales order and whether it awaits approval; None if there is none."""
        try:
            data = self._get_json(f"/salesOrder/eid:{external_id(contract_id)}")
        except NotFoundError:
            return None
        order = NsSalesOrder.model_validate(data)
        status = order.status or {}
        currency = self._currency_symbol(str((data.get("currency") or {}).get("id") or "1"))
        return ErpOrderState(
            erp_id=order.id,
            status=str(status.get("refName") or order.orderStatus or ""),
            pending_approval=order.orderStatus == PENDING_APPROVAL,
            total=Money.of(order.total, currency),
            lines=len((order.item or {}).get("items", [])),
        )

    def _currency_symbol(self, currency_id: str) -> str:
        codes: dict[str, str] = self.__dict__.setdefault("_order_currency_codes", {})
        if currency_id not in codes:
            codes[currency_id] = str(self._get_json(f"/currency/{currency_id}")["symbol"])
        return codes[currency_id]

    def set_order_status(self, internal_id: str, letter: str) -> None:
        """Approve ("B") or send back to approval ("A") a sales order."""
        self._send(
            "PATCH",
            f"/salesOrder/{internal_id}",
            operation="approve salesOrder",
            record=internal_id,
            json={"orderStatus": letter},
        )
