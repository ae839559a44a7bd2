"""NetSuite answers -> :mod:`pshub.connectors.errors`.

429, or any status with CONCURRENCY_LIMIT_EXCEEDED / SSS_REQUEST_LIMIT_EXCEEDED
                               -> ConcurrencyLimitError (never an auth failure)
429 otherwise                  -> RateLimitedError (Retry-After honoured)
401, 403                       -> UnauthorizedError
404                            -> NotFoundError
408, 5xx                       -> TransientError
other 4xx                      -> RejectedError, ``fields`` = the ``o:errorPath`` values
"""

from __future__ import annotations

import httpx
from pydantic import ValidationError

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
from pshub.connectors.netsuite.mapping import error_fields
from pshub.connectors.netsuite.models import NsErrorBody

VENDOR = "netsuite"
CONCURRENCY_CODES = frozenset(
    {
        "CONCURRENCY_LIMIT_EXCEEDED",
        "SSS_REQUEST_LIMIT_EXCEEDED",
        "WS_REQUEST_BLOCKED",
        "WS_CONCUR_SESSION_DISALLWD",
    }
)


def _body(response: httpx.Response) -> NsErrorBody:
    try:
        return NsErrorBody.model_validate(response.json())
    except (ValueError, ValidationError):
        return NsErrorBody()


def from_response(
    response: httpx.Response, *, operation: str, record: str | None = None
) -> ConnectorError:
    """The connector error for a non-2xx NetSuite answer."""
    body = _body(response)
    first = body.details[0] if body.details else None
    code = first.code if first else None
    message = (first.detail if first else "") or body.title or response.reason_phrase
    status = response.status_code
    common: dict[str, object] = {
        "vendor": VENDOR,
        "operation": operation,
        "status": status,
        "code": code,
        "record": record,
    }
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if code in CONCURRENCY_CODES:
        return ConcurrencyLimitError(message, retry_after=retry_after, **common)
    if status == 429:
        return RateLimitedError(message, retry_after=retry_after, **common)
    if status in (401, 403):
        return UnauthorizedError(message, **common)  # type: ignore[arg-type]
    if status == 404:
        return NotFoundError(message, **common)  # type: ignore[arg-type]
    if status == 408 or status >= 500:
        return TransientError(message, **common)  # type: ignore[arg-type]
    return RejectedError(message, fields=error_fields(body), **common)  # type: ignore[arg-type]


def from_transport(
    exc: httpx.HTTPError, *, operation: str, record: str | None = None
) -> TransientError:
    """Network failures and timeouts are worth retrying."""
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    return TransientError(
        f"request {kind}: {exc!r}", vendor=VENDOR, operation=operation, record=record
    )
