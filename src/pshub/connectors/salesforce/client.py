"""The Salesforce connector: OAuth 2.0 client credentials + the REST API via simple-salesforce.

The token comes from ``POST {base_url}/services/oauth2/token`` (client credentials flow); the
``simple_salesforce.Salesforce`` client then talks to the returned ``instance_url`` with that
session id. On ``INVALID_SESSION_ID`` the token is fetched again once. JSON is parsed with
``parse_float=Decimal`` and written with exact decimal numbers, so money never passes through
float. Every failure leaves as :mod:`pshub.connectors.errors`.
"""

from __future__ import annotations

import re
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from pydantic import ValidationError
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession

from pshub.connectors.errors import ConnectorError, RejectedError, parse_retry_after
from pshub.domain.money import MoneyError
from pshub.domain.parties import Account
from pshub.domain.sales import Opportunity
from pshub.flows.ports import ProvisioningWriteBack

from . import mapping
from .errors import VENDOR, from_status, translate
from .records import LINE_FIELDS, SfAccount, SfOpportunity, SfOpportunityLineItem
from .wire import dumps

T = TypeVar("T")
_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")


class _Session(requests.Session):
    """A requests session with a default timeout and a CA file that the environment's
    ``REQUESTS_CA_BUNDLE`` cannot override; remembers the last Retry-After per thread."""

    def __init__(self, timeout: float, ca_file: str | None) -> None:
        super().__init__()
        self.default_timeout = timeout
        if ca_file:
            self.verify = ca_file
        self._local = threading.local()

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs.setdefault("timeout", self.default_timeout)
        if kwargs.get("verify") is None:
            kwargs["verify"] = self.verify  # explicit, so the environment bundle can't win
        self._local.retry_after = None
        response = super().request(method, url, *args, **kwargs)
        self._local.retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return response

    @property
    def retry_after(self) -> float | None:
        return getattr(self._local, "retry_after", None)


class SalesforceConnector:
    """CRM port for Salesforce (see :class:`pshub.flows.ports.CrmPort`)."""

    system = "salesforce"

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        ca_file: str | None,
        timeout: float = 10.0,
        api_version: str = "59.0",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self._client_id = client_id
        self._client_secret = client_secret
        self._session = _Session(timeout, ca_file)
        self._sf: Salesforce | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> SalesforceConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- CrmPort ------------------------------------------------------------------------

    def get_opportunity(self, source_id: str) -> Opportunity:
        opp_id = self._checked_id(source_id, "get_opportunity")
        raw = self._call(
            "get_opportunity", lambda sf: sf.restful(f"sobjects/Opportunity/{opp_id}"), opp_id
        )
        opp = self._parse(SfOpportunity, raw, "get_opportunity", opp_id)
        if not opp.AccountId:
            raise RejectedError(
                "the opportunity has no account",
                vendor=VENDOR,
                operation="get_opportunity",
                code="MISSING_ACCOUNT",
                record=opp_id,
                fields=("AccountId",),
            )
        account = self.get_account(opp.AccountId)
        soql = (
            f"SELECT {', '.join(LINE_FIELDS)} FROM OpportunityLineItem "
            f"WHERE OpportunityId = '{opp.Id}' ORDER BY CreatedDate, Id"
        )
        rows = self._call("get_opportunity", lambda sf: sf.query_all(soql)["records"], opp_id)
        lines = [self._parse(SfOpportunityLineItem, r, "get_opportunity", opp_id) for r in rows]
        return self._mapped(
            lambda: mapping.opportunity_to_canonical(opp, account, lines), "get_opportunity", opp_id
        )

    def get_account(self, source_id: str) -> Account:
        acc_id = self._checked_id(source_id, "get_account")
        raw = self._call("get_account", lambda sf: sf.restful(f"sobjects/Account/{acc_id}"), acc_id)
        acc = self._parse(SfAccount, raw, "get_account", acc_id)
        return self._mapped(lambda: mapping.account_to_canonical(acc), "get_account", acc_id)

    def write_back_provisioning(
        self, opportunity_source_id: str, ids: ProvisioningWriteBack
    ) -> None:
        opp_id = self._checked_id(opportunity_source_id, "write_back_provisioning")
        self.update_opportunity(opp_id, mapping.writeback_fields(opp_id, ids))

    # -- seeding, demo, reconciliation ----------------------------------------------------

    def create_account(self, fields: Mapping[str, Any], *, external_id: str | None = None) -> str:
        """Create an Account (or upsert it by ``PSHub_Id__c`` when ``external_id`` is given)."""
        return self._write("Account", fields, external_id, "create_account")

    def create_opportunity(
        self,
        fields: Mapping[str, Any],
        lines: Iterable[Mapping[str, Any]] = (),
        *,
        external_id: str | None = None,
    ) -> str:
        """Create an Opportunity and its line items; idempotent when ``external_id`` is given."""
        opp_id = self._write("Opportunity", fields, external_id, "create_opportunity")
        for n, line in enumerate(lines, start=1):
            line_ext = f"{external_id}-{n}" if external_id else None
            self._write(
                "OpportunityLineItem",
                {**line, "OpportunityId": opp_id},
                line_ext,
                "create_opportunity",
            )
        return opp_id

    def add_opportunity_line(self, opportunity_id: str, fields: Mapping[str, Any]) -> str:
        """Add a line item to an existing opportunity (a change order's new scope)."""
        opp_id = self._checked_id(opportunity_id, "add_opportunity_line")
        return self._write(
            "OpportunityLineItem", {**fields, "OpportunityId": opp_id}, None, "add_opportunity_line"
        )

    def update_opportunity(self, opportunity_id: str, fields: Mapping[str, Any]) -> None:
        opp_id = self._checked_id(opportunity_id, "update_opportunity")
        body = dumps(dict(fields))
        self._call(
            "update_opportunity",
            lambda sf: sf.restful(f"sobjects/Opportunity/{opp_id}", method="PATCH", data=body),
            opp_id,
        )

    def query(self, soql: str, *, batch_size: int | None = None) -> list[dict[str, Any]]:
        """Every record of a SOQL query (all pages), without ``attributes``."""
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else {}
        result = self._call("query", lambda sf: sf.query_all(soql, headers=headers))
        return [{k: v for k, v in r.items() if k != "attributes"} for r in result["records"]]

    # -- internals ----------------------------------------------------------------------

    def _write(
        self, sobject: str, fields: Mapping[str, Any], ext: str | None, operation: str
    ) -> str:
        body = dumps(dict(fields))
        if ext is None:
            result = self._call(
                operation, lambda sf: sf.restful(f"sobjects/{sobject}", method="POST", data=body)
            )
        else:
            path = f"sobjects/{sobject}/{mapping.EXTERNAL_ID_FIELD}/{quote(ext, safe='')}"
            result = self._call(
                operation,
                lambda sf: sf.restful(path, method="PATCH", data=body) or sf.restful(path),
                ext,
            )  # API < 46 answers 204 on update
        if not isinstance(result, dict) or not (result.get("id") or result.get("Id")):
            raise RejectedError(
                f"{sobject} write answered without an id",
                vendor=VENDOR,
                operation=operation,
                code="BAD_RESPONSE",
                record=ext,
            )
        return str(result.get("id") or result.get("Id"))

    def _call(self, operation: str, fn: Callable[[Salesforce], T], record: str | None = None) -> T:
        try:
            try:
                return fn(self._client())
            except SalesforceExpiredSession:
                return fn(self._client(refresh=True))  # one fresh token, then give up
        except (SalesforceError, requests.RequestException, ValueError) as exc:
            # The failed call's frames hold the HTTP response and so its socket; drop them so
            # a kept error (a retry loop, pytest.raises) does not keep the connection open.
            traceback.clear_frames(exc.__traceback__)
            raise translate(
                exc, operation=operation, record=record, retry_after=self._session.retry_after
            ) from exc

    def _client(self, refresh: bool = False) -> Salesforce:
        with self._lock:
            if self._sf is None or refresh:
                token = self._token()
                self._sf = Salesforce(
                    instance_url=token["instance_url"],
                    session_id=token["access_token"],
                    session=self._session,
                    version=self.api_version,
                    parse_float=Decimal,
                    object_pairs_hook=dict,
                )
            return self._sf

    def _token(self) -> dict[str, Any]:
        url = f"{self.base_url}/services/oauth2/token"
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        try:
            status, body = self._post_form(url, form)
        except (requests.RequestException, ValueError) as exc:
            raise translate(exc, operation="token", retry_after=self._session.retry_after) from exc
        if status != 200 or "access_token" not in body:
            raise from_status(
                status, body, operation="token", retry_after=self._session.retry_after
            )
        return dict(body)

    def _post_form(self, url: str, form: dict[str, str]) -> tuple[int, Any]:
        # A helper frame, so no raised error's traceback keeps the response (and its socket).
        with self._session.post(url, data=form) as response:
            return response.status_code, response.json() if response.content else {}

    def _checked_id(self, value: str, operation: str) -> str:
        if not _ID.match(value or ""):
            raise RejectedError(
                f"{value!r} is not a Salesforce id",
                vendor=VENDOR,
                operation=operation,
                code="MALFORMED_ID",
                record=value,
            )
        return mapping.id18(value)

    @staticmethod
    def _parse(model: type[T], raw: Any, operation: str, record: str) -> T:
        try:
            return model.model_validate(raw)  # type: ignore[attr-defined, no-any-return]
        except ValidationError as exc:
            raise _rejected(exc, operation, record) from exc

    @staticmethod
    def _mapped(build: Callable[[], T], operation: str, record: str) -> T:
        try:
            return build()
        except (ValidationError, MoneyError) as exc:
            raise _rejected(exc, operation, record) from exc


def _rejected(exc: ValidationError | MoneyError, operation: str, record: str) -> ConnectorError:
    fields: tuple[str, ...] = ()
    if isinstance(exc, ValidationError):
        fields = tuple(".".join(str(p) for p in e["loc"]) for e in exc.errors())
    return RejectedError(
        f"the record does not fit the canonical model: {exc}",
        vendor=VENDOR,
        operation=operation,
        code="INVALID_RECORD",
        record=record,
        fields=fields,
    )
