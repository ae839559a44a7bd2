"""Kantata OX error shapes: a top-level ``errors`` array of ``{type, message[, field]}``.

Follows https://developer.kantata.com/kantata/specification/section/errors ("Errors are
returned as a top-level `errors` key with an array of error objects": ``oauth`` on a refused
token, ``system`` for other failures, ``validation`` with the offending ``field``) and the
``Errors`` schema of the vendor OpenAPI files. Faults injected by ``make_app`` use the same
shape; a 429 or 503 carries ``Retry-After`` in whole seconds.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi.responses import JSONResponse


class KantataError(Exception):
    """Raised inside a route; rendered as Kantata's error body with ``status``."""

    def __init__(
        self, status: int, errors: list[dict[str, str]], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(errors[0]["message"] if errors else str(status))
        self.status = status
        self.errors = errors
        self.headers = headers or {}


class FieldErrors:
    """Collects validation errors so one 422 names every offending field."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.items.append({"type": "validation", "message": message, "field": field})

    def raise_if_any(self) -> None:
        if self.items:
            raise KantataError(422, self.items)


def system_error(status: int, message: str) -> KantataError:
    return KantataError(status, [{"type": "system", "message": message}])


def not_found(kind: str, ref: str) -> KantataError:
    return system_error(404, f"{kind} {ref} not found")


def missing_param(name: str) -> KantataError:
    return system_error(400, f"param is missing or the value is empty: {name}")


def unauthorized() -> KantataError:
    return KantataError(401, [{"type": "oauth", "message": "Invalid OAuth 2 Request"}])


def render(error: KantataError) -> JSONResponse:
    return JSONResponse({"errors": error.errors}, status_code=error.status, headers=error.headers)


def fault_response(kind: str, status: int, message: str, retry_after: float | None) -> JSONResponse:
    """The ``make_app`` ErrorFactory: an injected fault in Kantata's error shape."""
    headers: dict[str, str] = {}
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    body: dict[str, Any] = {"errors": [{"type": "system", "message": message}]}
    return JSONResponse(body, status_code=status, headers=headers)
