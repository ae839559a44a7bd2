"""NetSuite REST web services error bodies, and the sandbox faults rendered in that shape.

Followed: Oracle NetSuite Help, "Error Handling in REST Web Services" (section_156570709583):
an error is ``{"type", "title", "status", "o:errorDetails": [{"detail", "o:errorCode",
"o:errorPath"?, "o:urlPath"?, "o:errorHeader"?, "o:errorQueryParam"?}]}``. The ``type`` links
follow what live accounts answer today (``https://www.rfc-editor.org/rfc/rfc9110.html#...``).
Codes used here: INVALID_LOGIN (401, documented), INVALID_CONTENT (bad value or reference,
documented), USER_ERROR (record rules), NONEXISTENT_ID (404), INVALID_PARAMETER (query
parameters, seen live with ``o:errorQueryParam: "q"``), INVALID_ID (malformed id in the URL),
CONCURRENCY_LIMIT_EXCEEDED (429, with NetSuite's "Concurrent request limit exceeded. Request
blocked." text), INSUFFICIENT_PERMISSION (403), UNEXPECTED_ERROR (500). INVALID_RECORD_TYPE,
REQUEST_LIMIT_EXCEEDED and SERVICE_UNAVAILABLE are the sandbox's names for cases the docs
do not spell out (unknown record type, injected rate limit, injected outage).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import JSONResponse, Response

ERROR_MEDIA_TYPE = "application/vnd.oracle.resource+json; type=error"

_RFC9110 = "https://www.rfc-editor.org/rfc/rfc9110.html#section-"
_TYPES: dict[int, tuple[str, str]] = {
    400: ("Bad Request", _RFC9110 + "15.5.1"),
    401: ("Unauthorized", _RFC9110 + "15.5.2"),
    403: ("Forbidden", _RFC9110 + "15.5.4"),
    404: ("Not Found", _RFC9110 + "15.5.5"),
    405: ("Method Not Allowed", _RFC9110 + "15.5.6"),
    429: ("Too Many Requests", "https://www.rfc-editor.org/rfc/rfc6585.html#section-4"),
    500: ("Internal Server Error", _RFC9110 + "15.6.1"),
    503: ("Service Unavailable", _RFC9110 + "15.6.4"),
}

INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)
CONCURRENCY_DETAIL = (
    "Concurrent request limit exceeded. Request blocked. Verify your concurrency limits at "
    "Setup > Integration > Integration Management > Integration Governance."
)


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of ``o:errorDetails``."""

    detail: str
    code: str
    path: str | None = None  # o:errorPath: JSON path into the request body
    query_param: str | None = None  # o:errorQueryParam
    url_path: str | None = None  # o:urlPath

    def as_json(self) -> dict[str, str]:
        body = {"detail": self.detail, "o:errorCode": self.code}
        for key, value in (
            ("o:errorPath", self.path),
            ("o:errorQueryParam", self.query_param),
            ("o:urlPath", self.url_path),
        ):
            if value is not None:
                body[key] = value
        return body


@dataclass
class NsError(Exception):
    """Raised by sandbox handlers; rendered by :func:`error_response`."""

    status: int
    details: list[ErrorDetail] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def one(cls, status: int, code: str, detail: str, **where: str | None) -> NsError:
        return cls(status, [ErrorDetail(detail, code, **where)])


def error_body(status: int, details: list[ErrorDetail]) -> dict[str, Any]:
    title, type_uri = _TYPES.get(status, ("Error", _RFC9110 + "15"))
    return {
        "type": type_uri,
        "title": title,
        "status": status,
        "o:errorDetails": [d.as_json() for d in details],
    }


def error_response(error: NsError) -> Response:
    return JSONResponse(
        error_body(error.status, error.details),
        status_code=error.status,
        media_type=ERROR_MEDIA_TYPE,
        headers=error.headers,
    )


_FAULTS: dict[str, tuple[str, str]] = {
    "concurrency": ("CONCURRENCY_LIMIT_EXCEEDED", CONCURRENCY_DETAIL),
    "rate_limit": ("REQUEST_LIMIT_EXCEEDED", "Request limit exceeded. Request blocked."),
    "outage": (
        "SERVICE_UNAVAILABLE",
        "The account you are trying to access is currently "
        "unavailable while we undergo our regularly scheduled maintenance.",
    ),
    "error": ("UNEXPECTED_ERROR", "An unexpected error occurred."),
}


def fault_response(kind: str, status: int, message: str, retry_after: float | None) -> Response:
    """make_app's ErrorFactory: an injected fault in NetSuite's error shape."""
    code, detail = _FAULTS.get(kind, ("UNEXPECTED_ERROR", message))
    headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after else {}
    return error_response(NsError(status, [ErrorDetail(detail, code)], headers))
