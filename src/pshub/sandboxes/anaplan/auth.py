"""Anaplan's authentication service: Basic login for a token, refresh, validate, logout.

Follows the Authentication API description (``authentication-openapi.yaml``): ``POST
/token/authenticate`` with ``Authorization: Basic base64(user:password)`` answers 201 with
``tokenInfo`` (``tokenValue``, ``expiresAt`` in epoch milliseconds, ``tokenId``,
``refreshTokenId``); ``POST /token/refresh`` keeps the same ``tokenValue`` and resets its
expiry; tokens live 35 minutes; integration calls send ``Authorization: AnaplanAuthToken
<tokenValue>`` (``Bearer`` is rejected). Refused credentials are 401 with ``{"status":
"FAILURE_BAD_CREDENTIAL", "statusMessage"}``; a malformed header is ``FAILURE_BAD_HEADER``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from pshub.sandboxes.anaplan.config import SandboxSettings
from pshub.sandboxes.anaplan.wire import AnaplanError, AuthError
from pshub.sandboxes.base import SandboxState

TOKENS = "anaplan_tokens"
VALIDATION_URL = "https://auth.anaplan.com/token/validate"  # the spec's only allowed value
CUSTOMER_GUID = "4f6e1d2c3b4a59687766554433221100"
_GUIDS = uuid.UUID("0b0e3c55-4d1a-4c61-9a55-2f0c7f1c9e11")


class AuthService:
    """Users, tokens and counters of the auth service (tokens persist in the state)."""

    def __init__(
        self, state: SandboxState, users: dict[str, str], settings: Callable[[], SandboxSettings]
    ) -> None:
        self.state = state
        self.users = dict(users)
        self.settings = settings
        self.counts: Counter[str] = Counter()

    def issue(self, user: str) -> dict[str, Any]:
        token: dict[str, Any] = {
            "tokenValue": secrets.token_urlsafe(40),
            "tokenId": str(uuid.uuid4()),
            "refreshTokenId": str(uuid.uuid4()),
            "user": user,
            "expiresAt": self._expiry(),
            "refreshes": 0,
        }
        self.state.put(TOKENS, token["tokenValue"], token)
        self.counts["authenticate"] += 1
        return token

    def valid(self, value: str) -> dict[str, Any] | None:
        token = self.state.get(TOKENS, value)
        if token is None or token["expiresAt"] <= time.time() * 1000:
            return None
        return token

    def refresh(self, token: dict[str, Any]) -> dict[str, Any]:
        token = {**token, "expiresAt": self._expiry(), "refreshes": token["refreshes"] + 1}
        self.state.put(TOKENS, token["tokenValue"], token)
        self.counts["refresh"] += 1
        return token

    def expire_all(self) -> int:
        tokens = self.state.all(TOKENS)
        for token in tokens:
            self.state.put(TOKENS, token["tokenValue"], {**token, "expiresAt": 0})
        return len(tokens)

    def require(self, request: Request) -> str:
        """The user behind an integration call's ``AnaplanAuthToken``; 401 otherwise."""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = self.valid(value.strip()) if scheme == "AnaplanAuthToken" else None
        if token is None:
            self.counts["refused"] += 1
            raise AnaplanError(401, "Unauthorized: invalid, expired or missing AnaplanAuthToken")
        return str(token["user"])

    def _expiry(self) -> int:
        return int((time.time() + self.settings().token_ttl_seconds) * 1000)


def _token_info(token: dict[str, Any]) -> dict[str, Any]:
    keys = ("tokenValue", "expiresAt", "tokenId", "refreshTokenId")
    return {k: token[k] for k in keys}


def _success(token: dict[str, Any], message: str, status: int) -> JSONResponse:
    body = {
        "tokenInfo": _token_info(token),
        "status": "SUCCESS",
        "statusMessage": message,
        "meta": {"validationUrl": VALIDATION_URL},
    }
    return JSONResponse(body, status_code=status)


def _basic_user(request: Request, users: dict[str, str]) -> str:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise AuthError(401, "FAILURE_BAD_HEADER", "Invalid header. Verify the header.")
    try:
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise AuthError(401, "FAILURE_BAD_HEADER", "Invalid header. Verify the header.") from exc
    if user not in users or not secrets.compare_digest(users[user], password):
        raise AuthError(
            401, "FAILURE_BAD_CREDENTIAL", "Invalid credentials. Verify your credentials."
        )
    return user


def _bearer_token(request: Request, service: AuthService) -> dict[str, Any]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme != "AnaplanAuthToken" or not value.strip():
        raise AuthError(400, "FAILURE_BAD_HEADER", "Invalid header. Verify the header.")
    token = service.valid(value.strip())
    if token is None:
        raise AuthError(401, "FAILURE_BAD_CREDENTIAL", "Invalid or expired token.")
    return token


def router(service: AuthService) -> APIRouter:
    api = APIRouter()

    @api.post("/token/authenticate")
    def authenticate(request: Request) -> Response:
        return _success(service.issue(_basic_user(request, service.users)), "Login successful", 201)

    @api.post("/token/refresh")
    def refresh(request: Request) -> Response:
        token = service.refresh(_bearer_token(request, service))
        return _success(token, "Token refreshed", 200)

    @api.get("/token/validate")
    def validate(request: Request) -> Response:
        token = _bearer_token(request, service)
        body = {
            "tokenInfo": {"expiresAt": token["expiresAt"], "tokenId": token["tokenId"]},
            "userInfo": {
                "userGuid": uuid.uuid5(_GUIDS, token["user"]).hex,
                "userId": token["user"],
                "customerGuid": CUSTOMER_GUID,
            },
            "status": "SUCCESS",
            "statusMessage": "Token validated",
            "meta": {"validationUrl": VALIDATION_URL},
        }
        return JSONResponse(body)

    @api.post("/token/logout")
    def logout(request: Request) -> Response:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme != "AnaplanAuthToken" or service.valid(value.strip()) is None:
            raise AuthError(401, "FAILURE_BAD_CREDENTIAL", "Invalid or expired token.")
        service.state.delete(TOKENS, value.strip())
        return Response(status_code=204)

    return api
