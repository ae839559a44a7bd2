"""OAuth 2.0 token endpoint and bearer-session checks, as Salesforce answers them.

``POST /services/oauth2/token`` (form-encoded) follows "OAuth 2.0 Client Credentials Flow for
Server-to-Server Integration" and "OAuth 2.0 Username-Password Flow" of the Salesforce Help:
success is ``{access_token, instance_url, id, token_type: "Bearer", issued_at, signature}``
(``signature`` = Base64 HMAC-SHA256 of ``id + issued_at`` keyed by the client secret), failure is
``400 {"error": ..., "error_description": ...}``. Client credentials may come in the form or in
an HTTP Basic header. The password grant accepts any non-empty username and password once the
client is valid (the sandbox has one integration user).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs

from pshub.sandboxes.salesforce.schema import ORG_ID, USER_ID, SalesforceApiError


class OAuthError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


class Sessions:
    """Issued access tokens (in memory: a restart expires them, as a session timeout would)."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self._tokens: set[str] = set()
        self._lock = threading.Lock()

    def token(
        self, form_body: bytes, authorization: str | None, instance_url: str
    ) -> dict[str, Any]:
        form = {k: v[0] for k, v in parse_qs(form_body.decode("utf-8", "replace")).items()}
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        client_id, client_secret = _client(form, authorization)
        if grant not in ("client_credentials", "password"):
            raise OAuthError("unsupported_grant_type", "grant type not supported")
        if not (
            hmac.compare_digest(client_id, self.client_id)
            and hmac.compare_digest(client_secret, self.client_secret)
        ):
            raise OAuthError("invalid_client", "invalid client credentials")
        if grant == "password" and not (form.get("username") and form.get("password")):
            raise OAuthError("invalid_grant", "authentication failure")
        return self._issue(instance_url)

    def _issue(self, instance_url: str) -> dict[str, Any]:
        access = f"{ORG_ID}!AR{secrets.token_urlsafe(48)}"
        with self._lock:
            self._tokens.add(access)
        identity = f"{instance_url}/id/{ORG_ID}/{USER_ID}"
        issued = str(int(time.time() * 1000))
        mac = hmac.new(self.client_secret.encode(), (identity + issued).encode(), hashlib.sha256)
        return {
            "access_token": access,
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued,
            "signature": base64.b64encode(mac.digest()).decode(),
        }

    def check(self, authorization: str | None) -> None:
        """Raise 401 INVALID_SESSION_ID unless the header carries a live bearer token."""
        scheme, _, token = (authorization or "").partition(" ")
        with self._lock:
            valid = scheme.lower() in ("bearer", "oauth") and token in self._tokens
        if not valid:
            raise SalesforceApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")

    def expire_all(self) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
        return count


def _client(form: dict[str, str], authorization: str | None) -> tuple[str, str]:
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:]).decode()
        except (ValueError, UnicodeDecodeError) as exc:
            raise OAuthError("invalid_client", "invalid client credentials") from exc
        client_id, _, client_secret = decoded.partition(":")
        return client_id, client_secret
    return form.get("client_id", ""), form.get("client_secret", "")
