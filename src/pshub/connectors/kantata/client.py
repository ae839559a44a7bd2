"""The Kantata OX wire client: bearer auth, the response envelope, paging, error translation.

Errors (see :mod:`pshub.connectors.errors`): 401/403 -> UnauthorizedError; 404 ->
NotFoundError; 400/422 -> RejectedError with the ``field`` of each validation error; 429 ->
RateLimitedError with ``Retry-After`` (ConcurrencyLimitError when the message names the
concurrent-request limit); 5xx, network failures and timeouts -> TransientError.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from pshub.connectors.errors import (
    ConcurrencyLimitError,
    ConnectorError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
    UnauthorizedError,
    parse_retry_after,
)
from pshub.connectors.kantata.models import results

VENDOR = "kantata"
MAX_PER_PAGE = 200

Params = Mapping[str, str | int | bool]


def _query(params: Params) -> dict[str, str]:
    return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in params.items()}


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def translate(response: httpx.Response, operation: str) -> ConnectorError:
    """The connector error for a non-2xx Kantata answer."""
    errors = _errors(response)
    message = "; ".join(str(e.get("message", "")) for e in errors) or response.reason_phrase
    status = response.status_code
    code = str(errors[0].get("type")) if errors and errors[0].get("type") else None
    kw: dict[str, Any] = {"vendor": VENDOR, "operation": operation, "status": status, "code": code}
    if status in (401, 403):
        return UnauthorizedError(message, **kw)
    if status == 404:
        return NotFoundError(message, **kw)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        kind = ConcurrencyLimitError if "concurrent" in message.lower() else RateLimitedError
        return kind(message, retry_after=retry_after, **kw)
    if status >= 500:
        return TransientError(message, **kw)
    fields = tuple(str(e["field"]) for e in errors if e.get("field"))
    return RejectedError(message, fields=fields, **kw)


class KantataClient:
    """Thin HTTP layer over ``{base_url}/api/v1``; every call returns the decoded envelope."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        operation = f"{method} {path}"
        try:
            response = self._http.request(method, path, params=_query(params or {}), json=json)
        except httpx.TimeoutException as exc:
            raise TransientError(f"timeout: {exc}", vendor=VENDOR, operation=operation) from exc
        except httpx.HTTPError as exc:
            raise TransientError(f"network: {exc}", vendor=VENDOR, operation=operation) from exc
        if response.status_code >= 400:
            raise translate(response, operation)
        if response.status_code == 204 or not response.content:
            return {}
        try:
            body = response.json()
        except ValueError as exc:
            raise TransientError(
                "answer is not JSON",
                vendor=VENDOR,
                operation=operation,
                status=response.status_code,
            ) from exc
        return body if isinstance(body, dict) else {}

    def pages(
        self, path: str, params: Params | None = None, *, per_page: int = MAX_PER_PAGE
    ) -> Iterator[dict[str, Any]]:
        """Every page's envelope, following ``meta.page_count``."""
        page = 1
        while True:
            body = self.request(
                "GET", path, params={**(params or {}), "page": page, "per_page": per_page}
            )
            yield body
            meta = body.get("meta") or {}
            if page >= int(meta.get("page_count") or 0) or not body.get("results"):
                return
            page += 1

    def records(self, path: str, params: Params | None = None) -> Iterator[dict[str, Any]]:
        """Every primary record across pages, in ``results`` order."""
        for body in self.pages(path, params):
            yield from results(body)
