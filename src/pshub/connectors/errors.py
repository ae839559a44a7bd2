"""One error tree for every connector; vendor and HTTP exceptions never cross it.

ConnectorError                  vendor, operation, status, code, record, fields
 ├── TransientError             retry: network failure, timeout, 5xx, outage
 │    └── RateLimitedError      retry after ``retry_after`` seconds (429, API limits)
 │         └── ConcurrencyLimitError   the vendor's concurrent-request limit was hit
 ├── UnauthorizedError          credentials or signature refused; do not retry
 └── RejectedError              the vendor refused the request (validation); do not retry
      └── NotFoundError         the record addressed does not exist
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every connector error; carries structured fields for findings and logs."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        vendor: str,
        operation: str = "",
        status: int | None = None,
        code: str | None = None,
        record: str | None = None,
        fields: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.vendor = vendor
        self.operation = operation
        self.status = status
        self.code = code
        self.record = record
        self.fields = fields

    def _kwargs(self) -> dict[str, object]:
        return {
            "vendor": self.vendor,
            "operation": self.operation,
            "status": self.status,
            "code": self.code,
            "record": self.record,
            "fields": self.fields,
        }

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only fields survive pickling (DBOS checkpoints step errors).
        return (_rebuild, (type(self), self.message, self._kwargs()))

    def __str__(self) -> str:
        where = f"{self.vendor} {self.operation}".strip()
        extra = f" [{self.code}]" if self.code else ""
        return f"{where}: {self.message}{extra}"

    def as_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "vendor": self.vendor,
            "operation": self.operation,
            "status": self.status,
            "code": self.code,
            "record": self.record,
            "fields": list(self.fields),
            "message": self.message,
        }


class TransientError(ConnectorError):
    retryable = True


class RateLimitedError(TransientError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after

    def _kwargs(self) -> dict[str, object]:
        return {**super()._kwargs(), "retry_after": self.retry_after}


class ConcurrencyLimitError(RateLimitedError):
    pass


class UnauthorizedError(ConnectorError):
    pass


class RejectedError(ConnectorError):
    pass


class NotFoundError(RejectedError):
    pass


def _rebuild(cls: type[ConnectorError], message: str, kwargs: dict[str, object]) -> ConnectorError:
    return cls(message, **kwargs)  # type: ignore[arg-type]


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form); None when absent or unparseable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
