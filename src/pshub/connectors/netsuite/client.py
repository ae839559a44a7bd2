"""NetSuite connector: SuiteTalk REST record service over TBA, implementing ``ErpPort``.

Every write is an upsert by external id (``PUT /{type}/eid:PSHUB-...``, 204 + ``Location``),
so a replayed step updates the record it created. All requests of one account in this
process share one concurrency budget (:mod:`.budget`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx

from pshub.connectors.errors import ConcurrencyLimitError, NotFoundError, TransientError
from pshub.connectors.netsuite import mapping
from pshub.connectors.netsuite.auth import TbaSigner
from pshub.connectors.netsuite.budget import BudgetExhausted, budget_for
from pshub.connectors.netsuite.bulk import MAX_BATCH, BulkWriter
from pshub.connectors.netsuite.errors import VENDOR, from_response, from_transport
from pshub.connectors.netsuite.ledger import LedgerMixin
from pshub.connectors.netsuite.models import NsCustomer, NsJob, NsPage
from pshub.connectors.netsuite.sales_orders import SalesOrderMixin
from pshub.connectors.netsuite.wirejson import dumps, loads
from pshub.connectors.retry import RetryPolicy
from pshub.domain.parties import Account, LegalEntity
from pshub.domain.projects import Project
from pshub.flows.ports import ErpBillingLine, ErpPostResult

RECORD_PATH = "/services/rest/record/v1"
# A signature older than this when its slot frees is made afresh (NetSuite checks the
# OAuth timestamp against its clock, within minutes).
RESIGN_AFTER_SECONDS = 30.0


class NetSuiteConnector(LedgerMixin, SalesOrderMixin):
    """The ERP port for NetSuite: customers and jobs, and (:class:`LedgerMixin`) time,
    expenses, invoices, credit memos, payments, journals and accounting periods.

    ``batch_size`` (1..100) records go in one batch request; at most ``max_concurrency``
    requests are in flight, shared with every connector of the account in this process.
    """

    system = "netsuite"

    def __init__(
        self,
        base_url: str,
        account_id: str,
        consumer_key: str,
        consumer_secret: str,
        token_id: str,
        token_secret: str,
        *,
        timeout: float = 10.0,
        max_concurrency: int = 5,
        batch_size: int = MAX_BATCH,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._root = base_url.rstrip("/")
        self._base = self._root + RECORD_PATH
        self._signer = TbaSigner(account_id, consumer_key, consumer_secret, token_id, token_secret)
        self.budget = budget_for(account_id, max_concurrency)
        self._budget_wait = timeout * 6  # a slot frees within a few request timeouts
        self._http = httpx.Client(timeout=timeout, transport=transport)
        self._currency_ids: dict[str, str] = {}
        self._currency_codes: dict[str, str] = {}
        self.bulk = BulkWriter(
            self._send,
            batch_size=batch_size,
            workers=max_concurrency,
            policy=retry or RetryPolicy(),
        )

    # -- ErpPort -----------------------------------------------------------------------
    def upsert_customer(
        self, account: Account, entity: LegalEntity, parent_erp_id: str | None
    ) -> str:
        """Create or update the customer keyed by external id; returns its internal id."""
        body = mapping.customer_body(
            account, entity, parent_erp_id, self.currency_id(entity.currency)
        )
        return self._upsert("customer", account.id, body)

    def upsert_job(self, project: Project, customer_erp_id: str, entity: LegalEntity) -> str:
        """Create or update the job (project) under the customer; returns its internal id."""
        body = mapping.job_body(
            project, customer_erp_id, entity, self.currency_id(project.currency)
        )
        return self._upsert("job", project.id, body)

    # -- reads -------------------------------------------------------------------------
    def post_billing_lines(self, lines: list[ErpBillingLine]) -> list[ErpPostResult]:
        """The hub's ErpBillingPort: time bills and expenses in batches (see billing_port)."""
        from pshub.connectors.netsuite.billing_port import post_billing_lines

        return post_billing_lines(self, lines)

    def get_customer(self, internal_id: str) -> NsCustomer:
        return NsCustomer.model_validate(self._get_json(f"/customer/{internal_id}"))

    def get_job(self, internal_id: str) -> NsJob:
        return NsJob.model_validate(self._get_json(f"/job/{internal_id}"))

    def find_ids(self, record_type: str, q: str, *, limit: int = 1000) -> list[str]:
        """Internal ids of the records matching the collection filter ``q``, all pages."""
        ids: list[str] = []
        offset = 0
        while True:
            page = NsPage.model_validate(
                self._get_json(f"/{record_type}", params={"q": q, "limit": limit, "offset": offset})
            )
            ids += [item.id for item in page.items]
            if not page.has_more:
                return ids
            offset += limit

    def currency_id(self, iso_code: str) -> str:
        """NetSuite's internal id of a currency (looked up once by its ISO symbol)."""
        if iso_code not in self._currency_ids:
            found = self.find_ids("currency", f'symbol IS "{iso_code}"', limit=10)
            if not found:
                raise NotFoundError(
                    f"currency {iso_code} is not set up in NetSuite",
                    vendor=VENDOR,
                    operation="currency",
                    record=iso_code,
                    fields=("currency",),
                )
            self._currency_ids[iso_code] = found[0]
        return self._currency_ids[iso_code]

    # -- wire --------------------------------------------------------------------------
    def _upsert(self, record_type: str, canonical: str, body: dict[str, Any]) -> str:
        path = mapping.record_path(record_type, canonical)
        response = self._send(
            "PUT", path, operation=f"upsert {record_type}", record=canonical, json=body
        )
        internal = mapping.id_from_location(response.headers.get("Location"))
        if internal is None:  # not expected from NetSuite; read the record back instead
            internal = str(self._get_json(path)["id"])
        return internal

    def _get_json(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._send("GET", path, operation=f"get {path.split('/')[1]}", params=params)
        try:
            data = loads(response.content)
        except ValueError as exc:
            raise TransientError(
                "NetSuite answered with a body that is not JSON",
                vendor=VENDOR,
                operation="get",
                status=response.status_code,
            ) from exc
        return data if isinstance(data, dict) else {}

    def _send(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        record: str | None = None,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        passthrough: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response:
        """One signed request within the account budget; non-2xx answers become connector
        errors unless ``passthrough`` accepts them. ``path`` may be absolute (async jobs)."""
        url = httpx.URL(self._absolute(path), params=params)
        body = dumps(json) if json is not None else content
        sent = {"Accept": "application/json", **(headers or {})}
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        # The request is built and signed before a slot is taken: a slot is the account's
        # scarcest resource, held only while the vendor works on the request. A signature
        # that waited long for its slot is made again (NetSuite refuses stale timestamps).
        try:
            request = self._http.build_request(method, url, content=body, headers=sent)
            signed = self._sign(request)
            with self.budget.slot(self._budget_wait):
                if time.monotonic() - signed > RESIGN_AFTER_SECONDS:
                    self._sign(request)
                response = self._http.send(request)
        except BudgetExhausted as exc:
            raise ConcurrencyLimitError(
                str(exc), vendor=VENDOR, operation=operation, record=record
            ) from exc
        except httpx.HTTPError as exc:
            raise from_transport(exc, operation=operation, record=record) from exc
        if response.is_success or (passthrough is not None and passthrough(response)):
            return response
        raise from_response(response, operation=operation, record=record)

    def _sign(self, request: httpx.Request) -> float:
        """Sign ``request`` (TBA ``Authorization`` header); returns when it was signed."""
        request.headers["Authorization"] = self._signer.authorization(
            request.method, str(request.url)
        )
        return time.monotonic()

    def _absolute(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        if path.startswith("/services/"):  # a Location given relative to the host
            return self._root + path
        return self._base + path

    # -- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NetSuiteConnector:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
