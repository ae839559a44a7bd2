"""Anaplan answers translated into :mod:`pshub.connectors.errors`.

401/403 -> UnauthorizedError; 404 -> NotFoundError; 409 (the model is busy with another
import, export or process: help.anaplan.com *Troubleshooting API usage*) and 423 (model
locked) -> ConcurrencyLimitError with ``retry_after``; 429 -> RateLimitedError; 5xx, network
failures and timeouts -> TransientError; other 4xx -> RejectedError. The message comes from
the integration ``ErrorResponse`` (``status.message``) or the auth service's ``statusMessage``.
"""

from __future__ import annotations

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

VENDOR = "anaplan"


def _message_and_code(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body: Any = response.json()
    except ValueError:
        return response.reason_phrase or f"HTTP {response.status_code}", None
    if not isinstance(body, dict):
        return response.reason_phrase, None
    status = body.get("status")
    if isinstance(status, dict):  # integration API: {"status": {"code", "message"}}
        return str(status.get("message") or response.reason_phrase), str(status.get("code"))
    if isinstance(status, str):  # auth service: {"status": "FAILURE_…", "statusMessage"}
        return str(body.get("statusMessage") or status), status
    return response.reason_phrase, None


def translate(response: httpx.Response, operation: str) -> ConnectorError:
    """The connector error for a non-2xx Anaplan answer."""
    message, code = _message_and_code(response)
    status = response.status_code
    kw: dict[str, Any] = {"vendor": VENDOR, "operation": operation, "status": status, "code": code}
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status in (401, 403):
        return UnauthorizedError(message, **kw)
    if status == 404:
        return NotFoundError(message, **kw)
    if status in (409, 423):
        return ConcurrencyLimitError(message, retry_after=retry_after, **kw)
    if status == 429:
        return RateLimitedError(message, retry_after=retry_after, **kw)
    if status >= 500:
        return TransientError(message, **kw)
    return RejectedError(message, **kw)


def network(exc: httpx.HTTPError, operation: str) -> TransientError:
    kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "network"
    return TransientError(f"{kind}: {exc}", vendor=VENDOR, operation=operation)
