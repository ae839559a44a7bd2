"""Check Kantata sandbox traffic against the vendor's public OpenAPI descriptions.

``openapi-core`` reads these OpenAPI 3.2 files, so responses (and request bodies) are
validated against the operation matching (method, path) and the answered status. One file per
resource group (``mavenlink-<group>-api-openapi.yml``); ``/api/v1/time_entries/5.json`` is
checked against ``mavenlink-time-entries-api-openapi.yml`` at ``/time_entries/{id}``.
Reusable for later resources: add nothing, the file is found by the path's first segment.

The directory defaults to ``../shared/vendor-specs/kantata`` beside the repository (where CI
places ``shared/``) and can be moved with ``PSHUB_KANTATA_SPECS``. Under CI the files must be
there: the conformance tests fail instead of skipping.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

_BESIDE_REPO = Path(__file__).resolve().parents[3].parent / "shared" / "vendor-specs" / "kantata"
SPEC_DIR = Path(os.environ.get("PSHUB_KANTATA_SPECS", str(_BESIDE_REPO)))
REQUIRED = os.environ.get("CI") == "true" or os.environ.get("PSHUB_REQUIRE_POSTGRES") == "1"
HOST = "https://api.mavenlink.com"
_FILE_FOR = {"subscribed_events": "events"}  # path segment -> file stem when they differ


class SpecMismatch(AssertionError):
    """A request or response that does not follow the vendor OpenAPI."""


def available() -> bool:
    return SPEC_DIR.is_dir() and any(SPEC_DIR.glob("mavenlink-*-api-openapi.yml"))


@cache
def _spec(group: str) -> OpenAPI:
    stem = _FILE_FOR.get(group, group).replace("_", "-")
    return OpenAPI.from_file_path(str(SPEC_DIR / f"mavenlink-{stem}-api-openapi.yml"))


def spec_path(url_or_path: str) -> tuple[str, str]:
    """(resource group, path as the spec's server sees it) for a sandbox URL or path."""
    path = urlsplit(url_or_path).path
    if path.endswith(".json"):
        path = path[: -len(".json")]
    if not path.startswith("/api/v1/"):
        raise SpecMismatch(f"{url_or_path}: not under /api/v1")
    return path.split("/")[3], path


def _request(
    method: str, path: str, body: Any = None, query: dict[str, str] | None = None
) -> MockRequest:
    data = None if body is None else json.dumps(body).encode()
    return MockRequest(
        HOST, method.lower(), path, args=query or {}, data=data, content_type="application/json"
    )


def check_response(method: str, url: str, status: int, body: Any) -> None:
    """Raise SpecMismatch unless ``body`` fits the schema of (operation, status)."""
    group, path = spec_path(url)
    raw = b"" if body is None else json.dumps(body).encode()
    response = MockResponse(raw, status_code=status, content_type="application/json")
    try:
        _spec(group).validate_response(_request(method, path), response)
    except Exception as exc:  # openapi-core raises several types; report them as one
        raise SpecMismatch(f"{method} {path} -> {status}: {_detail(exc)}") from exc


def check_request(method: str, url: str, body: Any, query: dict[str, str] | None = None) -> None:
    """Raise SpecMismatch unless the request body and query fit the operation."""
    group, path = spec_path(url)
    try:
        _spec(group).validate_request(_request(method, path, body, query))
    except Exception as exc:
        raise SpecMismatch(f"{method} {path} request: {_detail(exc)}") from exc


def _detail(exc: BaseException) -> str:
    parts = [str(exc)]
    cause = exc.__cause__
    while cause is not None:
        parts.append(str(cause))
        cause = cause.__cause__
    schema_errors = getattr(exc, "schema_errors", None) or getattr(
        exc.__cause__, "schema_errors", None
    )
    if schema_errors:
        parts.extend(f"{list(e.absolute_path)}: {e.message}" for e in schema_errors)
    return " | ".join(parts)[:2000]
