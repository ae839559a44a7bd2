"""Salesforce and HTTP failures -> :mod:`pshub.connectors.errors`.

REST errors are ``[{"message", "errorCode", "fields"}]``; OAuth errors are
``{"error", "error_description"}``. ``403 REQUEST_LIMIT_EXCEEDED`` is the daily allowance
(RateLimitedError) or, with "ConcurrentRequests", the concurrent-request limit.
"""

from __future__ import annotations

from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceError

from pshub.connectors.errors import (
    ConcurrencyLimitError,
    ConnectorError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
    UnauthorizedError,
)

VENDOR = "salesforce"
_OAUTH_CODES = {
    "invalid_client",
    "invalid_client_id",
    "invalid_grant",
    "unsupported_grant_type",
    "INVALID_SESSION_ID",
}


def first_error(content: Any) -> tuple[str | None, str, tuple[str, ...]]:
    """(errorCode, message, fields) of the first error in a Salesforce error body."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        err = content[0]
        fields = err.get("fields") or ()
        return err.get("errorCode"), str(err.get("message", "")), tuple(str(f) for f in fields)
    if isinstance(content, dict) and "error" in content:
        return str(content["error"]), str(content.get("error_description", "")), ()
    text = content.decode(errors="replace") if isinstance(content, bytes) else str(content)
    return None, text[:500], ()


def from_status(
    status: int,
    content: Any,
    *,
    operation: str,
    record: str | None = None,
    retry_after: float | None = None,
) -> ConnectorError:
    """The connector error for an HTTP error answer from Salesforce."""
    code, message, fields = first_error(content)
    kw: dict[str, Any] = {
        "vendor": VENDOR,
        "operation": operation,
        "status": status,
        "code": code,
        "record": record,
        "fields": fields,
    }
    message = message or f"HTTP {status}"
    if code == "REQUEST_LIMIT_EXCEEDED" or status == 429:
        limit = ConcurrencyLimitError if "ConcurrentRequests" in message else RateLimitedError
        return limit(message, retry_after=retry_after, **kw)
    if status >= 500 or status == 408:
        return TransientError(message, **kw)
    if status in (401, 403) or code in _OAUTH_CODES:
        return UnauthorizedError(message, **kw)
    if status == 404:
        return NotFoundError(message, **kw)
    return RejectedError(message, **kw)


def translate(
    exc: Exception, *, operation: str, record: str | None = None, retry_after: float | None = None
) -> ConnectorError:
    """Any simple-salesforce or requests exception as a connector error."""
    if isinstance(exc, ConnectorError):
        return exc
    if isinstance(exc, SalesforceError):
        return from_status(
            exc.status, exc.content, operation=operation, record=record, retry_after=retry_after
        )
    kw: dict[str, Any] = {"vendor": VENDOR, "operation": operation, "record": record}
    if isinstance(exc, requests.exceptions.SSLError):
        return UnauthorizedError(f"TLS verification failed: {exc}", code="TLS", **kw)
    if isinstance(exc, requests.Timeout):
        return TransientError(f"timed out: {exc}", code="TIMEOUT", **kw)
    if isinstance(exc, requests.RequestException):
        return TransientError(f"network failure: {exc}", code="NETWORK", **kw)
    return RejectedError(f"unexpected answer: {exc}", code="BAD_RESPONSE", **kw)
