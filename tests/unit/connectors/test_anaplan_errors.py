"""Anaplan answers translate into the one connector error tree."""

from __future__ import annotations

import httpx
import pytest

from pshub.connectors.anaplan.errors import translate
from pshub.connectors.errors import (
    ConcurrencyLimitError,
    ConnectorError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
    UnauthorizedError,
)


def _answer(
    status: int, message: str = "x", headers: dict[str, str] | None = None
) -> httpx.Response:
    body = {"status": {"code": status, "message": message}, "path": "/2/0/workspaces"}
    return httpx.Response(status, json=body, headers=headers or {})


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, RejectedError),
        (401, UnauthorizedError),
        (403, UnauthorizedError),
        (404, NotFoundError),
        (409, ConcurrencyLimitError),
        (423, ConcurrencyLimitError),
        (429, RateLimitedError),
        (500, TransientError),
        (503, TransientError),
    ],
)
def test_each_status_maps_to_its_connector_error(status: int, kind: type[ConnectorError]) -> None:
    error = translate(_answer(status, "why"), "GET /x")
    assert type(error) is kind
    assert (error.vendor, error.status, error.message) == ("anaplan", status, "why")


def test_a_busy_model_carries_the_retry_after_it_was_given() -> None:
    error = translate(_answer(409, "Model is busy", {"Retry-After": "3"}), "POST /tasks")
    assert isinstance(error, ConcurrencyLimitError) and error.retry_after == 3.0
    assert error.retryable


def test_an_auth_service_refusal_keeps_its_failure_code() -> None:
    body = {"status": "FAILURE_BAD_CREDENTIAL", "statusMessage": "Invalid credentials"}
    error = translate(httpx.Response(401, json=body), "POST /token/authenticate")
    assert isinstance(error, UnauthorizedError)
    assert (error.code, error.message) == ("FAILURE_BAD_CREDENTIAL", "Invalid credentials")


def test_a_non_json_answer_still_translates() -> None:
    error = translate(httpx.Response(502, text="<html>bad gateway</html>"), "GET /x")
    assert isinstance(error, TransientError) and error.message == "Bad Gateway"
