"""Check Anaplan sandbox traffic against the vendor's OpenAPI 3.0 descriptions.

Two files: ``authentication-openapi.yaml`` (server ``https://auth.anaplan.com``, paths
``/token/...``) and ``integration-openapi.yaml`` (server ``https://api.anaplan.com/2/0``).
A sandbox URL is routed by its path: ``/token/...`` to the first, ``/2/0/...`` to the second.
``openapi-core`` validates responses against the operation matching (method, path) and the
answered status; :func:`check_schema` validates a body against one component schema, for
answers the spec documents only by shape (a 401 or a 409 on an operation that lists neither).

The directory defaults to ``../shared/vendor-specs/anaplan`` beside the repository (where CI
places ``shared/``) and can be moved with ``PSHUB_ANAPLAN_SPECS``. Under CI the files must be
there: the conformance tests fail instead of skipping.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

_BESIDE_REPO = Path(__file__).resolve().parents[3].parent / "shared" / "vendor-specs" / "anaplan"
SPEC_DIR = Path(os.environ.get("PSHUB_ANAPLAN_SPECS", str(_BESIDE_REPO)))
REQUIRED = os.environ.get("CI") == "true"
AUTH_FILE = "authentication-openapi.yaml"
API_FILE = "integration-openapi.yaml"
HOSTS = {AUTH_FILE: "https://auth.anaplan.com", API_FILE: "https://api.anaplan.com"}


class SpecMismatch(AssertionError):
    """A request or response that does not follow the vendor OpenAPI."""


def available() -> bool:
    return (SPEC_DIR / AUTH_FILE).is_file() and (SPEC_DIR / API_FILE).is_file()


@cache
def _spec(name: str) -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC_DIR / name))


@cache
def _document(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SPEC_DIR / name).read_text(encoding="utf-8"))
    return loaded


def _route(url_or_path: str) -> tuple[str, str]:
    path = urlsplit(url_or_path).path
    if path.startswith("/token/"):
        return AUTH_FILE, path
    if path.startswith("/2/0/"):
        return API_FILE, path
    raise SpecMismatch(f"{url_or_path}: neither /token/ nor /2/0/")


def _request(
    name: str, method: str, path: str, data: bytes | None, content_type: str | None
) -> MockRequest:
    return MockRequest(
        HOSTS[name],
        method.lower(),
        path,
        data=data,
        content_type=content_type or "",
        headers={"Authorization": "AnaplanAuthToken spec-check"},
    )


def check_response(
    method: str, url: str, status: int, data: bytes, content_type: str | None
) -> None:
    """Raise SpecMismatch unless the answer fits the schema of (operation, status)."""
    name, path = _route(url)
    media = (content_type or "").split(";")[0].strip()
    response = MockResponse(data, status_code=status, content_type=media)
    try:
        _spec(name).validate_response(_request(name, method, path, None, None), response)
    except Exception as exc:  # openapi-core raises several types; report them as one
        raise SpecMismatch(f"{method} {path} -> {status}: {_detail(exc)}") from exc


def check_request(method: str, url: str, body: Any, content_type: str = "application/json") -> None:
    """Raise SpecMismatch unless the request body fits the operation."""
    name, path = _route(url)
    data = (
        body if isinstance(body, bytes) else (None if body is None else json.dumps(body).encode())
    )
    try:
        _spec(name).validate_request(_request(name, method, path, data, content_type))
    except Exception as exc:
        raise SpecMismatch(f"{method} {path} request: {_detail(exc)}") from exc


def check_schema(name: str, schema: str, body: Any) -> None:
    """Raise SpecMismatch unless ``body`` fits ``#/components/schemas/<schema>`` of ``name``."""
    document = _document(name)
    validator = OAS30Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": document["components"]}
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    if errors:
        raise SpecMismatch(f"{schema}: {' | '.join(errors)}")


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
